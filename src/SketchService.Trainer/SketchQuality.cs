using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Trainer;

/// <summary>
/// What people see, measured: the model draws for three tasks — free samples from its prior (τ 0.5; the data prior
/// when the folder has one, and then N(0, I) as well), reconstructions
/// of the test drawings from their encoding (τ 0.1), and completions of the first third of each test drawing's strokes
/// (τ 0.5, the drawing is prefix + continuation; from the prefix's encoding, and from the data prior's z that makes the
/// prefix most likely when the folder has a data prior), and the middle frames of interpolations between test drawings
/// (τ 0.1) — and a classifier two-sample test (Lopez-Paz &amp; Oquab 2017) says
/// how far those drawings are from the real test drawings: a logistic regression on each drawing's features,
/// cross-validated over 5 folds; 50 % accuracy means it cannot tell them apart, 100 % that it always can. Losses and the
/// latent round trip say whether z holds the drawing; this says whether the drawings look like the data. The features
/// are what an eye would use first: where the ink is (a 16 × 16 occupancy grid of the drawing fitted to its box) and
/// the drawing's shape statistics (points, strokes, ink length, aspect, how much it goes over itself, how sharply and how
/// evenly the pen turns and moves).
/// </summary>
public static class SketchQuality
{
    public const string Prior = "prior", StandardPrior = "standard prior", Reconstruction = "reconstruction", Completion = "completion",
        PriorCompletion = "completion from the prior", Interpolation = "interpolation", WhitenedInterpolation = "whitened interpolation";

    /// <summary>The drawings of one task, beside the real ones they are judged against.</summary>
    public sealed record TaskDrawings(string Task, float Temperature, StrokePoint[][] Drawings, bool[] Ended);

    /// <summary>Draws every task the model can do (a decoder-only model: free samples and completions) from the test drawings (model space).</summary>
    public static IReadOnlyList<TaskDrawings> Draw(SketchModel model, IReadOnlyList<StrokePoint[]> test, int seed = 1)
    {
        var m = model.Manifest;
        var n = test.Count;
        var tasks = new List<TaskDrawings>();
        var rng = new Random(seed);
        // The prior the service samples by default (the data prior when the folder has one), and N(0, I) beside it.
        float[][]? Sampled(Core.Latent.LatentPrior? prior) => m.IsVae
            ? [.. Enumerable.Range(0, n).Select(_ => prior?.Sample(rng) ?? Core.Latent.LatentMath.SamplePrior(m.LatentSize, rng))]
            : null;
        void Free(string task, float[][]? z)
        {
            var free = SketchDecoder.Decode(model, new DecodeOptions { Samples = n, Temperature = 0.5f, Z = z, Seed = seed, MaxSteps = m.MaxSeqLen });
            tasks.Add(new(task, 0.5f, [.. free.Select(s => s.Points)], [.. free.Select(s => s.Ended)]));
        }
        Free(Prior, Sampled(model.Prior));
        if (model.Prior is not null) Free(StandardPrior, Sampled(null));

        var mu = m.IsVae ? LatentRetrieval.EncodeMu(model, test) : null;
        if (mu is not null)
        {
            var again = SketchDecoder.Decode(model, new DecodeOptions { Samples = n, Temperature = 0.1f, Z = mu, Seed = seed, MaxSteps = m.MaxSeqLen });
            tasks.Add(new(Reconstruction, 0.1f, [.. again.Select(s => s.Points)], [.. again.Select(s => s.Ended)]));
        }

        // Completions from the prefix's encoding (/complete's condition encoding), and from the data prior's z that
        // makes the prefix most likely (condition prior); a decoder-only model continues the prefix unconditioned.
        var prefixes = test.Select(FirstThird).ToArray();
        var prefixMu = m.IsVae ? LatentRetrieval.EncodeMu(model, prefixes, partial: true) : null;
        void Complete(string task, Func<int, DecodeOptions, DecodeOptions> z)
        {
            var completed = new StrokePoint[n][];
            var ended = new bool[n];
            for (var i = 0; i < n; i++)
            {
                var options = new DecodeOptions { Temperature = 0.5f, Prefix = prefixes[i], Seed = seed + i, MaxSteps = Math.Max(1, m.MaxSeqLen - prefixes[i].Length) };
                var s = SketchDecoder.Decode(model, z(i, options))[0];
                completed[i] = [.. prefixes[i], .. s.Points];
                ended[i] = s.Ended;
            }
            tasks.Add(new(task, 0.5f, completed, ended));
        }
        Complete(Completion, (i, o) => prefixMu is null ? o : o with { Z = [prefixMu[i]] });
        if (model.Prior is not null) Complete(PriorCompletion, (i, o) => o with { ZCandidates = LatentSelection.Draw(model, o.Seed!.Value) });
        if (mu is null) return tasks;

        // The middle frame (t = 0.5) between each test drawing and the next, as /interpolate draws it (slerp in z), and
        // slerp in the data prior's whitened coordinates, where the training encodings are N(0, I).
        void Middle(string task, Func<float[], float[], float[]> between)
        {
            var z = Enumerable.Range(0, n).Select(i => between(mu[i], mu[(i + 1) % n])).ToArray();
            var frames = SketchDecoder.Decode(model, new DecodeOptions { Samples = n, Temperature = 0.1f, Z = z, Seed = seed, MaxSteps = m.MaxSeqLen });
            tasks.Add(new(task, 0.1f, [.. frames.Select(s => s.Points)], [.. frames.Select(s => s.Ended)]));
        }
        Middle(Interpolation, (a, b) => Core.Latent.LatentMath.Slerp(a, b, 0.5));
        if (model.Prior is { } p) Middle(WhitenedInterpolation, (a, b) => p.Unwhiten(Core.Latent.LatentMath.Slerp(p.Whiten(a), p.Whiten(b), 0.5)));
        return tasks;
    }

