using OpenTelemetry.Metrics;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Infrastructure;

/// <summary>
/// Prometheus metrics through OpenTelemetry: ASP.NET Core's request duration by route and status, and the batching
/// instruments of <see cref="SchedulerMetrics"/>, scraped at GET /metrics. Names and meanings: docs/metrics.md.
/// </summary>
public static class Metrics
{
    public static IServiceCollection AddSketchMetrics(this IServiceCollection services)
    {
        services.AddSingleton(sp => new SchedulerMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddOpenTelemetry().WithMetrics(m => m
            .AddAspNetCoreInstrumentation()
            .AddMeter(SchedulerMetrics.MeterName)
            .AddPrometheusExporter());
        return services;
    }

    public static IEndpointConventionBuilder MapSketchMetrics(this IEndpointRouteBuilder app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").WithTags("Health").WithMetadata(Health.GetOnly);
}
