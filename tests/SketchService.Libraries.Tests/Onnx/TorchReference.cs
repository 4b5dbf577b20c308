using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Libraries.Tests.Onnx;

/// <summary>
/// A plain reference Sketch-RNN on <see cref="SketchRnnWeights"/>, written from PyTorch's LSTM equations
/// (gates i, f, g, o; W [4H, In]) with double accumulation, to check the ONNX graphs against.
/// </summary>
internal static class TorchReference
{
    public static (float[] H, float[] C) LstmStep(LstmWeights l, float[] x, float[] h, float[] c)
    {
        int n = l.HiddenSize;
        var gates = new double[4 * n];
        for (int j = 0; j < 4 * n; j++)
        {
            double a = l.BiasIh[j] + l.BiasHh[j];
            for (int k = 0; k < l.InputSize; k++) a += l.WeightIh[j * l.InputSize + k] * (double)x[k];
            for (int k = 0; k < n; k++) a += l.WeightHh[j * n + k] * (double)h[k];
            gates[j] = a;
        }
        var hOut = new float[n];
        var cOut = new float[n];
        for (int r = 0; r < n; r++)
        {
            double i = Sigmoid(gates[r]), f = Sigmoid(gates[n + r]), g = Math.Tanh(gates[2 * n + r]), o = Sigmoid(gates[3 * n + r]);
            double cNew = f * c[r] + i * g;
            cOut[r] = (float)cNew;
            hOut[r] = (float)(o * Math.Tanh(cNew));
        }
        return (hOut, cOut);
    }

    public static float[] Linear(LinearWeights l, float[] x)
    {
        var y = new float[l.OutputSize];
        for (int j = 0; j < l.OutputSize; j++)
        {
            double a = l.Bias[j];
            for (int k = 0; k < l.InputSize; k++) a += l.Weight[j * l.InputSize + k] * (double)x[k];
            y[j] = (float)a;
        }
        return y;
    }

    /// <summary>Encodes one sketch: the forward LSTM runs over points 0..n-1, the backward one over n-1..0.</summary>
    public static (float[] Mu, float[] Presig) Encode(EncoderWeights e, float[][] points)
    {
        int n = e.Forward.HiddenSize;
        float[] hf = new float[n], cf = new float[n], hb = new float[n], cb = new float[n];
        foreach (var p in points) (hf, cf) = LstmStep(e.Forward, p, hf, cf);
        foreach (var p in points.Reverse()) (hb, cb) = LstmStep(e.Backward, p, hb, cb);
        float[] last = [.. hf, .. hb];
        return (Linear(e.Mu, last), Linear(e.Presig, last));
    }

    /// <summary>tanh(W z + b) = [c, h].</summary>
    public static (float[] H, float[] C) Init(LinearWeights init, float[] z)
    {
        var s = Linear(init, z).Select(v => (float)Math.Tanh(v)).ToArray();
        int n = s.Length / 2;
        return (s[n..], s[..n]);
    }

    public static (float[] Params, float[] H, float[] C) Step(SketchRnnWeights w, float[] x, float[]? z, float[] h, float[] c)
    {
        float[] input = z is null ? x : [.. x, .. z];
        var (hOut, cOut) = LstmStep(w.Decoder, input, h, c);
        return (Linear(w.Output, hOut), hOut, cOut);
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
