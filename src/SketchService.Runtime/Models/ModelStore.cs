using Microsoft.Extensions.Logging;
using SketchService.Runtime.Scheduling;

namespace SketchService.Runtime.Models;

/// <summary>
/// The models a service serves: every folder under one path, loaded and warmed up once (<see cref="ModelDirectory"/>),
/// each with its <see cref="ModelScheduler"/>; why the other folders were skipped; and which model a request that
/// names none gets. Empty and not ready until <see cref="Load"/> has run.
/// </summary>
public sealed class ModelStore(string modelsPath, string? defaultModel, InferenceOptions inference, SchedulerOptions scheduling,
    SchedulerMetrics metrics, ILogger logger) : IDisposable
{
    private volatile IReadOnlyDictionary<string, ServedModel> models = new Dictionary<string, ServedModel>();
    private volatile IReadOnlyDictionary<string, string> failures = new Dictionary<string, string>();
    private volatile bool ready, draining;
    private ModelDirectory? directory;

    public string ModelsPath { get; } = modelsPath;
    public bool IsReady => ready;

    /// <summary>Set when the service begins to stop: not ready, no new work.</summary>
    public bool IsDraining => draining;

    public IReadOnlyDictionary<string, ServedModel> Models => models;
    public IReadOnlyDictionary<string, string> Failures => failures;

    /// <summary>The configured default, else the first model id in ordinal order.</summary>
    public string? DefaultId => defaultModel is { Length: > 0 } id ? id : models.Keys.Order(StringComparer.Ordinal).FirstOrDefault();

    /// <summary>Loads and warms up every model folder and starts a scheduler for each; then the store is ready.</summary>
    public void Load(CancellationToken cancellationToken)
    {
        var loaded = ModelDirectory.Load(ModelsPath, inference, logger, cancellationToken);
        directory = loaded;
        models = loaded.Models.ToDictionary(m => m.Id, m => new ServedModel(m, new ModelScheduler(m, scheduling, metrics, logger)), StringComparer.Ordinal);
        failures = loaded.Failures.ToDictionary(f => f.Name, f => f.Reason, StringComparer.Ordinal);
        ready = true;
        if (models.Count == 0)
            logger.LogWarning("No model could be served from {ModelsPath} ({Failed} folder(s) failed; see GET /models)", ModelsPath, failures.Count);
        else
            logger.LogInformation("{Count} model(s) ready from {ModelsPath}; default {DefaultModel}", models.Count, ModelsPath, DefaultId ?? "(none)");
    }

    /// <summary>Stops taking new work (every scheduler refuses with <paramref name="reason"/>); what runs goes on.</summary>
    public void Drain(Exception reason)
    {
        draining = true;
        foreach (var model in models.Values) model.Scheduler.Refuse(reason);
    }

    /// <summary>Ends every queued and running piece of work with <paramref name="reason"/>.</summary>
    public void StopAll(Exception reason)
    {
        foreach (var model in models.Values) model.Scheduler.StopAll(reason);
    }

    public void Dispose()
    {
        foreach (var model in models.Values) model.Dispose();
        directory?.Dispose();
    }
}
