using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Trainer;

/// <summary>
/// Sketch-RNN (Ha &amp; Eck 2017) as Magenta's sketch_rnn/model.py: a bidirectional LSTM encoder over the
/// real points of each sketch → μ, σ̂ → z; an LSTM decoder started from tanh(W z + b) = [c, h] whose
/// input at each step is [S_prev, z]; a linear layer to 6M+3 mixture and pen parameters.
/// Tensors are time-major: [T, B, 5].
/// </summary>
public sealed class SketchRnn : nn.Module
{
    public HParams HParams { get; }
    private readonly LSTM? encoderForward;
    private readonly LSTM? encoderBackward;
    private readonly Linear? mu;
    private readonly Linear? presig;
    private readonly Parameter? partial; // [μ shift (Z), σ̂ shift (Z)] for an encoder told it reads the start of a drawing
    private readonly Linear? init;
    private readonly LSTM decoder;
    private readonly Linear output;

    public SketchRnn(HParams h) : base("SketchRnn")
    {
        HParams = h;
        if (!h.DecoderOnly)
        {
            // Two one-way LSTMs rather than one packed bidirectional LSTM: libtorch's CPU backward pass over
            // packed sequences was 10-20x slower (measured 21 s vs 1 s per step at T = 230).
            encoderForward = nn.LSTM(5, h.EncoderSize);
            encoderBackward = nn.LSTM(5, h.EncoderSize);
            mu = nn.Linear(2 * h.EncoderSize, h.LatentSize);
            presig = nn.Linear(2 * h.EncoderSize, h.LatentSize);
            // Zero: a model fine-tuned into the flag from one without it starts out encoding exactly as before.
            if (h.PartialFlag) partial = new Parameter(torch.zeros(2 * h.LatentSize));
            init = nn.Linear(h.LatentSize, 2 * h.DecoderSize);
        }
        decoder = nn.LSTM(5 + (h.DecoderOnly ? 0 : h.LatentSize), h.DecoderSize);
        output = nn.Linear(h.DecoderSize, 6 * h.Mixtures + 3);
        RegisterComponents();
    }

    /// <summary>The names of the weights only a model with the partial flag has (absent from a checkpoint trained without it).</summary>
    public static readonly string[] PartialWeights = [nameof(partial)];

    /// <summary>The partial flag's weights, apart from the rest (an optimizer gives them their own group: see Training).</summary>
    public IEnumerable<Parameter> PartialParameters() => partial is null ? [] : [partial];

    /// <summary>
    /// strokes [T, B, 5] (no start token), lengths [B] → μ, σ̂ [B, Z]. Each direction reads only the real
    /// points: the forward state is taken at len−1, and the backward LSTM reads each sketch reversed
    /// within its own length, so padding never reaches it. <paramref name="partialFlags"/> [B] (1: the start of a
    /// drawing) shifts μ and σ̂ in a model trained with the partial flag; null means every sketch is whole.
    /// </summary>
    public (Tensor Mu, Tensor Presig) Encode(Tensor strokes, Tensor lengths, Tensor? partialFlags = null)
    {
        if (encoderForward is null) throw new InvalidOperationException("a decoder-only model has no encoder");
        using var scope = NewDisposeScope();
        var (t, b) = (strokes.shape[0], strokes.shape[1]);
        var steps = torch.arange(t).unsqueeze(1);                        // [T, 1]
        var len = lengths.unsqueeze(0);                                    // [1, B]
        var reversedIndex = torch.where(steps < len, len - 1 - steps, steps); // [T, B]
        var reversed = strokes.gather(0, reversedIndex.unsqueeze(2).expand(t, b, 5));
        var last = (lengths - 1).view(1, b, 1).expand(1, b, HParams.EncoderSize);
        var (yf, _, _) = encoderForward.call(strokes);
        var (yb, _, _) = encoderBackward!.call(reversed);
        var final = torch.cat([yf.gather(0, last).squeeze(0), yb.gather(0, last).squeeze(0)], 1); // [B, 2E]
        var (m, s) = (mu!.call(final), presig!.call(final));
        if (partial is not null && partialFlags is not null)
        {
            var shift = partialFlags.to(ScalarType.Float32).unsqueeze(1) * partial.unsqueeze(0); // [B, 2Z]
            var parts = shift.split(HParams.LatentSize, 1);
            (m, s) = (m + parts[0], s + parts[1]);
        }
        return (m.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope());
    }

    public static Tensor SampleZ(Tensor mu, Tensor presig, Generator? g = null) =>
        mu + torch.exp(presig / 2) * torch.randn(mu.shape, generator: g);

