using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Features.Encode;

public static class EncodeEndpoints
{
    public static IEndpointRouteBuilder MapEncodeEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/encode", Encode)
            .WithName("Encode").WithTags("Latent")
            .WithSummary("Encode a sketch to its latent posterior (VAE models).")
            .WithDescription("Returns mu and sigma of q(z | sketch); with a seed also a sampled z. Decoder-only models have no encoder: 422.")
            .WithExample("""{"sketch":{"polylines":[[[10,60,110,60,10],[10,0,10,60,10]],[[30,30],[60,110]],[[90,90],[60,110]]]},"seed":1}""")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        return app;
    }

    private static async Task<Ok<EncodeResponse>> Encode(EncodeRequest request, [FromQuery, Description("json (the only format)")] string? format,
        RequestPolicy policy, HttpContext http)
    {
        var model = policy.Model(request.Model);
        RequestPolicy.RequireEncoder(model, "encode a sketch");
        var (sketch, _) = policy.Sketch(request.Sketch, model, "sketch", partial: false);
        RequestPolicy.Format(format, http.Request, draws: false); // after the sketch, as /complete: a bad input is a 400 whatever the Accept header
        policy.Cost(model, WorkCost.Encode([sketch.Length]), 0, 0, "sketch");
        var posterior = (await model.Scheduler.EncodeAsync([sketch], policy.Deadline, http.RequestAborted, Callers.Of(http)))[0];
        var z = request.Seed is { } seed ? posterior.Sample(seed) : null;
        return TypedResults.Ok(new EncodeResponse(model.Id, posterior.Mu, posterior.Sigma, z, request.Seed));
    }
}

public sealed record EncodeRequest
{
    [Description("Model id (a folder name under the models path); default: the service's default model.")]
    public string? Model { get; init; }
    [Description("The sketch to encode.")]
    public SketchInput? Sketch { get; init; }
    [Description("When given, also draw z = mu + sigma·ε with ε ~ N(0, I) from this seed.")]
    public int? Seed { get; init; }
}

public sealed record EncodeResponse(
    string Model,
    [property: Description("Posterior mean.")] float[] Mu,
    [property: Description("Posterior standard deviation exp(presig / 2).")] float[] Sigma,
    [property: Description("A sample mu + sigma·ε (only when a seed was given).")] float[]? Z,
    int? Seed);
