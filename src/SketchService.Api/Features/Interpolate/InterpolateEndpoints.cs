using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
using SketchService.Api.Responses;
using SketchService.Core.Latent;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Features.Interpolate;

public static class InterpolateEndpoints
{
    public static IEndpointRouteBuilder MapInterpolateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/interpolate", Interpolate)
            .WithName("Interpolate").WithTags("Latent")
            .WithSummary("Interpolate between two sketches or z's and decode each frame (VAE models).")
            .WithExample("""{"from":{"strokes":[[0,0,0],[40,0,0],[0,40,0],[-40,0,0],[0,-40,1]]},"to":{"strokes":[[0,0,0],[30,40,0],[30,-40,1]]},"n":5,"method":"slerp","temperature":0.1,"seed":3,"max_steps":120}""")
            .Produces<InterpolateResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        return app;
    }

    private static async Task<Results<Ok<InterpolateResponse>, ContentHttpResult, FileContentHttpResult>> Interpolate(InterpolateRequest request,
        [FromQuery, Description("json (default), svg or png")] string? format, RequestPolicy policy, RequestLog log, HttpContext http)
    {
        var deadline = policy.Deadline;
        var model = policy.Model(request.Model);
        var output = RequestPolicy.Format(format, http.Request);
        RequestPolicy.RequireEncoder(model, "interpolate in latent space");
        var n = policy.Frames(request.N);
        RequestPolicy.Picture(output, n);
        var (method, mode) = RequestPolicy.Method(request.Method);
        var temperature = policy.Temperature(request.Temperature);
        var steps = policy.Steps(request.MaxSteps);
        var seed = RequestPolicy.Seed(request.Seed);
        var ends = policy.Operands([("from", request.From), ("to", request.To)], model);
        var given = ends.Where(e => e.Sketch is not null).ToList();
        var longest = given.MaxBy(e => e.Sketch!.Length)?.Field ?? "from"; // the one to shorten, should the sketches be over the cost limit
        policy.Cost(model, WorkCost.Encode(given.Select(e => e.Sketch!.Length)) + WorkCost.Draw(n, 0, steps), n, 0, longest, samplesField: "n");

        var z = await Operands.EncodeAsync(ends, model, deadline, http.RequestAborted, Callers.Of(http));
        var zs = LatentMath.Interpolate(z[0], z[1], n, mode);
        var result = await model.Scheduler.Draw(new DecodeOptions { Samples = n, Temperature = (float)temperature, Seed = seed, MaxSteps = steps, Z = zs },
            deadline, cancellationToken: http.RequestAborted, caller: Callers.Of(http)).Result;
        log.Record(result);
        var sketches = SketchResults.From(result, SketchSpace.Training(model.Model.Manifest).ToOutput);
        var frames = zs.Select((f, i) => new InterpolationFrame((double)i / (n - 1), f, sketches[i])).ToList();
        var response = new InterpolateResponse(model.Id, method, seed, temperature, frames, DecodeStats.From(result));
        return SketchResults.Respond(response, output, () => [.. frames.Select(f => f.Sketch.ToStroke3())], http.RequestAborted,
            () => [.. frames.Select(f => $"t = {f.T:0.##}")]);
    }
}

public sealed record InterpolateRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("Start: a z or a sketch (encoded to its posterior mean).")]
    public LatentOperand? From { get; init; }
    [Description("End: a z or a sketch.")]
    public LatentOperand? To { get; init; }
    [Description("Number of frames including both ends (default 5).")]
    public int? N { get; init; }
    [Description("slerp (default, great circle as Magenta) or lerp.")]
    public string? Method { get; init; }
    [Description("Sampling temperature τ ≥ 0; 0 is greedy.")]
    public double? Temperature { get; init; }
    public int? Seed { get; init; }
    public int? MaxSteps { get; init; }
}

public sealed record InterpolationFrame(double T, float[] Z, SketchResult Sketch);

public sealed record InterpolateResponse(string Model, string Method, int Seed, double Temperature, IReadOnlyList<InterpolationFrame> Frames, DecodeStats Stats);
