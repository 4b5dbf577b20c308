using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;
using SketchService.Api.Sketches;
using SketchService.Core.Latent;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Endpoints;

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

public static class InterpolateEndpoints
{
    public static IEndpointRouteBuilder MapInterpolateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/interpolate", Interpolate)
            .WithName("Interpolate").WithTags("Latent")
            .WithSummary("Interpolate between two sketches or z's and decode each frame (VAE models).")
            .WithExample("""{"from":{"strokes":[[0,0,0],[40,0,0],[0,40,0],[-40,0,0],[0,-40,1]]},"to":{"strokes":[[0,0,0],[30,40,0],[30,-40,1]]},"n":5,"method":"slerp","temperature":0.1,"seed":3,"max_steps":120}""")
            .Produces<InterpolateResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
        return app;
    }

    private static async Task<IResult> Interpolate(InterpolateRequest request, [FromQuery, Description("json (default), svg or png")] string? format,
        [AsParameters] SketchServices services, CancellationToken ct)
    {
        using var deadline = services.Limits.Deadline(ct);
        ct = deadline.Token;
        var (limits, log) = (services.Limits, services.Log);
        var model = services.Models.Get(request.Model);
        log.ModelId = model.Id;
        SketchResults.Parse(format);
        model.RequireEncoder("interpolate in latent space");
        var n = request.N ?? 5;
        var maxFrames = Math.Min(limits.Options.MaxSamples, limits.Options.MaxLiveRows);
        if (n < 2 || n > maxFrames) throw ApiProblem.Invalid("n", $"must be between 2 and {maxFrames}; got {n}");
        var mode = (request.Method ?? "slerp").ToLowerInvariant() switch
        {
            "slerp" => InterpolationMode.Spherical,
            "lerp" => InterpolationMode.Linear,
            var m => throw ApiProblem.Invalid("method", $"must be slerp or lerp; got '{m}'"),
        };
        var temperature = limits.Temperature(request.Temperature);
        var steps = limits.Steps(request.MaxSteps);
        var seed = Limits.Seed(request.Seed);
        limits.Cost(model.Id, n, 0, steps);
        var ends = await LatentOperand.Resolve([("from", request.From), ("to", request.To)], model, limits.Options, ct);
        var zs = LatentMath.Interpolate(ends[0].Z, ends[1].Z, n, mode);

        var result = await model.DecodeAsync(new DecodeOptions { Samples = n, Temperature = (float)temperature, Seed = seed, MaxSteps = steps, Z = zs }, ct);
        log.Record(result);
        var sketches = SketchResults.From(result, SketchSpace.Training(model.Manifest));
        var frames = zs.Select((z, i) => new InterpolationFrame((double)i / (n - 1), z, sketches[i])).ToList();
        var response = new InterpolateResponse(model.Id, mode == InterpolationMode.Spherical ? "slerp" : "lerp", seed, temperature, frames, DecodeStats.From(result));
        return SketchResults.Respond(response, format, () => [.. frames.Select(f => f.Sketch.ToStroke3())], ct,
            () => [.. frames.Select(f => $"t = {f.T:0.##}")]);
    }
}
