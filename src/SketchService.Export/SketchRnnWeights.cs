using SketchService.Core.Model;

namespace SketchService.Export;

/// <summary>
/// One LSTM layer in PyTorch's layout: gates stacked i, f, g, o; W_ih [4H, In], W_hh [4H, H], row-major.
/// The trainer exports these from TorchSharp; the Magenta importer converts sketch-rnn-js weights to them.
/// </summary>
public sealed record LstmWeights(int InputSize, int HiddenSize, float[] WeightIh, float[] WeightHh, float[] BiasIh, float[] BiasHh)
{
    public void Validate(string name)
    {
        Check(name + ".weight_ih", WeightIh, 4 * HiddenSize * InputSize);
        Check(name + ".weight_hh", WeightHh, 4 * HiddenSize * HiddenSize);
        Check(name + ".bias_ih", BiasIh, 4 * HiddenSize);
        Check(name + ".bias_hh", BiasHh, 4 * HiddenSize);
    }

    internal static void Check(string name, float[] a, int expected)
    {
        if (a.Length != expected) throw new ArgumentException($"{name} has {a.Length} values, expected {expected}");
    }
}

/// <summary>A dense layer y = x Wᵀ + b in PyTorch's layout: W [Out, In], row-major.</summary>
public sealed record LinearWeights(int InputSize, int OutputSize, float[] Weight, float[] Bias)
{
    public void Validate(string name)
    {
        LstmWeights.Check(name + ".weight", Weight, OutputSize * InputSize);
        LstmWeights.Check(name + ".bias", Bias, OutputSize);
    }
}

/// <summary>
/// Encoder: bidirectional LSTM over stroke-5, then μ and σ̂ heads over [h_fwd, h_bwd]. A model trained with the
/// partial flag also has <see cref="Partial"/>: the shift [μ (Z), σ̂ (Z)] added when the encoder is told it reads the
/// start of a drawing, not all of it.
/// </summary>
public sealed record EncoderWeights(LstmWeights Forward, LstmWeights Backward, LinearWeights Mu, LinearWeights Presig, float[]? Partial = null);

/// <summary>
/// All weights of a Sketch-RNN. <see cref="Encoder"/> and <see cref="Init"/> are null for decoder-only models.
/// Init maps z to tanh(W z + b) = [c, h] (c first, as Magenta). Decoder input is [x (5), z] (or x alone).
/// Output gives 6M+3 raw parameters per step.
/// </summary>
public sealed record SketchRnnWeights(EncoderWeights? Encoder, LinearWeights? Init, LstmWeights Decoder, LinearWeights Output)
{
    public int DecoderSize => Decoder.HiddenSize;
    public int LatentSize => Init?.InputSize ?? 0;
    public int Mixtures => (Output.OutputSize - 3) / 6;
    public ModelKind Kind => Encoder is null ? ModelKind.DecoderOnly : ModelKind.Vae;

    public void Validate()
    {
        if ((Encoder is null) != (Init is null)) throw new ArgumentException("encoder and init must both be present (VAE) or both absent (decoder-only)");
        Decoder.Validate("decoder");
        Output.Validate("output");
        if (Output.InputSize != Decoder.HiddenSize) throw new ArgumentException("output layer input must equal the decoder size");
        if ((Output.OutputSize - 3) % 6 != 0) throw new ArgumentException("output size must be 6M+3");
        if (Decoder.InputSize != 5 + LatentSize) throw new ArgumentException($"decoder input must be 5 + Z = {5 + LatentSize}");
        if (Encoder is { } e)
        {
            e.Forward.Validate("encoder.forward");
            e.Backward.Validate("encoder.backward");
            e.Mu.Validate("encoder.mu");
            e.Presig.Validate("encoder.presig");
            if (e.Partial is { } shift) LstmWeights.Check("encoder.partial", shift, 2 * e.Mu.OutputSize);
            Init!.Validate("init");
            if (Init.OutputSize != 2 * Decoder.HiddenSize) throw new ArgumentException("init output must be 2H");
        }
    }
}
