using System.ComponentModel;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
using SketchService.Api.Responses;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Features.Complete;

/// <summary>
/// POST /complete: the request policy makes one draw for the model's scheduler — the sketch as prefix, z given, found
/// from the prefix by the scheduler's encoder lane before the rows start (its encoding, or the data prior's candidate
/// it makes most likely) or none — and its points go out
/// as Server-Sent Events as the batch samples them, or whole as JSON, SVG or PNG.
/// </summary>
public static class CompleteEndpoints
{
    public static IEndpointRouteBuilder MapCompleteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/complete", Complete)
            .WithName("Complete").WithTags("Sketches")
            .WithSummary("Continue a partial sketch.")
            .WithDescription("""
                Primes the decoder over the given strokes, then samples a continuation server-side.
                Response: Server-Sent Events by default (Accept: text/event-stream, */* or none) — `event: step` per sampled point
                (data: sample, step, dx, dy, x, y, pen) and a final `event: done` whose data is the JSON response, or
                `event: error` with a ProblemDetails if decoding stops after the stream started; plain JSON for
                Accept: application/json; a drawing with ?format=svg|png or Accept: image/svg+xml | image/png.
                A client that disconnects stops the decoding within one step.
                """)
            .WithExample("""{"sketch":{"strokes":[[0,0,0],[20,5,0],[25,-5,0],[10,20,1]]},"samples":1,"temperature":0.5,"seed":42,"max_steps":100}""")
            .Produces<CompleteResponse>(200, "text/event-stream", "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        return app;
    }

    private static async Task<Results<EventStreamResult, Ok<CompleteResponse>, ContentHttpResult, FileContentHttpResult>> Complete(
        CompleteRequest request, [FromQuery, Description("json, svg or png; default: an event stream (see Accept)")] string? format,
        RequestPolicy policy, RequestLog log, IOptions<SketchServiceOptions> settings, ILogger<CompleteRequest> logger, HttpContext http)
    {
        var plan = Plan(request, format, policy, http);
        if (plan.Output != OutputFormat.EventStream)
        {
            var result = await plan.Model.Scheduler.Draw(plan.Decode, plan.Deadline, cancellationToken: http.RequestAborted, caller: Callers.Of(http)).Result;
            log.Record(result);
            var response = plan.Response(result);
            return SketchResults.Respond(response, plan.Output, () => [.. response.Sketches.Select(s => s.ToStroke3())], http.RequestAborted, given: plan.Prefix.Length).Result switch
            {
                Ok<CompleteResponse> json => json,
                ContentHttpResult svg => svg,
                var png => (FileContentHttpResult)png,
            };
        }
        // The draw is queued before the stream starts, so that a full model answers 429 as a status, not as an event;
        // it stops when the client goes or the stream ends, whichever comes first.
        var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        DecodeRun run;
        try { run = plan.Model.Scheduler.Draw(plan.Decode, plan.Deadline, stream: true, stop.Token, Callers.Of(http)); }
        catch { stop.Dispose(); throw; }
        return new EventStreamResult(Events(run, plan, log, logger), stop, TimeSpan.FromMilliseconds(settings.Value.StreamFlushIntervalMs), run.Steps.Completion);
    }

    /// <summary>The request after the rules: the draw for the scheduler and what the answer needs.</summary>
    private sealed record CompletePlan(Runtime.Models.ServedModel Model, DecodeOptions Decode, Runtime.Deadline Deadline, OutputFormat Output,
        string Condition, double Temperature, StrokePoint[] Prefix, SketchSpace Space)
    {
        public CompleteResponse Response(DecodeResult r) => new(Model.Id, Condition, r.Z?[0], r.Seed, Temperature, Prefix.Length,
            SketchResults.From(r, Space.ToOutput, Prefix), DecodeStats.From(r));
    }

    private static CompletePlan Plan(CompleteRequest request, string? format, RequestPolicy policy, HttpContext http)
    {
        var deadline = policy.Deadline;
        var model = policy.Model(request.Model);
        var (prefix, space) = policy.Sketch(request.Sketch, model, "sketch", partial: true);
        var samples = policy.Samples(request.Samples);
        var temperature = policy.Temperature(request.Temperature);
        var steps = policy.Steps(request.MaxSteps);
        var output = RequestPolicy.Format(format, http.Request, streams: true);
        RequestPolicy.Picture(output, samples);
        static int CandidatesOf(string condition) => condition == "prior" ? LatentSelection.Candidates : 0;
        WorkCost CostOf(string condition) =>
            WorkCost.Draw(samples, prefix.Length, steps, encodePrefix: condition == "encoding", candidates: CandidatesOf(condition));
        var (condition, z) = RequestPolicy.Condition(request.Condition, request.Z, model, CostOf);
        var candidates = CandidatesOf(condition);
        policy.Cost(model, CostOf(condition), samples, prefix.Length, "sketch", candidates);
        var seed = RequestPolicy.Seed(request.Seed);
        var decode = new DecodeOptions
        {
            Samples = samples, Temperature = (float)temperature, MaxSteps = steps, Seed = seed,
            Z = z is null ? null : [z], Prefix = prefix, ZFromPrefix = condition == "encoding",
            ZCandidates = candidates > 0 ? LatentSelection.Draw(model.Model, seed) : null,
        };
        return new CompletePlan(model, decode, deadline, output, condition, temperature, prefix, space);
    }

