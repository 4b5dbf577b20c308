using Microsoft.AspNetCore.Http;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
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
        // Named, or target_info says "unknown_service:SketchService.Api".
        services.AddOpenTelemetry().ConfigureResource(r => r.AddService("sketchservice")).WithMetrics(m => m
            .AddAspNetCoreInstrumentation()
            .AddMeter(SchedulerMetrics.MeterName)
            .AddMeter("System.Runtime") // .NET's own: GC collections and pauses, heap, allocation, thread pool
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>GET /metrics on the API's port, behind the API key when keys are on.</summary>
    public static IEndpointConventionBuilder MapSketchMetrics(this IEndpointRouteBuilder app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").WithTags("Health").WithMetadata(Health.GetOnly);

    /// <summary>
    /// GET /metrics on the management port only (<see cref="SketchServiceOptions.ManagementUrls"/>): the request's local
    /// port decides, not its Host header, which a caller of the public port could set to anything.
    /// </summary>
    public static IApplicationBuilder UseSketchMetricsOnManagementPort(this IApplicationBuilder app, IReadOnlySet<int> ports)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(http =>
            ports.Contains(http.Connection.LocalPort) && http.Request.Path == "/metrics" && HttpMethods.IsGet(http.Request.Method));
        // Nothing else answers there: the port is for scraping, not a second way into the API.
        return app.Use((http, next) =>
        {
            if (!ports.Contains(http.Connection.LocalPort)) return next(http);
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// With a management port, the server listens on the API's URLs as configured (urls, else http_ports, else Kestrel's
    /// default) and on the management URLs too: the server takes the configured URLs only when none were added. Kestrel
    /// endpoints set in configuration (Kestrel:Endpoints) replace all of these: list the management port there instead.
    /// Returns the management ports; none when <see cref="SketchServiceOptions.ManagementUrls"/> is empty.
    /// </summary>
    public static IReadOnlySet<int> ListenOnManagementPort(this WebApplication app, SketchServiceOptions options)
    {
        var management = options.ManagementUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ports = new HashSet<int>();
        if (management.Length == 0) return ports;
        foreach (var url in management)
        {
            var port = BindingAddress.Parse(url).Port;
            if (port <= 0) throw new InvalidOperationException($"SketchService:ManagementUrls: '{url}' needs a fixed port, such as http://*:9090");
            ports.Add(port);
        }
        var config = app.Configuration;
        var api = config[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } urls ? urls
            : config[WebHostDefaults.HttpPortsKey] is { Length: > 0 } httpPorts ? string.Join(';', httpPorts.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p.Trim()}"))
            : "http://localhost:5000";
        foreach (var url in api.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Concat(management)) app.Urls.Add(url);
        return ports;
    }
}
