using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SketchService.Api.Serving;

namespace SketchService.Api.Infrastructure;

public static class Health
{
    /// <summary>Health checks and the metrics scrape answer GET and HEAD; anything else is a 405.</summary>
    public static readonly HttpMethodMetadata GetOnly = new(["GET", "HEAD"]);

    public static IServiceCollection AddSketchHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"])
            .AddCheck<ModelsReadyCheck>("models", tags: ["ready"]);
        return services;
    }

    /// <summary>GET /health/live (the process answers) and GET /health/ready (at least one model loaded and warmed up).</summary>
    public static IEndpointRouteBuilder MapSketchHealthChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") }).WithTags("Health").WithMetadata(GetOnly);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteJson }).WithTags("Health").WithMetadata(GetOnly);
        return app;
    }

    private static Task WriteJson(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        });
    }
}
