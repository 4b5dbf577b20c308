using System.Text.Json;
using System.Text.Json.Serialization;

namespace SketchService.Core.Model;

[JsonConverter(typeof(JsonStringEnumConverter<ModelKind>))]
public enum ModelKind
{
    /// <summary>Encoder + decoder conditioned on z.</summary>
    [JsonStringEnumMemberName("vae")] Vae,
    /// <summary>Unconditional decoder: no encoder, no z, state starts at zero.</summary>
    [JsonStringEnumMemberName("decoder-only")] DecoderOnly,
}

public sealed record DatasetInfo(string Name, int Train, int Valid, int Test);

public sealed record LossFigures(double Reconstruction, double Kl);

/// <summary>How often a sketch's reconstruction, encoded again, lands nearest its own original (top-1) or among its
/// five nearest (top-5), over <see cref="Sketches"/> sketches decoded at <see cref="Temperature"/> (0: greedy).
/// Measured by the trainer's LatentRetrieval.</summary>
public sealed record RetrievalFigures(float Temperature, int Sketches, double Top1, double Top5);

/// <summary>
/// How far the model's drawings for one task (prior, reconstruction, completion) are from real held-out drawings:
/// the cross-validated accuracy of a classifier told to tell them apart (0.5: it cannot; 1: always), how often the
/// model ended the drawing by itself, and its drawings' mean length against the real ones'. With several seeds, each
/// figure is their mean and <see cref="SeedAccuracies"/> holds each seed's accuracy. Measured by the trainer's
/// SketchQuality.
/// </summary>
public sealed record QualityFigures(string Task, float Temperature, int Drawings, double Accuracy, double EndedByItself, double LengthRatio,
    IReadOnlyList<double>? SeedAccuracies = null);

/// <summary>model.json: what the service needs to know about a model folder.</summary>
public sealed record ModelManifest
{
    public int FormatVersion { get; init; } = ModelFolder.FormatVersion;
    public required string Name { get; init; }
    public required ModelKind Kind { get; init; }
    public int EncoderSize { get; init; }
    public required int DecoderSize { get; init; }
    public int LatentSize { get; init; }
    public required int Mixtures { get; init; }
    /// <summary>Std of the training offsets: model space = pixels / scale_factor.</summary>
    public required double ScaleFactor { get; init; }
    public required int MaxSeqLen { get; init; }
    /// <summary>
    /// Typical size of a training drawing in its own pixels (median of max(width, height)). Drawings given as
    /// absolute polylines at any scale are resized to this before dividing by <see cref="ScaleFactor"/>.
    /// </summary>
    public double DrawingExtent { get; init; } = 255;
    /// <summary>Where the weights came from: "trained" or the URL/path of an imported file.</summary>
    public string Source { get; init; } = "trained";
    public DatasetInfo? Dataset { get; init; }
    public long StepsTrained { get; init; }
    /// <summary>The steps whose weights were averaged into these (sketch-trainer average); absent for one checkpoint's.</summary>
    public IReadOnlyList<long>? AveragedSteps { get; init; }
    /// <summary>The checkpoint that a fine-tuning run (sketch-trainer train --init-from) started from, with its step; absent for a run from scratch.</summary>
    public string? FineTunedFrom { get; init; }
    public LossFigures? Valid { get; init; }
    public LossFigures? Test { get; init; }
    /// <summary>The latent round trip on the test split, at τ 0.1 and greedy: whether z holds the drawing.</summary>
    public IReadOnlyList<RetrievalFigures>? Retrieval { get; init; }
    /// <summary>What people see: the two-sample test of each task (<see cref="QualityFigures"/>).</summary>
    public IReadOnlyList<QualityFigures>? Quality { get; init; }
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>File name → lower-case hex sha256 of every ONNX file in the folder.</summary>
    public Dictionary<string, string> Sha256 { get; init; } = new();

    [JsonIgnore] public int ParamsSize => 6 * Mixtures + 3;
    [JsonIgnore] public bool IsVae => Kind == ModelKind.Vae;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ModelManifest Read(string folder)
    {
        var path = Path.Combine(folder, ModelFolder.ManifestFile);
        return JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), JsonOptions)
            ?? throw new InvalidDataException($"{path} is empty");
    }

    public void Write(string folder) =>
        File.WriteAllText(Path.Combine(folder, ModelFolder.ManifestFile), JsonSerializer.Serialize(this, JsonOptions));
}
