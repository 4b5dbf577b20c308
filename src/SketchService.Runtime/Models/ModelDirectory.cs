using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;

namespace SketchService.Runtime.Models;

/// <summary>A model folder that was skipped, and why.</summary>
public sealed record ModelLoadFailure(string Name, string Reason);

/// <summary>
/// Every model folder under one path, loaded and warmed up once: the models that passed, in id order, and why the
/// others were skipped, so one bad model never takes the others down. Immutable; disposing it disposes the models.
/// </summary>
public sealed class ModelDirectory : IDisposable
{
    private ModelDirectory(IReadOnlyList<SketchModel> models, IReadOnlyList<ModelLoadFailure> failures) => (Models, Failures) = (models, failures);

    public IReadOnlyList<SketchModel> Models { get; }

    public IReadOnlyList<ModelLoadFailure> Failures { get; }

    /// <summary>
    /// Loads every subfolder of <paramref name="modelsPath"/> (a missing path gives none, logged) and runs each model
    /// once (VAE: encode a tiny sketch and decode from its code; decoder-only: decode), so that the first request does
    /// not pay ORT's lazy initialisation; a model that fails there is skipped too.
    /// </summary>
    public static ModelDirectory Load(string modelsPath, InferenceOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        logger ??= NullLogger.Instance;
        var models = new List<SketchModel>();
        var failures = new List<ModelLoadFailure>();
        if (!Directory.Exists(modelsPath))
        {
            logger.LogWarning("Models folder {Path} does not exist: no models loaded", modelsPath);
            return new ModelDirectory(models, failures);
        }
        try
        {
            foreach (var folder in Directory.GetDirectories(modelsPath).Order(StringComparer.Ordinal))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = Path.GetFileName(folder);
                SketchModel model;
                try
                {
                    model = SketchModel.Load(folder, options, logger);
                }
                catch (ModelLoadException e)
                {
                    failures.Add(new ModelLoadFailure(name, e.Reason));
                    logger.LogWarning("Skipped model folder {Name}: {Reason}", name, e.Reason); // the others are served; GET /models says why
                    continue;
                }
                try
                {
                    WarmUp(model, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    model.Dispose();
                    failures.Add(new ModelLoadFailure(name, $"warm-up failed: {e.Message}"));
                    logger.LogError(e, "Model {Id} failed its warm-up and was skipped", name);
                    continue;
                }
                models.Add(model);
                logger.LogInformation("Loaded model {Id} ({Kind}, H={DecoderSize}, Z={LatentSize}, M={Mixtures}{Cuda})", model.Id,
                    model.Manifest.Kind, model.Manifest.DecoderSize, model.Manifest.LatentSize, model.Manifest.Mixtures, model.UsesCuda ? ", CUDA" : "");
            }
        }
        catch
        {
            foreach (var model in models) model.Dispose();
            throw;
        }
        return new ModelDirectory(models, failures);
    }

    private static void WarmUp(SketchModel model, CancellationToken cancellationToken)
    {
        StrokePoint[] tiny = [new(0.5f, 0.5f, false), new(1, 0, true), new(-1, -0.5f, false)];
        float[][]? z = model.Manifest.IsVae ? [model.Encode([tiny])[0].Mu] : null;
        SketchDecoder.Decode(model, new DecodeOptions { Z = z, Prefix = tiny, MaxSteps = 3, Seed = 0, Temperature = 0 }, cancellationToken);
    }

    public void Dispose()
    {
        foreach (var model in Models) model.Dispose();
    }
}
