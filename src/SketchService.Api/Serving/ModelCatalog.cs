using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SketchService.Core.Latent;
using SketchService.Api.Infrastructure;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Serving;

/// <summary>
/// A model the service serves: the runtime's loaded folder, its decode batcher (every sampled sketch of every request
/// is a row of one batched decoder step) and, for a VAE, its encode batcher.
/// </summary>
public sealed class LoadedModel(SketchModel runtime, DecodeBatcher decoder, EncodeBatcher? encoder) : IDisposable
{
    public SketchModel Runtime { get; } = runtime;
    public DecodeBatcher Decoder { get; } = decoder;
    public string Id => Runtime.Id;
    public ModelManifest Manifest => Runtime.Manifest;
    public bool IsVae => Manifest.IsVae;

    /// <summary>Decoder-only models have no encoder and no z: 422 with what the client tried to do.</summary>
    public void RequireEncoder(string action)
    {
        if (!IsVae)
            throw ApiProblem.Unprocessable($"model '{Id}' is decoder-only (no encoder, no latent z): it cannot {action}. Use a VAE model, or /generate and /complete with condition none.");
    }

    /// <summary>Encodes sketches (model space) in a batch shared with concurrent requests.</summary>
    public Task<IReadOnlyList<LatentCode>> EncodeAsync(IReadOnlyList<StrokePoint[]> sketches, CancellationToken ct) =>
        (encoder ?? throw new InvalidOperationException($"{Id} has no encoder")).EncodeAsync(sketches, ct);

    /// <summary>Starts decoding in the shared batch (429 when the model is full); the run stops when <paramref name="ct"/> fires.</summary>
    public DecodeRun Start(DecodeOptions options, bool stream, CancellationToken ct) => Decoder.Submit(options, stream, ct);

    /// <summary>Decodes whole sketches in the shared batch.</summary>
    public Task<DecodeResult> DecodeAsync(DecodeOptions options, CancellationToken ct) => Start(options, stream: false, ct).Result;

    public void Dispose()
    {
        Decoder.Dispose();
        encoder?.Dispose();
    }
}

/// <summary>
/// Every model folder under <see cref="SketchServiceOptions.ModelsPath"/>, loaded and warmed up in the background at
/// start-up (<see cref="ModelLoader"/>). Folders that fail to load are reported in <see cref="Failures"/> and logged.
/// </summary>
public sealed class ModelCatalog(IOptions<SketchServiceOptions> options, IHostEnvironment env, BatchMetrics metrics, ILogger<ModelCatalog> logger) : IDisposable
{
    private volatile IReadOnlyDictionary<string, LoadedModel> _models = new Dictionary<string, LoadedModel>();
    private volatile IReadOnlyDictionary<string, string> _failures = new Dictionary<string, string>();
    private volatile bool _ready;
    private ModelDirectory? _directory;

    public string ModelsPath { get; } = ResolveModelsPath(options.Value.ModelsPath, env.ContentRootPath);
    public bool IsReady => _ready;

    /// <summary>Set when the service begins to stop (<see cref="ShutdownDrain"/>): not ready, no new decoding.</summary>
    public bool IsDraining { get; private set; }
    public IReadOnlyDictionary<string, LoadedModel> Models => _models;
    public IReadOnlyDictionary<string, string> Failures => _failures;
    public string? DefaultId => options.Value.DefaultModel is { Length: > 0 } id ? id : _models.Keys.Order(StringComparer.Ordinal).FirstOrDefault();

    /// <summary>The named model, or the default one; 404 for an unknown id, 503 while models are still loading.</summary>
    public LoadedModel Get(string? id)
    {
        RequireLoaded();
        if (string.IsNullOrEmpty(id))
        {
            id = DefaultId ?? throw new ApiProblem(StatusCodes.Status503ServiceUnavailable, "No models", $"No model could be loaded from {ModelsPath}.");
        }
        if (_models.TryGetValue(id, out var model)) return model;
        var why = _failures.TryGetValue(id, out var reason) ? $" (its folder failed to load: {reason})" : "";
        throw ApiProblem.NotFound($"no model '{ProblemSetup.Echo(id)}'{why}; GET /models lists the models served");
    }

    /// <summary>Stops taking new decoding (each model's batcher refuses with <paramref name="reason"/>); readiness turns unhealthy.</summary>
    public void Drain(Exception reason)
    {
        IsDraining = true;
        foreach (var model in _models.Values) model.Decoder.Refuse(reason);
    }

    /// <summary>Ends every queued and live decoding with <paramref name="reason"/>.</summary>
    public void StopAll(Exception reason)
    {
        foreach (var model in _models.Values) model.Decoder.StopAll(reason);
    }

    /// <summary>503 while the models are still loading.</summary>
    public void RequireLoaded()
    {
        if (!_ready) throw new ApiProblem(StatusCodes.Status503ServiceUnavailable, "Models are loading", "The service is still loading its models; retry shortly (see /health/ready).");
    }

    /// <summary>Loads and warms up every model folder (<see cref="ModelDirectory"/>), starts their batchers and marks the catalog ready.</summary>
    public void Load(CancellationToken ct)
    {
        var ort = new InferenceOptions { IntraOpThreads = options.Value.OrtThreads, UseCuda = options.Value.UseCuda };
        var directory = ModelDirectory.Load(ModelsPath, ort, logger, ct);
        _directory = directory;
        var batching = options.Value.Batching();
        _models = directory.Models.ToDictionary(m => m.Id, m => new LoadedModel(m,
            new DecodeBatcher(m, batching, metrics, logger),
            m.Manifest.IsVae ? new EncodeBatcher(m, batching, metrics, logger) : null), StringComparer.Ordinal);
        _failures = directory.Failures.ToDictionary(f => f.Name, f => f.Reason, StringComparer.Ordinal);
        _ready = true;
        if (_models.Count == 0)
            logger.LogWarning("No model could be served from {ModelsPath} ({Failed} folder(s) failed; see GET /models)", ModelsPath, _failures.Count);
        else
            logger.LogInformation("{Count} model(s) ready from {ModelsPath}; default {DefaultModel}", _models.Count, ModelsPath, DefaultId ?? "(none)");
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

    public void Dispose()
    {
        foreach (var model in _models.Values) model.Dispose();
        _directory?.Dispose();
    }
}

/// <summary>Loads the catalog off the start-up path so /health/live answers at once and /health/ready turns healthy after warm-up.</summary>
public sealed class ModelLoader(ModelCatalog catalog, ILogger<ModelLoader> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        try { catalog.Load(stoppingToken); }
        catch (OperationCanceledException) { }
        catch (Exception e) { logger.LogCritical(e, "Loading models failed"); }
    }, stoppingToken);
}

/// <summary>Ready = the catalog has loaded and at least one model is loaded and warmed up.</summary>
public sealed class ModelsReadyCheck(ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var data = new Dictionary<string, object> { ["models"] = catalog.Models.Keys.ToArray(), ["failed"] = catalog.Failures.Keys.ToArray() };
        return Task.FromResult(!catalog.IsReady ? HealthCheckResult.Unhealthy("loading models", data: data)
            : catalog.IsDraining ? HealthCheckResult.Unhealthy("shutting down", data: data)
            : catalog.Models.Count == 0 ? HealthCheckResult.Unhealthy($"no model loaded from {catalog.ModelsPath}", data: data)
            : HealthCheckResult.Healthy($"{catalog.Models.Count} model(s) loaded and warmed up", data));
    }
}
