using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using SketchService.Runtime.Models;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace SketchService.Api.Infrastructure;

/// <summary>An example request body shown (and pre-filled for "Try it out") by Swagger UI.</summary>
public sealed record ExampleRequest(string Json);

public static class Swagger
{
    public static IServiceCollection AddSketchSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "SketchService",
                Version = "v1",
                Description = "Sketch-RNN (Ha & Eck 2017) over ONNX Runtime: encode sketches to a latent z, complete, decode, "
                    + "interpolate, do latent arithmetic and generate. Strokes are stroke-3 rows [dx, dy, pen_lifted] in the model's "
                    + "training pixels, or Quick Draw polylines [[[x…],[y…]],…] at any scale. Add ?format=svg or ?format=png to see a drawing.",
            });
            var xml = Path.Combine(AppContext.BaseDirectory, Assembly.GetExecutingAssembly().GetName().Name + ".xml");
            if (File.Exists(xml)) o.IncludeXmlComments(xml);
            o.OperationFilter<ExampleRequestFilter>();
            // "Authorize" in Swagger UI: a key sent as X-Api-Key, for a service that needs one (ApiKeys).
            o.AddSecurityDefinition(ApiKeys.Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = ApiKeys.Header,
                Description = "Only when the service is configured with API keys (SketchService:ApiKeyHashes).",
            });
            o.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeys.Scheme, document)] = [] });
            o.SupportNonNullableReferenceTypes();
        });
        return services;
    }

    public static RouteHandlerBuilder WithExample(this RouteHandlerBuilder b, string json) => b.WithMetadata(new ExampleRequest(json));

    /// <summary>
    /// Puts each endpoint's example into its request body. The token "$z" stands for a z of the default model's
    /// latent size (zeros, the prior's mean), so "Try it out" works whatever model is served.
    /// </summary>
    private sealed class ExampleRequestFilter(ModelStore store) : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var example = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ExampleRequest>().FirstOrDefault();
            if (example is null || operation.RequestBody?.Content is not { } content) return;
            var latent = store.DefaultId is { } id && store.Models.TryGetValue(id, out var m) && m.IsVae ? m.Model.Manifest.LatentSize : 128;
            var json = example.Json.Replace("\"$z\"", "[" + string.Join(",", Enumerable.Repeat("0", latent)) + "]");
            foreach (var media in content.Values)
                if (media is OpenApiMediaType mt) mt.Example = JsonNode.Parse(json);
        }
    }
}
