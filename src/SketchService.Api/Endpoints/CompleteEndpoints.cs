using System.ComponentModel;
using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using SketchService.Api.Infrastructure;
using SketchService.Api.Models;
using SketchService.Api.Sketches;
using SketchService.Inference.Runtime;
using SketchService.Inference.Strokes;

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

public sealed record DecodeStats(
    [property: Description("Decoder steps run for the batch (the longest sample).")] int Steps,
    [property: Description("Wall time of priming + sampling in ms.")] double DurationMs,
    [property: Description("How many samples ended by themselves before max_steps.")] int EndedByThemselves,
    int Samples)
{
    public static DecodeStats From(DecodeOutcome o) =>
        new(o.Steps.DefaultIfEmpty(0).Max(), Math.Round(o.Duration.TotalMilliseconds, 2), o.Ended.Count(e => e), o.Ended.Length);
}

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
        HttpContext http, ModelCatalog models, SketchEngine engine, Limits limits, RequestLog log, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var model = models.Get(request.Model);
        log.ModelId = model.Id;
        var kind = SketchResults.Parse(format);
        var (prefix, space) = SketchSpace.Read(request.Sketch, model.Manifest, limits.Options.MaxPoints, "sketch");
        var samples = limits.Samples(request.Samples);
        var temperature = limits.Temperature(request.Temperature);
        var steps = limits.Steps(request.MaxSteps);
        var seed = Limits.Seed(request.Seed);
        var condition = (request.Condition ?? "auto").ToLowerInvariant() switch
        {
            "auto" => request.Z is not null ? "z" : model.HasEncoder ? "encoding" : "none",
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
                z = engine.Encode(model, [prefix])[0].Mu;
                break;
            default:
                if (model.HasEncoder) throw ApiProblem.Unprocessable($"model '{model.Id}' is a VAE: its decoder is always conditioned on a z; use condition z or encoding");
                if (request.Z is not null) throw ApiProblem.Invalid("z", "is only used with condition z");
                break;
        }
        var job = new DecodeJob(prefix, z is null ? null : [z], samples, temperature, seed, steps);
        log.Samples = samples;

        CompleteResponse Response(DecodeOutcome o) => new(model.Id, condition, z, seed, temperature, prefix.Length,
            [.. o.Generated.Select((g, i) => SketchResult.From(space.ToOutput([.. prefix, .. g]), o.Steps[i], o.Ended[i]))], DecodeStats.From(o));

        var accept = http.Request.Headers.Accept.ToString();
        var stream = kind == "json" && (accept.Length == 0 || accept.Contains("text/event-stream") || !accept.Contains("application/json"));
        if (!stream)
        {
            var outcome = await engine.DecodeAsync(model, job, null, http.RequestAborted);
            log.Record(outcome);
            var response = Response(outcome);
            return SketchResults.Respond(response, format, () => [.. response.Sketches.Select(s => s.ToStroke3())]);
        }

        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(Events(model, job, prefix, space, Response, log, json.Value.SerializerOptions, engine, http.RequestAborted));
    }

    /// <summary>step events as the decoder produces them (bridged from its thread by a channel), then done (or error).</summary>
    private static async IAsyncEnumerable<SseItem<string>> Events(LoadedModel model, DecodeJob job, StrokePoint[] prefix, SketchSpace space,
        Func<DecodeOutcome, CompleteResponse> response, RequestLog log, JsonSerializerOptions options, SketchEngine engine,
        [EnumeratorCancellation] CancellationToken ct)
    {
        // Decoding stops when the client goes (ct = RequestAborted) and also whenever this stream stops being read
        // (a failed write, the result disposing the enumerator), whichever Kestrel notices first.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            await foreach (var item in Stream(model, job, prefix, space, response, log, options, engine, stop.Token))
                yield return item;
        }
        finally
        {
            stop.Cancel();
        }
    }

    private static async IAsyncEnumerable<SseItem<string>> Stream(LoadedModel model, DecodeJob job, StrokePoint[] prefix, SketchSpace space,
        Func<DecodeOutcome, CompleteResponse> response, RequestLog log, JsonSerializerOptions options, SketchEngine engine,
        [EnumeratorCancellation] CancellationToken ct)
    {
        // Bounded: a client that reads slowly slows its own decoding instead of queueing steps in memory.
        var channel = Channel.CreateBounded<DecodeStep>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        var decoding = engine.DecodeAsync(model, job, s =>
            {
                if (!channel.Writer.TryWrite(s)) channel.Writer.WriteAsync(s, ct).AsTask().GetAwaiter().GetResult();
            }, ct)
            .ContinueWith(t => { channel.Writer.TryComplete(t.Exception?.InnerException); return t; }, TaskScheduler.Default).Unwrap();

        // Absolute position of each sample's pen in model space, starting where the given strokes end.
        float startX = 0, startY = 0;
        foreach (var p in prefix) { startX += p.Dx; startY += p.Dy; }
        var x = Enumerable.Repeat(startX, job.Samples).ToArray();
        var y = Enumerable.Repeat(startY, job.Samples).ToArray();

        await foreach (var step in ReadAll(channel.Reader, ct))
        {
            foreach (var p in step.Points)
            {
                var i = p.Sample;
                var (dx, dy) = space.Scale(p.Dx, p.Dy);
                if (p.Pen != PenState.End) { x[i] += p.Dx; y[i] += p.Dy; }
                var (ax, ay) = space.Position(x[i], y[i]);
                var data = new StepEvent(i, step.Index, dx, dy, ax, ay, p.Pen switch { PenState.Down => "down", PenState.Up => "up", _ => "end" });
                yield return new SseItem<string>(JsonSerializer.Serialize(data, options), "step");
            }
        }

        DecodeOutcome? outcome = null;
        string? error = null;
        try { outcome = await decoding; }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { yield break; }
        catch (Exception e) { error = e is ApiProblem ap ? ap.Message : "decoding failed; see the server log"; }
        if (outcome is null)
        {
            yield return new SseItem<string>(JsonSerializer.Serialize(new ProblemDetails { Status = 500, Title = "Decoding failed", Detail = error }, options), "error");
            yield break;
        }
        log.Record(outcome);
        yield return new SseItem<string>(JsonSerializer.Serialize(response(outcome), options), "done");
    }

    /// <summary>Reads a channel to its end; a faulted channel ends the loop quietly (the fault is reported from the decoding task).</summary>
    private static async IAsyncEnumerable<T> ReadAll<T>(ChannelReader<T> reader, [EnumeratorCancellation] CancellationToken ct)
    {
        while (true)
        {
            bool more;
            try { more = await reader.WaitToReadAsync(ct); }
            catch (OperationCanceledException) { yield break; }
            catch (Exception) { yield break; }
            if (!more) yield break;
            while (reader.TryRead(out var item)) yield return item;
        }
    }
}
