using System.Globalization;
using System.Text;
using SketchService.Core.Latent;
using SketchService.Core.Rendering;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Trainer;

/// <summary>
/// The pictures committed beside a trained model: the loss curve of its run, and test sketches beside
/// their reconstructions plus free samples — drawn by the exported ONNX files through the service's own
/// runtime, so they show exactly what the service will serve.
/// </summary>
public static class Pictures
{
    public const string LossCurveFile = "loss-curve.svg";
    public const string SamplesFile = "samples.svg";

    /// <summary>The first 20 drawings of each task and of the real drawings, as &lt;task&gt;.png grids (5 × 4) in <paramref name="folder"/>.</summary>
    public static void Tasks(string folder, IReadOnlyList<SketchQuality.TaskDrawings> tasks, IReadOnlyList<StrokePoint[]> real, double scaleFactor)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "real.png"), SketchPng.Grid([.. real.Take(20)], 5));
        foreach (var t in tasks) File.WriteAllBytes(Path.Combine(folder, $"{t.Task}.png"), SketchPng.Grid([.. t.Drawings.Take(20)], 5));
    }

    public static void Draw(string modelFolder, IReadOnlyList<StrokePoint[]> testSketches, string? trainLogCsv, int count = 10, int seed = 1)
    {
        if (trainLogCsv is not null && File.Exists(trainLogCsv))
            File.WriteAllText(Path.Combine(modelFolder, LossCurveFile), LossCurve(File.ReadAllLines(trainLogCsv)));

        using var model = SketchModel.Load(modelFolder);
        var originals = testSketches.Take(count).ToArray();
        var rows = new List<StrokePoint[]>();
        var captions = new List<string>();
        if (model.Manifest.IsVae && originals.Length > 0)
        {
            var codes = model.Encode(originals);
            var reconstructions = SketchDecoder.Decode(model, new DecodeOptions { Samples = originals.Length, Temperature = 0.1f, Z = codes.Select(c => c.Mu).ToArray(), Seed = seed });
            rows.AddRange(originals);
            captions.AddRange(originals.Select((_, i) => $"test #{i}"));
            rows.AddRange(reconstructions.Select(r => r.Points));
            captions.AddRange(reconstructions.Select(_ => "reconstruction τ=0.1"));
        }
        var rng = new Random(seed);
        var free = SketchDecoder.Decode(model, new DecodeOptions
        {
            Samples = count, Temperature = 0.5f, Seed = seed,
            Z = model.Manifest.IsVae ? Enumerable.Range(0, count).Select(_ => LatentMath.SamplePrior(model.Manifest.LatentSize, rng)).ToArray() : null,
        });
        rows.AddRange(free.Select(f => f.Points));
        captions.AddRange(free.Select(_ => "sample τ=0.5"));
        var title = model.Manifest.IsVae
            ? $"{model.Manifest.Name}: {originals.Length} test sketches, their reconstructions (z = μ, τ = 0.1), and {count} samples from the prior (τ = 0.5)"
            : $"{model.Manifest.Name}: {count} unconditional samples (τ = 0.5)";
        File.WriteAllText(Path.Combine(modelFolder, SamplesFile), SketchSvg.Grid(rows, count, 120, captions, title));
    }

    /// <summary>Two panels (Lr, KL): training values smoothed, validation values as dots, against the step.</summary>
    public static string LossCurve(string[] csvLines)
    {
        var header = csvLines[0].Split(',');
        var rows = csvLines.Skip(1).Select(l => l.Split(',')).Where(c => c.Length == header.Length).ToArray();
        double[] Column(string name)
        {
            var i = Array.IndexOf(header, name);
            if (i < 0) throw new InvalidDataException($"{Training.LogFile} has no column '{name}' (columns: {csvLines[0]})");
            return rows.Select(r => string.IsNullOrEmpty(r[i]) ? double.NaN : double.Parse(r[i], CultureInfo.InvariantCulture)).ToArray();
        }
        var step = Column("step");
        var series = new[]
        {
            (Title: "reconstruction loss Lr", Train: Smooth(Column("recon_loss")), Valid: Column("valid_recon_loss")),
            (Title: "KL", Train: Smooth(Column("kl")), Valid: Column("valid_kl")),
        };
        const int W = 720, H = 260, L = 60, R = 20, T = 30, B = 40;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{2 * H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        var maxStep = step.Length == 0 ? 1 : step.Max();
        for (var p = 0; p < series.Length; p++)
        {
            var (title, train, valid) = series[p];
            var all = train.Concat(valid).Where(double.IsFinite).ToArray();
            if (all.Length == 0) continue;
            double lo = all.Min(), hi = all.Max();
            if (hi - lo < 1e-9) hi = lo + 1;
            var oy = p * H;
            double X(double s) => L + (W - L - R) * s / maxStep;
            double Y(double v) => oy + T + (H - T - B) * (1 - (v - lo) / (hi - lo));
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L}\" y=\"{oy + 18}\" font-size=\"14\">{title} (line: training, smoothed; dots: validation)</text>\n");
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{L}\" y1=\"{oy + H - B}\" x2=\"{W - R}\" y2=\"{oy + H - B}\" stroke=\"#888\"/><line x1=\"{L}\" y1=\"{oy + T}\" x2=\"{L}\" y2=\"{oy + H - B}\" stroke=\"#888\"/>\n");
            for (var k = 0; k <= 4; k++)
            {
                var v = lo + (hi - lo) * k / 4;
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{L - 6}\" y=\"{Y(v) + 4:F1}\" text-anchor=\"end\">{v:G3}</text><line x1=\"{L}\" y1=\"{Y(v):F1}\" x2=\"{W - R}\" y2=\"{Y(v):F1}\" stroke=\"#eee\"/>\n");
                var s = maxStep * k / 4;
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(s):F1}\" y=\"{oy + H - B + 16}\" text-anchor=\"middle\">{s:F0}</text>\n");
            }
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(L + W - R) / 2}\" y=\"{oy + H - 6}\" text-anchor=\"middle\">step</text>\n");
            var path = string.Join(" ", step.Select((s, i) => (s, v: train[i])).Where(q => double.IsFinite(q.v)).Select((q, i) => $"{(i == 0 ? 'M' : 'L')}{X(q.s):F1},{Y(q.v):F1}"));
            sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{path}\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n");
            for (var i = 0; i < step.Length; i++)
                if (double.IsFinite(valid[i]))
                    sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(step[i]):F1}\" cy=\"{Y(valid[i]):F1}\" r=\"3\" fill=\"#d62728\"/>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>Exponential moving average (0.98), so the per-batch noise does not hide the trend.</summary>
    private static double[] Smooth(double[] v)
    {
        var r = new double[v.Length];
        var ema = double.NaN;
        for (var i = 0; i < v.Length; i++)
        {
            if (double.IsFinite(v[i])) ema = double.IsNaN(ema) ? v[i] : 0.98 * ema + 0.02 * v[i];
            r[i] = ema;
        }
        return r;
    }
}
