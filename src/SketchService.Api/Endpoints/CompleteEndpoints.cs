using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;
using SketchService.Api.Sketches;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Endpoints;

public sealed record CompleteRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("The partial sketch to continue.")]
    public SketchInput? Sketch { get; init; }
    [Description("auto (default: z if given, else the encoding of the sketch for VAE models, else none), z, encoding, or none (decoder-only models).")]
    public string? Condition { get; init; }
    [Description("Latent vector to condition on (condition z).")]
    public float[]? Z { get; init; }
    [Description("How many continuations to draw in one batched run (default 1).")]
    public int? Samples { get; init; }
    [Description("Sampling temperature τ ≥ 0: π and pen logits ÷ τ, σ² × τ; 0 is greedy.")]
    public double? Temperature { get; init; }
    [Description("Random seed; the same seed, model and request give the same sketches. Default: random (returned).")]
    public int? Seed { get; init; }
    [Description("Most decoder steps to sample after the given strokes.")]
    public int? MaxSteps { get; init; }
}

public sealed record CompleteResponse(
    string Model,
    [property: Description("The conditioning used: z, encoding or none.")] string Condition,
    [property: Description("The latent z the decoder was conditioned on (null for none).")] float[]? Z,
    int Seed,
    double Temperature,
    [property: Description("Points of the given sketch at the start of each result; the rest is the continuation.")] int PrefixPoints,
    [property: Description("Each sample: the whole sketch (given strokes + continuation) in the caller's scale.")] IReadOnlyList<SketchResult> Sketches,
    DecodeStats Stats);

/// <summary>One streamed point (<c>event: step</c>) in the caller's coordinates.</summary>
public sealed record StepEvent(int Sample, int Step, float Dx, float Dy, float X, float Y,
    [property: Description("down, up (pen lifts after this point) or end (end of sketch; not part of the drawing).")] string Pen);

public static class CompleteEndpoints
{
    public static IEndpointRouteBuilder MapCompleteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/complete", Complete)
            .WithName("Complete").WithTags("Sketches")
            .WithSummary("Continue a partial sketch.")
            .WithDescription("""
                Primes the decoder over the given strokes, then samples a continuation server-side.
                Response: Server-Sent Events by default (Accept: text/event-stream or none) — `event: step` per sampled point
                (data: sample, step, dx, dy, x, y, pen) and a final `event: done` whose data is the JSON response;
                plain JSON when the client sends Accept: application/json; a drawing with ?format=svg|png.
                A client that disconnects stops the decoding within one step.
                """)
            .WithExample("""{"sketch":{"strokes":[[0,0,0],[20,5,0],[25,-5,0],[10,20,1]]},"samples":1,"temperature":0.5,"seed":42,"max_steps":100}""")
            .Produces<CompleteResponse>(200, "application/json", "text/event-stream", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
        return app;
    }

    private static async Task<IResult> Complete(CompleteRequest request, [FromQuery, Description("json (default), svg or png")] string? format,
        [AsParameters] SketchServices services, HttpContext http)
    {
        var (models, limits, log) = (services.Models, services.Limits, services.Log);
        using var deadline = limits.Deadline(http.RequestAborted);
        var ct = deadline.Token;
        var model = models.Get(request.Model);
        log.ModelId = model.Id;
        var kind = SketchResults.Parse(format);
        var (prefix, space) = SketchSpace.Read(request.Sketch, model.Manifest, limits.Options, "sketch", wholeDrawing: false);
        var samples = limits.Samples(request.Samples);
        var temperature = limits.Temperature(request.Temperature);
        var steps = limits.Steps(request.MaxSteps);
        var seed = Limits.Seed(request.Seed);
        limits.Cost(model.Id, samples, prefix.Length, steps);
        var condition = (request.Condition ?? "auto").ToLowerInvariant() switch
        {
            "auto" => request.Z is not null ? "z" : model.IsVae ? "encoding" : "none",
            var c when c is "z" or "encoding" or "none" => c,
            var c => throw ApiProblem.Invalid("condition", $"must be auto, z, encoding or none; got '{c}'"),
        };
        float[]? z = null;
        switch (condition)
        {
            case "z":
                model.RequireEncoder("condition on z");
                z = Limits.Latent(request.Z, model.Manifest.LatentSize, "z");
                break;
            case "encoding":
                model.RequireEncoder("condition on the encoding of the sketch");
                z = (await model.EncodeAsync([prefix], ct))[0].Mu;
                break;
            default:
                if (model.IsVae) throw ApiProblem.Unprocessable($"model '{model.Id}' is a VAE: its decoder is always conditioned on a z; use condition z or encoding");
                if (request.Z is not null) throw ApiProblem.Invalid("z", "is only used with condition z");
                break;
        }
        var options = new DecodeOptions
        {
            Samples = samples, Temperature = (float)temperature, MaxSteps = steps, Seed = seed, Z = z is null ? null : [z], Prefix = prefix,
        };
        log.Samples = samples;

        CompleteResponse Response(DecodeResult r) => new(model.Id, condition, z, seed, temperature, prefix.Length,
            SketchResults.From(r, space, prefix), DecodeStats.From(r));

        var accept = http.Request.Headers.Accept.ToString();
        var stream = kind == "json" && (accept.Length == 0 || accept.Contains("text/event-stream") || !accept.Contains("application/json"));
        if (!stream)
        {
            var result = await model.DecodeAsync(options, ct);
            log.Record(result);
            var response = Response(result);
            return SketchResults.Respond(response, format, () => [.. response.Sketches.Select(s => s.ToStroke3())], ct);
        }

        // Decoding stops when the client goes (RequestAborted) and also whenever the stream stops being read (a failed
        // write, the result disposing the enumerator), whichever Kestrel notices first. Submitting before the stream
        // starts lets a full model answer 429 as a status, not as an event.
        var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        DecodeRun run;
        try { run = model.Start(options, stream: true, stop.Token); }
        catch { stop.Dispose(); throw; }
        return new StepEventStream(run, stop, space, Response, log, services.Logger, services.Json.Value.SerializerOptions,
            TimeSpan.FromMilliseconds(limits.Options.StreamFlushIntervalMs));
    }
}
