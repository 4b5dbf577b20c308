using SketchService.Core.Strokes;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// What to decode, already checked against the service's rules (the Api's request policy makes it). Coordinates are in
/// model space (pixels / scale_factor).
/// </summary>
public sealed record DecodeOptions
{
    /// <summary>How many sketches to draw (rows of the batch).</summary>
    public int Samples { get; init; } = 1;

    /// <summary>τ: 0 is greedy, 1 samples the model's own distribution, lower is tidier.</summary>
    public required float Temperature { get; init; }

    /// <summary>The most points to generate per sample (the prefix not counted); default the model's max_seq_len.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Same seed, model and options → same sketches, whatever else shares the batch. Null picks one at random (see <see cref="DecodeRun.Seed"/>).</summary>
    public int? Seed { get; init; }

    /// <summary>VAE: one latent code per sample, or one shared by all samples; null for decoder-only.</summary>
    public IReadOnlyList<float[]>? Z { get; init; }

    /// <summary>A start to continue: fed through the decoder after S0 as given (teacher-forced), shared by all samples.</summary>
    public IReadOnlyList<StrokePoint>? Prefix { get; init; }

    /// <summary>
    /// VAE: z is the encoding (posterior mean) of <see cref="Prefix"/>, found by the encoder before decoding starts and
    /// told the prefix is the start of a drawing (<see cref="Models.SketchModel.ReadsPartial"/>); <see cref="Z"/> stays null.
    /// </summary>
    public bool ZFromPrefix { get; init; }

    /// <summary>
    /// VAE: z is the one of these codes under which the decoder finds <see cref="Prefix"/> most likely
    /// (<see cref="LatentSelection"/>), chosen by the scheduler's encoder lane before decoding starts; <see cref="Z"/> stays null.
    /// </summary>
    public IReadOnlyList<float[]>? ZCandidates { get; init; }
}
