namespace SketchService.Trainer;

/// <summary>Every hyper-parameter of a run; defaults are Magenta's sketch_rnn defaults.</summary>
public sealed record HParams
{
    public int EncoderSize { get; init; } = 256;
    public int DecoderSize { get; init; } = 512;
    public int LatentSize { get; init; } = 128;
    public int Mixtures { get; init; } = 20;
    /// <summary>false: the decoder-only (unconditional) model, no encoder, zero initial state.</summary>
    public bool Conditional { get; init; } = true;
    public int BatchSize { get; init; } = 100;
    public int MaxSeqLen { get; init; } = 250;
    public double LearningRate { get; init; } = 1e-3;
    public double LearningRateDecay { get; init; } = 0.9999;
    public double MinLearningRate { get; init; } = 1e-5;
    public double KlWeight { get; init; } = 0.5;
    public double KlWeightStart { get; init; } = 0.01;
    public double KlDecayRate { get; init; } = 0.99995;
    public double KlTolerance { get; init; } = 0.2;
    public double GradClip { get; init; } = 1.0;
    public double RandomScale { get; init; } = 0.15;
    public double AugmentDropProb { get; init; } = 0.10;

    /// <summary>Adam's learning rate at a step: (lr − min)·decay^step + min.</summary>
    public double LearningRateAt(long step) => (LearningRate - MinLearningRate) * Math.Pow(LearningRateDecay, step) + MinLearningRate;

    /// <summary>KL weight annealed from KlWeightStart towards KlWeight: w − (w − w₀)·rate^step.</summary>
    public double KlWeightAt(long step) => KlWeight - (KlWeight - KlWeightStart) * Math.Pow(KlDecayRate, step);
}
