using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
using SketchService.Api.Responses;
using SketchService.Core.Latent;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Features.Decode;

public static class DecodeEndpoints
{
    public static IEndpointRouteBuilder MapDecodeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/decode", Decode)
            .WithName("Decode").WithTags("Sketches")
            .WithSummary("Decode a latent z to sketches (VAE models).")
            .WithExample("""{"z":"$z","samples":2,"temperature":0.3,"seed":7,"max_steps":150}""")
            .Produces<DecodeResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        app.MapPost("/generate", Generate)
            .WithName("Generate").WithTags("Sketches")
            .WithSummary("Draw new sketches: z from the model's prior (VAE: the data prior when it has one, else N(0, I)) or unconditionally (decoder-only).")
            .WithExample("""{"samples":3,"temperature":0.5,"seed":1,"max_steps":200}""")
            .Produces<DecodeResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        return app;
    }

    private static Task<Results<Ok<DecodeResponse>, ContentHttpResult, FileContentHttpResult>> Decode(DecodeRequest request,
        [FromQuery, Description("json (default), svg or png")] string? format, RequestPolicy policy, RequestLog log, HttpContext http)
    {
        var model = policy.Model(request.Model);
        RequestPolicy.RequireEncoder(model, "decode a z (a decoder-only model is not conditioned on z; use /generate)");
        var z = RequestPolicy.Latent(request.Z, model, "z");
        return Draw(model, policy.Samples(request.Samples), _ => [z], request.Temperature, request.Seed, request.MaxSteps, format, policy, log, http, null);
    }

    private static Task<Results<Ok<DecodeResponse>, ContentHttpResult, FileContentHttpResult>> Generate(GenerateRequest request,
        [FromQuery, Description("json (default), svg or png")] string? format, RequestPolicy policy, RequestLog log, HttpContext http)
    {
        var model = policy.Model(request.Model);
        var samples = policy.Samples(request.Samples);
        var (name, data) = RequestPolicy.Prior(request.Prior, model);
        Func<int, float[][]?> prior = seed =>
        {
            var rng = Core.SeededRandom.Create(seed);
            return model.IsVae ? [.. Enumerable.Range(0, samples).Select(_ => data?.Sample(rng) ?? LatentMath.SamplePrior(model.Model.Manifest.LatentSize, rng))] : null;
        };
        return Draw(model, samples, prior, request.Temperature, request.Seed, request.MaxSteps, format, policy, log, http, name);
    }

    /// <summary>Draws from one z shared by every sample, one z per sample, or none (decoder-only), and answers.</summary>
    private static async Task<Results<Ok<DecodeResponse>, ContentHttpResult, FileContentHttpResult>> Draw(ServedModel model, int samples,
        Func<int, float[][]?> zFor, double? temperature, int? seed, int? maxSteps, string? format, RequestPolicy policy, RequestLog log, HttpContext http, string? prior)
    {
        var deadline = policy.Deadline;
        var output = RequestPolicy.Format(format, http.Request);
        RequestPolicy.Picture(output, samples);
        var tau = policy.Temperature(temperature);
        var steps = policy.Steps(maxSteps);
        var usedSeed = RequestPolicy.Seed(seed);
        policy.Cost(model, WorkCost.Draw(samples, 0, steps), samples, 0, "samples");
        var z = zFor(usedSeed);
        var options = new DecodeOptions { Samples = samples, Temperature = (float)tau, Seed = usedSeed, MaxSteps = steps, Z = z };
        var result = await model.Scheduler.Draw(options, deadline, cancellationToken: http.RequestAborted, caller: Callers.Of(http)).Result;
        log.Record(result);
        var sketches = SketchResults.From(result, SketchSpace.Training(model.Model.Manifest).ToOutput);
        IReadOnlyList<float[]?> zs = [.. Enumerable.Range(0, samples).Select(i => result.Z?[i])];
        var response = new DecodeResponse(model.Id, result.Seed, tau, zs, sketches, DecodeStats.From(result)) { Prior = prior };
        return SketchResults.Respond(response, output, () => [.. sketches.Select(s => s.ToStroke3())], http.RequestAborted);
    }
}

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
    [Description("How many sketches (default 1). VAE: each from its own z drawn from the prior; decoder-only: unconditional.")]
    public int? Samples { get; init; }
    [Description("VAE: where z is drawn from — data (the mixture of the training drawings' posteriors; the default when the model has one) or standard (N(0, I), the default otherwise).")]
    public string? Prior { get; init; }
    [Description("Sampling temperature τ ≥ 0; 0 is greedy.")]
    public double? Temperature { get; init; }
    public int? Seed { get; init; }
    public int? MaxSteps { get; init; }
}

public sealed record DecodeResponse(string Model, int Seed, double Temperature,
    [property: Description("The z of each sketch (null entries for decoder-only models).")] IReadOnlyList<float[]?> Z,
    [property: Description("Sketches in the model's training pixel space.")] IReadOnlyList<SketchResult> Sketches,
    DecodeStats Stats)
{
    [Description("/generate: the prior z was drawn from (data, standard, or none for a decoder-only model); null for /decode.")]
    public string? Prior { get; init; }
}
