using Microsoft.ML.OnnxRuntime;
using SketchService.Inference.Model;

namespace SketchService.Inference.Runtime;

/// <summary>
/// The decoder of one request: n samples stepped together through decoder_step. Every buffer (x, z, h, c, params)
/// is allocated once and wrapped in an OrtValue; two IoBindings read h/c from one pair of buffers and write h_out/c_out
/// into the other, and steps alternate between them, so a step allocates no managed memory. Not thread-safe.
/// </summary>
public sealed class DecoderState : IDisposable
{
    private readonly SketchModel model;
    private readonly float[] x;
    private readonly float[] parameters;
    private readonly float[][] h, c;
    private readonly List<OrtValue> values = [];
    private readonly OrtIoBinding[] bindings = new OrtIoBinding[2];
    private readonly RunOptions runOptions = new();
    private int current; // which h/c pair holds the current state

    internal DecoderState(SketchModel model, int batch, IReadOnlyList<float[]>? z)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var m = model.Manifest;
        if (m.HasEncoder != z is not null)
            throw new ArgumentException(m.HasEncoder ? $"{model.Id} is a vae: give one z per sample" : $"{model.Id} is decoder-only: it takes no z", nameof(z));
        if (z is not null && (z.Count != batch || z.Any(v => v.Length != m.LatentSize)))
            throw new ArgumentException($"give {batch} latent codes of size {m.LatentSize}", nameof(z));

        this.model = model;
        BatchSize = batch;
        ParamsSize = m.ParamsSize;
        int hidden = m.DecoderSize;
        x = new float[batch * 5];
        parameters = new float[batch * ParamsSize];
        h = [new float[batch * hidden], new float[batch * hidden]];
        c = [new float[batch * hidden], new float[batch * hidden]];
        try
        {
            var xValue = Wrap(x, batch, 5);
            var paramsValue = Wrap(parameters, batch, ParamsSize);
            OrtValue[] hValues = [Wrap(h[0], batch, hidden), Wrap(h[1], batch, hidden)];
            OrtValue[] cValues = [Wrap(c[0], batch, hidden), Wrap(c[1], batch, hidden)];
            OrtValue? zValue = null;
            if (z is not null)
            {
                zValue = Wrap([.. z.SelectMany(v => v)], batch, m.LatentSize);
                // The initial state: tanh(W z + b) split into c and h, written straight into pair 0.
                model.DecoderInit.Run(runOptions, [ModelFolder.DecoderInit.Z], [zValue],
                    [ModelFolder.DecoderInit.H, ModelFolder.DecoderInit.C], [hValues[0], cValues[0]]);
            }
            for (int k = 0; k < 2; k++)
            {
                var binding = bindings[k] = model.DecoderStep.CreateIoBinding();
                binding.BindInput(ModelFolder.DecoderStep.X, xValue);
                if (zValue is not null) binding.BindInput(ModelFolder.DecoderStep.Z, zValue);
                binding.BindInput(ModelFolder.DecoderStep.H, hValues[k]);
                binding.BindInput(ModelFolder.DecoderStep.C, cValues[k]);
                binding.BindOutput(ModelFolder.DecoderStep.Params, paramsValue);
                binding.BindOutput(ModelFolder.DecoderStep.HOut, hValues[1 - k]);
                binding.BindOutput(ModelFolder.DecoderStep.COut, cValues[1 - k]);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int BatchSize { get; }

    /// <summary>6M+3: the length of one sample's row in <see cref="Params"/>.</summary>
    public int ParamsSize { get; }

    /// <summary>The next input [n, 5] (stroke-5 rows); write into it, then call <see cref="Step()"/>.</summary>
    public Span<float> Input => x;

    /// <summary>The last step's raw parameters [n, 6M+3].</summary>
    public ReadOnlySpan<float> Params => parameters;

    /// <summary>The current hidden and cell state [n, H].</summary>
    public ReadOnlySpan<float> H => h[current];
    public ReadOnlySpan<float> C => c[current];

    /// <summary>One sample's row of <see cref="Params"/>.</summary>
    public ReadOnlySpan<float> ParamsOf(int sample) => parameters.AsSpan(sample * ParamsSize, ParamsSize);

    /// <summary>Copies <paramref name="input"/> [n, 5] into <see cref="Input"/> and steps.</summary>
    public ReadOnlySpan<float> Step(ReadOnlySpan<float> input)
    {
        input.CopyTo(x);
        return Step();
    }

    /// <summary>Runs one step on <see cref="Input"/>; returns params [n, 6M+3], valid until the next step.</summary>
    public ReadOnlySpan<float> Step()
    {
        model.DecoderStep.RunWithBinding(runOptions, bindings[current]);
        current = 1 - current;
        return parameters;
    }

    public void Dispose()
    {
        foreach (var b in bindings) b?.Dispose();
        foreach (var v in values) v.Dispose();
        runOptions.Dispose();
    }

    private OrtValue Wrap(float[] data, int rows, int cols)
    {
        var value = OrtValue.CreateTensorValueFromMemory(data, [rows, cols]);
        values.Add(value);
        return value;
    }
}
