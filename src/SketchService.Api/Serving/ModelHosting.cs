using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Serving;

/// <summary>The runtime's <see cref="ModelStore"/> in the host: made from the settings, loaded off the start-up path, watched by readiness.</summary>
public static class ModelHosting
{
    public static IServiceCollection AddModelStore(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var s = sp.GetRequiredService<IOptions<SketchServiceOptions>>().Value;
            var path = ResolveModelsPath(s.ModelsPath, sp.GetRequiredService<IHostEnvironment>().ContentRootPath);
            var scheduling = new SchedulerOptions
            {
                MaxLiveRows = s.MaxLiveRows, MaxQueuedRequests = s.MaxQueuedRequests, MaxRequestCost = s.MaxRequestCost,
                MaxEncodeBatch = s.MaxEncodeBatch, MaxEncodeRunPoints = s.MaxEncodeRunPoints,
                MaxRowsPerCaller = s.RowsPerCaller, MaxRowsPerCallerWhenCrowded = s.RowsPerCallerWhenCrowded, MaxRequestsPerCaller = s.RequestsPerCaller,
            };
            return new ModelStore(path, s.DefaultModel, new InferenceOptions { OrtThreads = s.OrtThreads, UseCuda = s.UseCuda }, scheduling,
                sp.GetRequiredService<SchedulerMetrics>(), sp.GetRequiredService<ILogger<ModelStore>>());
        });
        services.AddHostedService<ModelLoader>();
        return services;
    }

    /// <summary>
    /// An absolute path as is; a relative one against the content root, or — when that has no such folder, as under
    /// <c>dotnet run --project src/SketchService.Api</c> — against the first folder above it holding SketchService.sln.
    /// </summary>
    public static string ResolveModelsPath(string path, string contentRoot)
    {
        if (Path.IsPathRooted(path)) return path;
        var direct = Path.GetFullPath(Path.Combine(contentRoot, path));
        if (Directory.Exists(direct)) return direct;
        for (var dir = new DirectoryInfo(contentRoot); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SketchService.sln")))
                return Path.GetFullPath(Path.Combine(dir.FullName, path));
        return direct;
    }
}

/// <summary>Loads the store off the start-up path so /health/live answers at once and /health/ready turns healthy after warm-up.</summary>
public sealed class ModelLoader(ModelStore store, ILogger<ModelLoader> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        try { store.Load(stoppingToken); }
        catch (OperationCanceledException) { }
        catch (Exception e) { logger.LogCritical(e, "Loading models failed"); }
    }, stoppingToken);
}

/// <summary>Ready = the store has loaded, at least one model is loaded and warmed up, and the service is not stopping.</summary>
public sealed class ModelsReadyCheck(ModelStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var data = new Dictionary<string, object> { ["models"] = store.Models.Keys.ToArray(), ["failed"] = store.Failures.Keys.ToArray() };
        return Task.FromResult(!store.IsReady ? HealthCheckResult.Unhealthy("loading models", data: data)
            : store.IsDraining ? HealthCheckResult.Unhealthy("shutting down", data: data)
            : store.Models.Count == 0 ? HealthCheckResult.Unhealthy($"no model loaded from {store.ModelsPath}", data: data)
            : HealthCheckResult.Healthy($"{store.Models.Count} model(s) loaded and warmed up", data));
    }
}