    /// <summary>Initial decoder state (h, c) [B, H]: from z for the VAE, zeros for the decoder-only model.</summary>
    public (Tensor H, Tensor C) InitialState(Tensor? z, long batch)
    {
        if (init is null || z is null) return (torch.zeros(batch, HParams.DecoderSize), torch.zeros(batch, HParams.DecoderSize));
        using var s = torch.tanh(init.call(z));
        var parts = s.split(HParams.DecoderSize, 1);
        return (parts[1], parts[0]); // Magenta's state is [c, h]
    }

    /// <summary>Teacher-forced decoding: inputs [T, B, 5] (S0 then the sketch) → raw params [T, B, 6M+3].</summary>
    public Tensor Decode(Tensor inputs, Tensor? z)
    {
        var batch = inputs.shape[1];
        var (h0, c0) = InitialState(z, batch);
        using var points = training && HParams.DecoderInputDropout > 0
            ? inputs * (torch.rand(inputs.shape[0], batch, 1) >= HParams.DecoderInputDropout) // whole points hidden, z kept
            : inputs.alias();
        using var x = z is null ? points.alias() : torch.cat([points, z.unsqueeze(0).expand(inputs.shape[0], -1, -1)], 2);
        Tensor y;
        if (training && HParams.DecoderRecurrentDropout > 0)
            y = DecodeStepByStep(x, h0, c0, HParams.DecoderRecurrentDropout);
        else
        {
            (y, var hN, var cN) = decoder.call(x, (h0.unsqueeze(0), c0.unsqueeze(0)));
            hN.Dispose(); cN.Dispose();
        }
        h0.Dispose(); c0.Dispose();
        using (y)
        using (var dropped = nn.functional.dropout(y, HParams.DecoderOutputDropout, training && HParams.DecoderOutputDropout > 0))
            return output.call(dropped);
    }

    /// <summary>
    /// The decoder LSTM stepped by hand on its own weights (PyTorch's gate order i, f, g, o), with a fresh dropout
    /// mask on the cell candidate g at each step as Magenta's LSTMCell: libtorch's fused LSTM has no per-step hook.
    /// x [T, B, in], h0 and c0 [B, H] → outputs [T, B, H].
    /// </summary>
    private Tensor DecodeStepByStep(Tensor x, Tensor h0, Tensor c0, double recurrentDropout)
    {
        using var scope = NewDisposeScope();
        var p = decoder.named_parameters().ToDictionary(n => n.name, n => n.parameter);
        // All steps' input products at once; unbind, not x[t], whose backward would write a whole [T, B, 4H] tensor per step.
        var inputGates = nn.functional.linear(x, p["weight_ih_l0"], p["bias_ih_l0"] + p["bias_hh_l0"]).unbind(0);
        var (h, c) = (h0, c0);
        var outputs = new Tensor[x.shape[0]];
        for (var t = 0; t < outputs.Length; t++)
        {
            var gates = (inputGates[t] + nn.functional.linear(h, p["weight_hh_l0"])).chunk(4, 1);
            var g = nn.functional.dropout(torch.tanh(gates[2]), recurrentDropout, training);
            c = torch.sigmoid(gates[1]) * c + torch.sigmoid(gates[0]) * g;
            h = torch.sigmoid(gates[3]) * torch.tanh(c);
            outputs[t] = h;
        }
        return torch.stack(outputs, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The weights in the layout of the ONNX builders (PyTorch's own, so a plain copy).</summary>
    public SketchRnnWeights ExportWeights()
    {
        EncoderWeights? enc = encoderForward is null ? null
            : new EncoderWeights(Lstm(encoderForward), Lstm(encoderBackward!), Dense(mu!), Dense(presig!), partial?.detach().cpu().data<float>().ToArray());
        return new SketchRnnWeights(enc, init is null ? null : Dense(init), Lstm(decoder), Dense(output));
    }

    private static LstmWeights Lstm(LSTM m)
    {
        var p = m.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        float[] Get(string n) => p[n + "_l0"].detach().cpu().data<float>().ToArray();
        var wih = p["weight_ih_l0"];
        return new LstmWeights((int)wih.shape[1], (int)wih.shape[0] / 4, Get("weight_ih"), Get("weight_hh"), Get("bias_ih"), Get("bias_hh"));
    }

    private static LinearWeights Dense(Linear l) =>
        new((int)l.weight!.shape[1], (int)l.weight.shape[0], l.weight.detach().cpu().data<float>().ToArray(), l.bias!.detach().cpu().data<float>().ToArray());
}
