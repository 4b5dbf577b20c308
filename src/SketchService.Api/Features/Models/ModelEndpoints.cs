using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
using SketchService.Core.Model;
using SketchService.Runtime.Models;

namespace SketchService.Api.Features.Models;

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

    private static Ok<ModelList> List(ModelStore store)
    {
        if (!store.IsReady) throw ApiProblem.Loading();
        var def = store.DefaultId;
        return TypedResults.Ok(new ModelList(
            [.. store.Models.Values.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => new ModelSummary(m.Id, m.Model.Manifest.Name, m.Model.Manifest.Kind,
                m.Model.Manifest.Source, m.Model.Manifest.DecoderSize, m.Model.Manifest.LatentSize, m.Id == def))],
            store.Failures));
    }

    private static Ok<ModelDetails> Get(string id, RequestPolicy policy, ModelStore store)
    {
        var model = policy.Model(id);
        return TypedResults.Ok(new ModelDetails(model.Id, model.Id == store.DefaultId, model.Model.Manifest, model.Model.Graphs));
    }
}

public sealed record ModelSummary(string Id, string Name, ModelKind Kind, string Source, int DecoderSize, int LatentSize, bool IsDefault);

public sealed record ModelList(IReadOnlyList<ModelSummary> Models,
    [property: Description("Folders under the models path that could not be loaded, with the reason.")] IReadOnlyDictionary<string, string> Failed);

public sealed record ModelDetails(string Id, bool IsDefault, ModelManifest Manifest, IReadOnlyList<GraphDescription> Graphs);
