using System.ComponentModel;
using SketchService.Api.Serving;
using SketchService.Core.Model;
using SketchService.Runtime.Models;

namespace SketchService.Api.Endpoints;

public sealed record ModelSummary(string Id, string Name, ModelKind Kind, string Source, int DecoderSize, int LatentSize, bool IsDefault);

public sealed record ModelList(IReadOnlyList<ModelSummary> Models,
    [property: Description("Folders under the models path that could not be loaded, with the reason.")] IReadOnlyDictionary<string, string> Failed);

public sealed record ModelDetails(string Id, bool IsDefault, ModelManifest Manifest, IReadOnlyList<GraphDescription> Graphs);

public static class ModelEndpoints
{
    public static IEndpointRouteBuilder MapModelEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/models").WithTags("Models");
        group.MapGet("/", List).WithName("ListModels")
            .WithSummary("The models served, and folders that failed to load (200 even when none loaded, so the reasons show).").ProducesProblem(503);
        group.MapGet("/{id}", Get).WithName("GetModel")
            .WithSummary("A model's manifest (kind, sizes, scale_factor, max_seq_len, drawing_extent, dataset, losses, source) and each graph's inputs/outputs.")
            .ProducesProblem(404).ProducesProblem(503);
        return app;
    }

    private static Ok<ModelList> List(ModelCatalog catalog)
    {
        catalog.RequireLoaded(); // 503 while loading
        var def = catalog.DefaultId;
        return TypedResults.Ok(new ModelList(
            [.. catalog.Models.Values.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => new ModelSummary(m.Id, m.Manifest.Name, m.Manifest.Kind,
                m.Manifest.Source, m.Manifest.DecoderSize, m.Manifest.LatentSize, m.Id == def))],
            catalog.Failures));
    }

    private static Ok<ModelDetails> Get(string id, ModelCatalog catalog)
    {
        var model = catalog.Get(id);
        return TypedResults.Ok(new ModelDetails(model.Id, model.Id == catalog.DefaultId, model.Manifest, model.Runtime.Graphs));
    }
}
