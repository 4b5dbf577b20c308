using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SketchService.Inference.Strokes;

namespace SketchService.Inference.Runtime;

/// <summary>A model folder that was skipped, and why.</summary>
public sealed record ModelLoadFailure(string Name, string Reason);

/// <summary>
/// Every model folder under one path, loaded once at startup. A folder that fails its checks is recorded with the
/// reason and skipped, so one bad model never takes the others down. Lookups are by folder name.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    // Immutable snapshots, replaced whole by WarmUp, so requests may read while a background warm-up runs.
    private volatile IReadOnlyDictionary<string, SketchModel> models;
    private volatile IReadOnlyList<ModelLoadFailure> failures;
    private volatile bool warmedUp;
    private readonly List<SketchModel> retired = []; // failed warm-up; disposed with the registry, as a request may hold one
    private readonly ILogger logger;

    private ModelRegistry(Dictionary<string, SketchModel> models, List<ModelLoadFailure> failures, ILogger logger)
    {
        this.models = models;
        this.failures = failures;
        this.logger = logger;
    }

    /// <summary>The loaded models, by id.</summary>
    public IReadOnlyList<SketchModel> Models => [.. models.Values.OrderBy(m => m.Id, StringComparer.Ordinal)];

    public IReadOnlyList<ModelLoadFailure> Failures => failures;

    /// <summary>True once <see cref="WarmUp"/> has run: with <see cref="Models"/> non-empty, what readiness means.</summary>
    public bool IsWarmedUp => warmedUp;

    public SketchModel? Find(string id) => models.GetValueOrDefault(id);

    /// <summary>Loads every subfolder of <paramref name="modelsPath"/>; a missing path gives an empty registry (logged).</summary>
    public static ModelRegistry Load(string modelsPath, InferenceOptions? options = null, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var models = new Dictionary<string, SketchModel>(StringComparer.Ordinal);
        var failures = new List<ModelLoadFailure>();
        if (!Directory.Exists(modelsPath))
        {
            logger.LogWarning("Models folder {Path} does not exist: no models loaded", modelsPath);
            return new ModelRegistry(models, failures, logger);
        }
        foreach (var folder in Directory.GetDirectories(modelsPath).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(folder);
            try
            {
                var model = SketchModel.Load(folder, options, logger);
                models.Add(model.Id, model);
                logger.LogInformation("Loaded model {Id} ({Kind}, H={DecoderSize}, Z={LatentSize}, M={Mixtures}{Cuda})", model.Id,
                    model.Manifest.Kind, model.Manifest.DecoderSize, model.Manifest.LatentSize, model.Manifest.Mixtures, model.UsesCuda ? ", CUDA" : "");
            }
            catch (ModelLoadException e)
            {
                failures.Add(new ModelLoadFailure(name, e.Reason));
                logger.LogWarning("Skipped model folder {Name}: {Reason}", name, e.Reason); // the others are served; GET /models says why
            }
        }
        return new ModelRegistry(models, failures, logger);
    }

    /// <summary>
    /// Runs every model once (VAE: encode a tiny sketch and decode from its code; decoder-only: decode) so the first
    /// request does not pay ORT's lazy initialisation. A model that fails here is moved to <see cref="Failures"/>.
    /// </summary>
    public void WarmUp(CancellationToken cancellationToken = default)
    {
        StrokePoint[] tiny = [new(0.5f, 0.5f, false), new(1, 0, true), new(-1, -0.5f, false)];
        var healthy = new Dictionary<string, SketchModel>(models, StringComparer.Ordinal);
        var failed = new List<ModelLoadFailure>(failures);
        foreach (var model in Models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                float[][]? z = model.Manifest.HasEncoder ? [model.Encode([tiny])[0].Mu] : null;
                SketchDecoder.Decode(model, new DecodeOptions { Z = z, Prefix = tiny, MaxSteps = 3, Seed = 0 }, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                healthy.Remove(model.Id);
                retired.Add(model);
                failed.Add(new ModelLoadFailure(model.Id, $"warm-up failed: {e.Message}"));
                logger.LogError(e, "Model {Id} failed its warm-up and was removed", model.Id);
            }
        }
        models = healthy;
        failures = failed;
        warmedUp = true;
    }

    public void Dispose()
    {
        foreach (var model in models.Values.Concat(retired)) model.Dispose();
        retired.Clear();
        models = new Dictionary<string, SketchModel>();
    }
}
