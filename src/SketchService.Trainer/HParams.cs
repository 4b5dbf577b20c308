using System.Reflection;

namespace SketchService.Trainer;

/// <summary>
/// Every hyper-parameter of a run, one line each as in Magenta's get_default_hparams(): the property with its
/// default (Magenta's), its `train` option and the option's help. <see cref="Table"/> turns the lines into options,
/// so adding a hyper-parameter is adding a line. Serialised into each checkpoint's state.json.
/// </summary>
public sealed record HParams
{
    [HParam("--enc", "Encoder LSTM size, per direction.", Shape = true)] public int EncoderSize { get; init; } = 256;
    [HParam("--dec", "Decoder LSTM size.", Shape = true)] public int DecoderSize { get; init; } = 512;
    [HParam("--z", "Latent size.", Shape = true)] public int LatentSize { get; init; } = 128;
    [HParam("--mixtures", "Gaussian mixture components per point.", Shape = true)] public int Mixtures { get; init; } = 20;
    [HParam("--decoder-only", "Train the decoder-only (unconditional) model: no encoder, no z.", Shape = true)] public bool DecoderOnly { get; init; }
    [HParam("--batch", "Sketches per minibatch.")] public int BatchSize { get; init; } = 100;
    [HParam("--max-seq-len", "Longest sketch kept, in points.")] public int MaxSeqLen { get; init; } = 250;
    [HParam("--lr", "Adam's learning rate at step 0.")] public double LearningRate { get; init; } = 1e-3;
    [HParam("--lr-decay", "Learning rate decay per step.", Max = 1)] public double LearningRateDecay { get; init; } = 0.9999;
    [HParam("--min-lr", "Learning rate floor.")] public double MinLearningRate { get; init; } = 1e-5;
    [HParam("--kl-weight", "Final KL weight w_KL.")] public double KlWeight { get; init; } = 0.5;
    [HParam("--kl-weight-start", "w_KL at step 0.")] public double KlWeightStart { get; init; } = 0.01;
    [HParam("--kl-decay", "w_KL annealing rate per step.", Max = 1)] public double KlDecayRate { get; init; } = 0.99995;
    [HParam("--kl-tolerance", "KL floor: a KL below it is not penalised.")] public double KlTolerance { get; init; } = 0.2;
    [HParam("--grad-clip", "Gradients clipped to ± this value.")] public double GradClip { get; init; } = 1.0;
    [HParam("--random-scale", "Augmentation: random x and y scale of ± this fraction.")] public double RandomScale { get; init; } = 0.15;
    [HParam("--drop-prob", "Augmentation: probability of dropping a point.", Max = 1)] public double AugmentDropProb { get; init; } = 0.10;
    [HParam("--input-dropout", "Probability that the decoder's previous point is hidden at a training step, so it has to read the drawing from z (Bowman et al.'s word dropout; Magenta's use_input_dropout).", Max = 1)] public double DecoderInputDropout { get; init; }
    [HParam("--recurrent-dropout", "Dropout on the decoder LSTM's cell candidate at every step, without memory loss (Semeniuta et al. 2016; Magenta's use_recurrent_dropout, whose keep probability 0.9 is 0.1 here).", Max = 1)] public double DecoderRecurrentDropout { get; init; }
    [HParam("--output-dropout", "Dropout on the decoder's output before the mixture layer (Magenta's use_output_dropout).", Max = 1)] public double DecoderOutputDropout { get; init; }
    [HParam("--end-weight", "Weight of the pen loss at the first end step of each sketch whose encoder read the whole drawing (1 = Magenta's loss): above 1 the decoder is taught harder when a whole drawing is over, which training on prefixes (--prefix-share) otherwise blurs.", Max = 100)] public double EndWeight { get; init; } = 1;
    [HParam("--prefix-end-weight", "Weight of the pen loss at the first end step of each sketch whose encoder read only its start (--prefix-share): above 1 a completion is taught to end rather than go on when it cannot tell, which with --partial-flag it learns apart from whole drawings.", Max = 100)] public double PrefixEndWeight { get; init; } = 1;
    [HParam("--partial-flag", "Tell the encoder whether it reads a whole drawing or only its start (a learned shift of μ and σ̂ for prefix rows; /complete sets it), so that the decoder can end a whole drawing where it ends and go on from a partial one. A checkpoint without it can be fine-tuned with it (--init-from; the shift starts at zero).")] public bool PartialFlag { get; init; }
    [HParam("--prefix-share", "Share of training sketches whose encoder reads only their first k of n strokes (k uniform in 1..n-1) while the decoder reconstructs the whole sketch, so that the encoding of an unfinished drawing stands for what it will become.", Max = 1)] public double PrefixShare { get; init; }

    /// <summary>Adam's learning rate at a step: (lr − min)·decay^step + min.</summary>
    public double LearningRateAt(long step) => (LearningRate - MinLearningRate) * Math.Pow(LearningRateDecay, step) + MinLearningRate;

    /// <summary>KL weight annealed from KlWeightStart towards KlWeight: w − (w − w₀)·rate^step.</summary>
    public double KlWeightAt(long step) => KlWeight - (KlWeight - KlWeightStart) * Math.Pow(KlDecayRate, step);

    /// <summary>The hyper-parameters in declaration order, each with its option.</summary>
    public static readonly IReadOnlyList<HParamInfo> Table = typeof(HParams).GetProperties()
        .Where(p => p.GetCustomAttribute<HParamAttribute>() is not null)
        .OrderBy(p => p.MetadataToken)
        .Select(p => new HParamInfo(p, p.GetCustomAttribute<HParamAttribute>()!))
        .ToArray();

    /// <summary>"--dec 512 (checkpoint: 256)" for each hyper-parameter that differs; empty when none does.</summary>
    public IReadOnlyList<string> Differences(HParams saved, bool shapeOnly = false) =>
        Table.Where(h => (h.Spec.Shape || !shapeOnly) && !Equals(h.Get(this), h.Get(saved)))
            .Select(h => $"{h.Option} {h.Format(this)} (checkpoint: {h.Format(saved)})").ToArray();
}

/// <summary>Marks an <see cref="HParams"/> property as a hyper-parameter set by a `train` option.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class HParamAttribute(string option, string description) : Attribute
{
    public string Option => option;
    public string Description => description;
    /// <summary>Largest accepted value (probabilities and decay rates); the least is 1 for integers and 0 for reals.</summary>
    public double Max { get; init; } = double.PositiveInfinity;
    /// <summary>Sets a weight's shape, so a checkpoint's weights fit only a model with the same value.</summary>
    public bool Shape { get; init; }
}

public sealed record HParamInfo(PropertyInfo Property, HParamAttribute Spec)
{
    public string Option => Spec.Option;
    public object Get(HParams h) => Property.GetValue(h)!;
    public string Format(HParams h) => Get(h) is bool b ? (b ? "on" : "off") : Convert.ToString(Get(h), System.Globalization.CultureInfo.InvariantCulture)!;

    /// <summary>A copy of <paramref name="h"/> with this hyper-parameter set (a record copy, so the original stays as it was).</summary>
    public HParams With(HParams h, object value)
    {
        var copy = h with { };
        Property.SetValue(copy, value);
        return copy;
    }
}
