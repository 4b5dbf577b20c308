using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;
using SketchService.Api.Sketches;
using SketchService.Core.Latent;
using SketchService.Runtime.Decoding;

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
        [AsParameters] SketchServices services, CancellationToken ct)
    {
        using var deadline = services.Limits.Deadline(ct);
        ct = deadline.Token;
        var model = services.Models.Get(request.Model);
        services.Log.ModelId = model.Id;
        SketchResults.Parse(format);
        model.RequireEncoder("decode a z (a decoder-only model is not conditioned on z; use /generate)");
        var z = Limits.Latent(request.Z, model.Manifest.LatentSize, "z");
        var samples = services.Limits.Samples(request.Samples);
        return await Run(model, samples, [z], request.Temperature, request.Seed, request.MaxSteps, format, services, ct);
    }

    private static async Task<IResult> Generate(GenerateRequest request, [FromQuery, Description("json (default), svg or png")] string? format,
        [AsParameters] SketchServices services, CancellationToken ct)
    {
        using var deadline = services.Limits.Deadline(ct);
        ct = deadline.Token;
        var model = services.Models.Get(request.Model);
        services.Log.ModelId = model.Id;
        SketchResults.Parse(format);
        var samples = services.Limits.Samples(request.Samples);
        var seed = Limits.Seed(request.Seed);
        var rng = new Random(seed);
        float[][]? zs = model.IsVae ? [.. Enumerable.Range(0, samples).Select(_ => LatentMath.SamplePrior(model.Manifest.LatentSize, rng))] : null;
        return await Run(model, samples, zs, request.Temperature, seed, request.MaxSteps, format, services, ct);
    }

    /// <summary>Decodes from one z shared by every sample, one z per sample, or none (decoder-only), and answers.</summary>
    private static async Task<IResult> Run(LoadedModel model, int samples, float[][]? z, double? temperature, int? seed, int? maxSteps,
        string? format, SketchServices services, CancellationToken ct)
    {
        var limits = services.Limits;
        var options = new DecodeOptions
        {
            Samples = samples, Temperature = (float)limits.Temperature(temperature), Seed = Limits.Seed(seed), MaxSteps = limits.Steps(maxSteps), Z = z,
        };
        limits.Cost(model.Id, samples, 0, options.MaxSteps!.Value);
        var result = await model.DecodeAsync(options, ct);
        services.Log.Record(result);
        var sketches = SketchResults.From(result, SketchSpace.Training(model.Manifest));
        IReadOnlyList<float[]?> zs = [.. Enumerable.Range(0, samples).Select(i => z?[z.Length == samples ? i : 0])];
        var response = new DecodeResponse(model.Id, result.Seed, options.Temperature, zs, sketches, DecodeStats.From(result));
        return SketchResults.Respond(response, format, () => [.. sketches.Select(s => s.ToStroke3())], ct);
    }
}