    /// <summary>An <c>event: step</c> per point as the batch samples it, then <c>event: done</c> with the whole response, or <c>event: error</c>.</summary>
    private static async IAsyncEnumerable<IReadOnlyList<SseItem<object>>> Events(DecodeRun run, CompletePlan plan, RequestLog log, ILogger logger,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var steps = run.Steps;
        while (await More(steps, ct))
        {
            // Every step decoded since the last look, as one batch: one wake-up per batch, not per point.
            var ready = new List<SseItem<object>>();
            while (steps.TryRead(out var step))
                foreach (var p in step.Points)
                {
                    var (dx, dy) = plan.Space.Scale(p.Dx, p.Dy);
                    var (x, y) = plan.Space.Position(p.X, p.Y);
                    ready.Add(new(new StepEvent(p.Sample, step.Index, dx, dy, x, y, p.Pen switch { PenState.Down => "down", PenState.Up => "up", _ => "end" }), "step"));
                }
            yield return ready;
        }
        DecodeResult? result = null;
        ProblemDetails? problem = null;
        try
        {
            result = await run.Result;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            yield break; // the client left: nothing to say
        }
        catch (Exception e)
        {
            log.Failure = e.Message;
            problem = ApiProblemHandler.DecodingStopped(e);
            if (problem is null) logger.LogError(e, "Decoding failed mid-stream");
            else logger.LogWarning("Stream stopped: {Reason}", e.Message);
            problem ??= new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Decoding failed", Detail = $"decoding failed after the stream started: {e.Message}" };
        }
        if (result is not null)
        {
            log.Record(result);
            yield return [new(plan.Response(result), "done")];
        }
        else yield return [new(problem!, "error")];
    }

    /// <summary>Waits for more steps; false when the run is over (completed, failed or cancelled: its result says how).</summary>
    private static async ValueTask<bool> More(ChannelReader<DecodeStep> steps, CancellationToken ct)
    {
        try { return await steps.WaitToReadAsync(ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception) { return false; }
    }
}

public sealed record CompleteRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("The partial sketch to continue.")]
    public SketchInput? Sketch { get; init; }
    [Description("auto (default: z if given; else for a VAE prior where it has a data prior, else encoding; none for a decoder-only model), z, encoding (the sketch's own encoding), prior (of 16 draws from the data prior, the z that makes the sketch most likely), or none.")]
    public string? Condition { get; init; }
    [Description("Latent vector to condition on (condition z).")]
    public float[]? Z { get; init; }
    [Description("How many continuations to draw in one batched run (default 1).")]
    public int? Samples { get; init; }
    [Description("Sampling temperature τ ≥ 0: σ² × τ, pen and π logits ÷ max(τ, 0.75); 0 is greedy.")]
    public double? Temperature { get; init; }
    [Description("Random seed; the same seed, model and request give the same sketches. Default: random (returned).")]
    public int? Seed { get; init; }
    [Description("Most decoder steps to sample after the given strokes.")]
    public int? MaxSteps { get; init; }
}

public sealed record CompleteResponse(
    string Model,
    [property: Description("The conditioning used: z, encoding, prior or none.")] string Condition,
    [property: Description("The latent z the decoder was conditioned on (null for none).")] float[]? Z,
    int Seed,
    double Temperature,
    [property: Description("Points of the given sketch at the start of each result; the rest is the continuation.")] int PrefixPoints,
    [property: Description("Each sample: the whole sketch (given strokes + continuation) in the caller's scale.")] IReadOnlyList<SketchResult> Sketches,
    DecodeStats Stats);

/// <summary>One streamed point (<c>event: step</c>) in the caller's coordinates.</summary>
public sealed record StepEvent(int Sample, int Step, float Dx, float Dy, float X, float Y,
    [property: Description("down, up (pen lifts after this point) or end (end of sketch; not part of the drawing).")] string Pen);