    /// <summary>The points of the first third of a drawing's strokes (at least one stroke).</summary>
    public static StrokePoint[] FirstThird(StrokePoint[] drawing)
    {
        var strokes = drawing.Count(p => p.PenLifted) + (drawing.Length > 0 && !drawing[^1].PenLifted ? 1 : 0);
        var keep = Math.Max(1, (int)Math.Round(strokes / 3.0));
        int seen = 0, end = drawing.Length;
        for (var i = 0; i < drawing.Length; i++)
            if (drawing[i].PenLifted && ++seen == keep) { end = i + 1; break; }
        return drawing[..end];
    }

    /// <summary>Seeds the measure averages over by default: one seed's accuracy scatters by up to ±4 points with 300 drawings a side.</summary>
    public const int DefaultSeeds = 5;

    /// <summary>
    /// Draws and measures every task with seeds 1..<paramref name="seeds"/> (new samples and new classifier folds each
    /// time) and gives each task's mean figures with every seed's accuracy; <paramref name="drawn"/> sees each seed's drawings.
    /// </summary>
    public static IReadOnlyList<QualityFigures> MeasureOverSeeds(SketchModel model, IReadOnlyList<StrokePoint[]> test, int seeds = DefaultSeeds,
        Action<int, IReadOnlyList<TaskDrawings>>? drawn = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seeds, 1);
        var runs = new List<IReadOnlyList<QualityFigures>>();
        for (var seed = 1; seed <= seeds; seed++)
        {
            var tasks = Draw(model, test, seed);
            drawn?.Invoke(seed, tasks);
            runs.Add(Measure(tasks, test, seed));
        }
        return [.. runs[0].Select((first, t) => first with
        {
            Accuracy = runs.Average(r => r[t].Accuracy),
            EndedByItself = runs.Average(r => r[t].EndedByItself),
            LengthRatio = runs.Average(r => r[t].LengthRatio),
            SeedAccuracies = [.. runs.Select(r => r[t].Accuracy)],
        })];
    }

    /// <summary>The standard error of a mean over seeds: their standard deviation / √n; 0 for a single seed, which gives no scatter to go by.</summary>
    public static double StandardError(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) / values.Count);
    }

    /// <summary>
    /// One task measured on two models with the same seeds: each model's mean accuracy, and the mean of the per-seed
    /// differences (this model − the other) with its standard error. Seed s draws both models' samples and splits the
    /// real drawings into the same folds, so the difference is paired: what the two models share cancels out of its scatter.
    /// </summary>
    public sealed record Comparison(string Task, double This, double Other, double Difference, double StandardError)
    {
        /// <summary>Better or worse only where the difference is at least twice its standard error (about 95 %, two-sided); level otherwise.</summary>
        public string Verdict => Math.Abs(Difference) < 2 * StandardError || Difference == 0 ? "level" : Difference < 0 ? "better" : "worse";
    }

    /// <summary>The tasks both measured, paired seed by seed; tasks only one model draws (a decoder-only model's missing ones) are left out.</summary>
    public static IReadOnlyList<Comparison> Compare(IReadOnlyList<QualityFigures> self, IReadOnlyList<QualityFigures> other) =>
    [
        .. self.Join(other, q => q.Task, q => q.Task, (a, b) =>
        {
            var (sa, sb) = (a.SeedAccuracies ?? [a.Accuracy], b.SeedAccuracies ?? [b.Accuracy]);
            if (sa.Count != sb.Count) throw new ArgumentException($"{a.Task}: {sa.Count} seeds against {sb.Count}; pair only figures measured with the same seeds");
            if (sa.Count < 2) throw new ArgumentException($"{a.Task}: one seed gives a difference no scatter to be judged by; measure with two or more");
            var differences = sa.Zip(sb, (x, y) => x - y).ToArray();
            return new Comparison(a.Task, a.Accuracy, b.Accuracy, differences.Average(), StandardError(differences));
        }),
    ];

    /// <summary>The test of each task against the real drawings; also real against real (<paramref name="reference"/>, e.g. the validation split) when given.</summary>
    public static IReadOnlyList<QualityFigures> Measure(IReadOnlyList<TaskDrawings> tasks, IReadOnlyList<StrokePoint[]> real, int seed = 1)
    {
        var realLength = real.Average(d => (double)d.Length);
        return [.. tasks.Select(t => new QualityFigures(t.Task, t.Temperature, t.Drawings.Length, TwoSampleAccuracy(real, t.Drawings, seed),
            t.Ended.Count(e => e) / (double)t.Ended.Length, t.Drawings.Average(d => (double)d.Length) / realLength))];
    }

    /// <summary>
    /// Cross-validated accuracy of a logistic regression telling <paramref name="a"/> from <paramref name="b"/> (5 folds,
    /// the same number of each in every fold; features standardised on the training folds).
    /// </summary>
    public static double TwoSampleAccuracy(IReadOnlyList<StrokePoint[]> a, IReadOnlyList<StrokePoint[]> b, int seed = 1, int folds = 5)
    {
        var count = Math.Min(a.Count, b.Count);
        var rng = new Random(seed);
        var rows = a.Take(count).Select(d => (Features(d), 1.0)).Concat(b.Take(count).Select(d => (Features(d), 0.0)))
            .Select((r, i) => (r.Item1, r.Item2, Fold: (i % count) % folds)).OrderBy(_ => rng.Next()).ToArray();
        int right = 0, total = 0;
        for (var f = 0; f < folds; f++)
        {
            var train = rows.Where(r => r.Fold != f).ToArray();
            var test = rows.Where(r => r.Fold == f).ToArray();
            if (test.Length == 0 || train.Length == 0) continue;
            var (mean, scale) = Standardisation([.. train.Select(r => r.Item1)]);
            var w = Fit([.. train.Select(r => Standardise(r.Item1, mean, scale))], [.. train.Select(r => r.Item2)]);
            foreach (var r in test)
            {
                var p = Predict(w, Standardise(r.Item1, mean, scale));
                if (p >= 0.5 == r.Item2 > 0.5) right++;
                total++;
            }
        }
        return total == 0 ? double.NaN : (double)right / total;
    }

    private const int Grid = 16;

    /// <summary>A 16 × 16 occupancy grid of the drawing fitted into the unit square (aspect kept), and its shape statistics.</summary>
    public static double[] Features(StrokePoint[] drawing)
    {
        var features = new double[Grid * Grid + 9];
        if (drawing.Length == 0) return features; // the model ended before its first point: no ink at all
        var lines = StrokeFormats.ToPolylines(drawing);
        var box = StrokeFormats.Bounds(lines);
        var size = Math.Max(1e-6, Math.Max(box.Width, box.Height));
        double ink = 0, overlaps = 0;
        var hits = new int[Grid * Grid];
        foreach (var l in lines)
            for (var i = 0; i < l.Count; i++)
            {
                var (x0, y0) = i == 0 ? (l.X[0], l.Y[0]) : (l.X[i - 1], l.Y[i - 1]);
                var (x1, y1) = (l.X[i], l.Y[i]);
                var length = Math.Sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0));
                ink += length;
                var samples = Math.Max(1, (int)(length / size * Grid * 4));
                for (var k = 0; k <= samples; k++)
                {
                    var t = (double)k / samples;
                    var cx = Math.Clamp((int)(((x0 + t * (x1 - x0)) - box.MinX) / size * Grid), 0, Grid - 1);
                    var cy = Math.Clamp((int)(((y0 + t * (y1 - y0)) - box.MinY) / size * Grid), 0, Grid - 1);
                    hits[cy * Grid + cx]++;
                }
            }
        int covered = 0;
        for (var c = 0; c < hits.Length; c++)
        {
            features[c] = hits[c] > 0 ? 1 : 0;
            covered += hits[c] > 0 ? 1 : 0;
            overlaps += Math.Max(0, hits[c] - 8);
        }
        var k0 = Grid * Grid;
        features[k0] = Math.Log(1 + drawing.Length);
        features[k0 + 1] = Math.Log(1 + lines.Count);
        features[k0 + 2] = Math.Log(1e-3 + ink / size);
        features[k0 + 3] = Math.Log((box.Width + 1e-3 * size) / (box.Height + 1e-3 * size));
        features[k0 + 4] = covered / (double)(Grid * Grid);
        features[k0 + 5] = Math.Log(1 + overlaps);
        // How the pen moves: a hand turns smoothly and keeps a pace; a scribble turns anywhere, at any speed.
        double turning = 0, turns = 0;
        var lengths = new List<double>();
        foreach (var l in lines)
            for (var i = 1; i < l.Count; i++)
            {
                double dx = l.X[i] - l.X[i - 1], dy = l.Y[i] - l.Y[i - 1];
                lengths.Add(Math.Sqrt(dx * dx + dy * dy));
                if (i < 2) continue;
                double px = l.X[i - 1] - l.X[i - 2], py = l.Y[i - 1] - l.Y[i - 2];
                if (dx * dx + dy * dy < 1e-12 || px * px + py * py < 1e-12) continue;
                turning += Math.Abs(Math.Atan2(px * dy - py * dx, px * dx + py * dy));
                turns++;
            }
        var meanLength = lengths.Count == 0 ? 0 : lengths.Average();
        features[k0 + 6] = turns == 0 ? 0 : turning / turns;
        features[k0 + 7] = meanLength <= 0 ? 0 : Math.Sqrt(lengths.Average(x => (x - meanLength) * (x - meanLength))) / meanLength;
        features[k0 + 8] = Math.Log(1 + drawing.Length / (double)Math.Max(1, lines.Count));
        return features;
    }

    private static (double[] Mean, double[] Scale) Standardisation(double[][] rows)
    {
        var d = rows[0].Length;
        var mean = new double[d];
        var scale = new double[d];
        foreach (var r in rows) for (var j = 0; j < d; j++) mean[j] += r[j] / rows.Length;
        foreach (var r in rows) for (var j = 0; j < d; j++) scale[j] += (r[j] - mean[j]) * (r[j] - mean[j]) / rows.Length;
        for (var j = 0; j < d; j++) scale[j] = Math.Sqrt(scale[j]) is var s && s > 1e-9 ? s : 1;
        return (mean, scale);
    }

    private static double[] Standardise(double[] x, double[] mean, double[] scale) => [.. x.Select((v, j) => (v - mean[j]) / scale[j]), 1.0];

    /// <summary>L2-regularised logistic regression by full-batch gradient descent (a few hundred rows: no library needed).</summary>
    private static double[] Fit(double[][] x, double[] y, int iterations = 300, double rate = 0.1, double l2 = 0.05)
    {
        var w = new double[x[0].Length];
        var gradient = new double[w.Length];
        for (var it = 0; it < iterations; it++)
        {
            Array.Clear(gradient);
            for (var i = 0; i < x.Length; i++)
            {
                var e = Predict(w, x[i]) - y[i];
                for (var j = 0; j < w.Length; j++) gradient[j] += e * x[i][j] / x.Length;
            }
            for (var j = 0; j < w.Length; j++) w[j] -= rate * (gradient[j] + (j < w.Length - 1 ? l2 * w[j] : 0));
        }
        return w;
    }

    private static double Predict(double[] w, double[] x)
    {
        double z = 0;
        for (var j = 0; j < w.Length; j++) z += w[j] * x[j];
        return 1 / (1 + Math.Exp(-z));
    }
}
