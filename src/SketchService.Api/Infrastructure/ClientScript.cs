namespace SketchService.Api.Infrastructure;

/// <summary>
/// GET /client/sketchservice.js: the JavaScript client (clients/js, copied beside the app at build), as an endpoint
/// rather than a static file so that pages on other origins may import it under the API's CORS policy. It needs no
/// API key: it is code, not data.
/// </summary>
public static class ClientScript
{
    public const string Route = "/client/sketchservice.js";

    public static IEndpointConventionBuilder MapClientScript(this IEndpointRouteBuilder app)
    {
        var file = Path.Combine(AppContext.BaseDirectory, "client", "sketchservice.js");
        return app.MapGet(Route, () => TypedResults.PhysicalFile(file, "text/javascript; charset=utf-8", lastModified: File.GetLastWriteTimeUtc(file)))
            .RequireCors(Cors.Policy).ExcludeFromDescription();
    }
}
