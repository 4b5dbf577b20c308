using System.Text.Json;

namespace SketchService.Libraries.Tests.Import;

/// <summary>
/// Sketch-RNN written straight from shared/README.md's cell equations, on the raw de-quantised sketch-rnn-js blobs:
/// x·W with W [In, 4H], gates i, j, f, o, unstored forget bias 1.0. Shares no code with the importer, so it checks
/// the layout conversion as well as the graphs.
/// </summary>
internal sealed class MagentaReference
{
    // Blob indices of the decoder parts: gen files hold only these, VAE files put the encoder first.
    private readonly int outW, outB, decWxh, decWhh, decBias;

    private MagentaReference(JsonElement info, int[][] dims, float[][] blobs)
    {
        Info = info;
        Dims = dims;
        Blobs = blobs;
        (outW, outB, decWxh, decWhh, decBias) = IsVae ? (12, 13, 14, 15, 16) : (0, 1, 2, 3, 4);
    }

    public JsonElement Info { get; }
    public int[][] Dims { get; }
    public float[][] Blobs { get; }
    public bool IsVae => Blobs.Length == 17;
    public int DecoderSize => Dims[decWhh][0];
    public int EncoderSize => IsVae ? Dims[1][0] : 0;
    public int LatentSize => IsVae ? Dims[6][1] : 0;
    public int OutputSize => Dims[outB][0];

    public static MagentaReference Parse(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        var dims = root[1].EnumerateArray().Select(d => d.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var blobs = root[2].EnumerateArray().Select(b =>
        {
            var bytes = Convert.FromBase64String(b.GetString()!);
            var w = new float[bytes.Length / 2];
            for (int k = 0; k < w.Length; k++) w[k] = (float)(BitConverter.ToInt16(bytes, 2 * k) / 32767.0 * 10.0);
            return w;
        }).ToArray();
        return new MagentaReference(root[0].Clone(), dims, blobs);
    }

    /// <summary>a = [x, h]·[W_xh; W_hh] + bias; c' = c·σ(f + 1) + σ(i)·tanh(j); h' = tanh(c')·σ(o).</summary>
    public (float[] H, float[] C) Cell(int wxh, int whh, int bias, float[] x, float[] h, float[] c)
    {
        int n = h.Length;
        float[] wx = Blobs[wxh], wh = Blobs[whh], b = Blobs[bias];
        var a = new double[4 * n];
        for (int col = 0; col < 4 * n; col++)
        {
            double sum = b[col];
            for (int r = 0; r < x.Length; r++) sum += x[r] * (double)wx[r * 4 * n + col];
            for (int r = 0; r < n; r++) sum += h[r] * (double)wh[r * 4 * n + col];
            a[col] = sum;
        }
        var hOut = new float[n];
        var cOut = new float[n];
        for (int k = 0; k < n; k++)
        {
            double i = a[k], j = a[n + k], f = a[2 * n + k], o = a[3 * n + k];
            double cNew = c[k] * Sigmoid(f + 1.0) + Sigmoid(i) * Math.Tanh(j);
            cOut[k] = (float)cNew;
            hOut[k] = (float)(Math.Tanh(cNew) * Sigmoid(o));
        }
        return (hOut, cOut);
    }

    /// <summary>y = x·W + b with W [In, Out].</summary>
    public float[] Dense(int w, int b, float[] x)
    {
        int outputs = Dims[w][1];
        var y = new float[outputs];
        for (int col = 0; col < outputs; col++)
        {
            double sum = Blobs[b][col];
            for (int r = 0; r < x.Length; r++) sum += x[r] * (double)Blobs[w][r * outputs + col];
            y[col] = (float)sum;
        }
        return y;
    }

    /// <summary>VAE encoder: forward cell over the points, backward cell over them reversed, [h_fw, h_bw] → mu, presig.</summary>
    public (float[] Mu, float[] Presig) Encode(float[][] points)
    {
        int n = EncoderSize;
        float[] hf = new float[n], cf = new float[n], hb = new float[n], cb = new float[n];
        foreach (var p in points) (hf, cf) = Cell(0, 1, 2, p, hf, cf);
        for (int t = points.Length - 1; t >= 0; t--) (hb, cb) = Cell(3, 4, 5, points[t], hb, cb);
        float[] last = [.. hf, .. hb];
        return (Dense(6, 7, last), Dense(8, 9, last));
    }

    /// <summary>Zero for gen models; s = tanh(z·enc_w + enc_b), c = s[0:H], h = s[H:2H] for VAE models.</summary>
    public (float[] H, float[] C) InitialState(float[]? z)
    {
        if (z is null) return (new float[DecoderSize], new float[DecoderSize]);
        var s = Dense(10, 11, z).Select(v => (float)Math.Tanh(v)).ToArray();
        return (s[DecoderSize..], s[..DecoderSize]);
    }

    public (float[] Params, float[] H, float[] C) Step(float[] x, float[]? z, float[] h, float[] c)
    {
        float[] input = z is null ? x : [.. x, .. z];
        var (hOut, cOut) = Cell(decWxh, decWhh, decBias, input, h, c);
        return (Dense(outW, outB, hOut), hOut, cOut);
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
