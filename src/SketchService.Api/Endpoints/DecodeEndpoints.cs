using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Models;
using SketchService.Api.Sketches;
using SketchService.Inference.Latent;

namespace SketchService.Api.Endpoints;

public sealed record DecodeRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("Latent vector (the model's latent_size numbers).")]
    public float[]? Z { get; init; }
    [Description("How many sketches to draw from this z in one batched run (default 1).")]
    public int? Samples { get; init; }
    [Description("Sampling temperature τ ≥ 0; 0 is greedy.")]
    public double? Temperature { get; init; }
    public int? Seed { get; init; }
    public int? MaxSteps { get; init; }
}

public sealed record GenerateRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("How many sketches (default 1). VAE: each from its own z ~ N(0, I); decoder-only: unconditional.")]
    public int? Samples { get; init; }
    [Description("Sampling temperature τ ≥ 0; 0 is greedy.")]
    public double? Temperature { get; init; }
    public int? Seed { get; init; }
    public int? MaxSteps { get; init; }
}

public sealed record DecodeResponse(string Model, int Seed, double Temperature,
    [property: Description("The z of each sketch (null entries for decoder-only models).")] IReadOnlyList<float[]?> Z,
    [property: Description("Sketches in the model's training pixel space.")] IReadOnlyList<SketchResult> Sketches,
    DecodeStats Stats);

public static class DecodeEndpoints
{
    public static IEndpointRouteBuilder MapDecodeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/decode", Decode)
            .WithName("Decode").WithTags("Sketches")
            .WithSummary("Decode a latent z to sketches (VAE models).")
            .WithExample("""{"z":"$z","samples":2,"temperature":0.3,"seed":7,"max_steps":150}""")
            .Produces<DecodeResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
        app.MapPost("/generate", Generate)
            .WithName("Generate").WithTags("Sketches")
            .WithSummary("Draw new sketches: z from the standard-normal prior (VAE) or unconditionally (decoder-only).")
            .WithExample("""{"samples":3,"temperature":0.5,"seed":1,"max_steps":200}""")
            .Produces<DecodeResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404);
        return app;
    }

    private static async Task<IResult> Decode(DecodeRequest request, [FromQuery, Description("json (default), svg or png")] string? format,
        ModelCatalog models, SketchEngine engine, Limits limits, RequestLog log, CancellationToken ct)
    {
        var model = models.Get(request.Model);
        log.ModelId = model.Id;
        SketchResults.Parse(format);
        model.RequireEncoder("decode a z (a decoder-only model is not conditioned on z; use /generate)");
        var z = Limits.Latent(request.Z, model.Manifest.LatentSize, "z");
        var samples = limits.Samples(request.Samples);
        var job = new DecodeJob(null, [z], samples, limits.Temperature(request.Temperature), Limits.Seed(request.Seed), limits.Steps(request.MaxSteps));
        return await Run(model, job, Enumerable.Repeat<float[]?>(z, samples).ToList(), format, engine, log, ct);
    }

    private static async Task<IResult> Generate(GenerateRequest request, [FromQuery, Description("json (default), svg or png")] string? format,
        ModelCatalog models, SketchEngine engine, Limits limits, RequestLog log, CancellationToken ct)
    {
        var model = models.Get(request.Model);
        log.ModelId = model.Id;
        SketchResults.Parse(format);
        var samples = limits.Samples(request.Samples);
        var seed = Limits.Seed(request.Seed);
        var rng = new Random(seed);
        List<float[]?> zs = model.HasEncoder
            ? [.. Enumerable.Range(0, samples).Select(_ => LatentMath.SamplePrior(model.Manifest.LatentSize, rng))]
            : [.. Enumerable.Repeat<float[]?>(null, samples)];
        var job = new DecodeJob(null, model.HasEncoder ? [.. zs.Select(z => z!)] : null, samples, limits.Temperature(request.Temperature), seed, limits.Steps(request.MaxSteps));
        return await Run(model, job, zs, format, engine, log, ct);
    }

    internal static async Task<IResult> Run(LoadedModel model, DecodeJob job, IReadOnlyList<float[]?> zs, string? format, SketchEngine engine, RequestLog log, CancellationToken ct)
    {
        var outcome = await engine.DecodeAsync(model, job, null, ct);
        log.Record(outcome);
        var space = SketchSpace.Training(model.Manifest);
        var sketches = outcome.Generated.Select((g, i) => SketchResult.From(space.ToOutput(g), outcome.Steps[i], outcome.Ended[i])).ToList();
        var response = new DecodeResponse(model.Id, job.Seed, job.Temperature, zs, sketches, DecodeStats.From(outcome));
        return SketchResults.Respond(response, format, () => [.. sketches.Select(s => s.ToStroke3())]);
    }
}
