using SketchService.Core.Strokes;
using SketchService.Data;

namespace SketchService.Libraries.Tests.Strokes;

public class SimplifierTests(ITestOutputHelper output)
{
    /// <summary>
    /// Runs our pipeline on every raw drawing whose key_id is also in Google's simplified file of
    /// the same class and compares with Google's result. The remaining differences are near-ties in
    /// RDP (a neighbouring resampled point chosen, usually a 1-px shift of one vertex).
    /// </summary>
    [Theory]
    [InlineData("fixtures", 8)]
    [InlineData("shared", 166)]
    public void RawToSimplifiedMatchesGoogle(string source, int expectedPairs)
    {
        var pairs = new List<(QuickDrawDrawing Raw, QuickDrawDrawing Google)>();
        var simplified = SharedData.QuickDraw(source, "simplified");
        foreach (var rawFile in Directory.GetFiles(SharedData.QuickDraw(source, "raw"), "*.ndjson"))
        {
            var simplifiedFile = Path.Combine(simplified, Path.GetFileName(rawFile));
            if (!File.Exists(simplifiedFile))
                continue;
            var google = QuickDraw.ReadFile(simplifiedFile).ToDictionary(d => d.KeyId);
            foreach (var raw in QuickDraw.ReadFile(rawFile))
            {
                if (google.TryGetValue(raw.KeyId, out var g))
                    pairs.Add((raw, g));
            }
        }

        int exactDrawings = 0, exactCounts = 0, points = 0;
        double relCountError = 0, nearestSum = 0, hausdorffSum = 0, hausdorffMax = 0;
        foreach (var (raw, google) in pairs)
        {
            var ours = Simplifier.Simplify(raw.Drawing);
            Assert.Equal(google.Drawing.Count, ours.Count);
            var a = Points(ours);
            var b = Points(google.Drawing);
            if (a.SequenceEqual(b))
                exactDrawings++;
            if (a.Length == b.Length)
                exactCounts++;
            relCountError += Math.Abs(a.Length - b.Length) / (double)b.Length;

            var ab = a.Select(p => Nearest(p, b)).ToArray();
            var ba = b.Select(p => Nearest(p, a)).ToArray();
            nearestSum += ab.Sum() + ba.Sum();
            points += ab.Length + ba.Length;
            var hausdorff = Math.Max(ab.Max(), ba.Max());
            hausdorffSum += hausdorff;
            hausdorffMax = Math.Max(hausdorffMax, hausdorff);
        }

        var n = pairs.Count;
        var exactRate = exactDrawings / (double)n;
        var countRate = exactCounts / (double)n;
        var meanRelCount = relCountError / n;
        var meanNearest = nearestSum / points;
        var meanHausdorff = hausdorffSum / n;
        output.WriteLine($"drawings compared:              {n}");
        output.WriteLine($"identical to Google:            {exactDrawings} ({exactRate:P1})");
        output.WriteLine($"same point count:               {exactCounts} ({countRate:P1})");
        output.WriteLine($"mean |Δcount|/count:            {meanRelCount:F4}");
        output.WriteLine($"mean nearest-point distance:    {meanNearest:F3} px");
        output.WriteLine($"symmetric Hausdorff mean / max: {meanHausdorff:F3} / {hausdorffMax:F3} px");

        Assert.Equal(expectedPairs, n);
        Assert.True(exactRate >= 0.85, $"identical {exactRate:P1}");
        Assert.True(countRate >= 0.95, $"same count {countRate:P1}");
        Assert.True(meanRelCount <= 0.002, $"mean |Δcount|/count {meanRelCount}");
        Assert.True(meanNearest <= 0.05, $"mean nearest {meanNearest}");
        Assert.True(meanHausdorff <= 1.0, $"mean Hausdorff {meanHausdorff}");
        Assert.True(hausdorffMax <= 20, $"max Hausdorff {hausdorffMax}");
    }

    [Fact]
    public void AlignsScalesAndRounds()
    {
        // A 100×60 rectangle at (10, 20): aligned to 0 and scaled ×2.55; straight sides collapse to corners.
        var raw = new[] { new Polyline([10, 110, 110, 10, 10], [20, 20, 80, 80, 20]) };
        var s = Assert.Single(Simplifier.Simplify(raw));
        Assert.Equal([0f, 255f, 255f, 0f, 0f], s.X);
        Assert.Equal([0f, 0f, 153f, 153f, 0f], s.Y);
    }

    [Fact]
    public void SinglePointStrokesBecomeTwoPointsAndTiesRoundToEven()
    {
        // Scale 25.5: 5 → 127.5 → 128 and 3 → 76.5 → 76 (half-up would give 77).
        var raw = new[] { new Polyline([0, 10], [0, 10]), new Polyline([5], [3]) };
        var s = Simplifier.Simplify(raw);
        Assert.Equal([128f, 128f], s[1].X);
        Assert.Equal([76f, 76f], s[1].Y);
    }

    [Fact]
    public void ResampleSpacesPointsOnePixelApartAndKeepsTheEnd()
    {
        var r = Simplifier.Resample(new Polyline([0, 2, 2], [0, 0, 1.5f]));
        Assert.Equal([0f, 1f, 2f, 2f, 2f], r.X);
        Assert.Equal([0f, 0f, 0f, 1f, 1.5f], r.Y);
    }

    [Fact]
    public void RdpDropsPointsWithinEpsilonOfTheLine()
    {
        var r = Simplifier.Rdp(new Polyline([0, 1, 2, 3, 4, 5, 6], [0, 1, 0, 1, 5, 0, 0]));
        Assert.Equal([0f, 4f, 6f], r.X);
        Assert.Equal([0f, 5f, 0f], r.Y);
    }

    private static (float X, float Y)[] Points(IReadOnlyList<Polyline> strokes) =>
        strokes.SelectMany(s => s.X.Zip(s.Y)).ToArray();

    private static double Nearest((float X, float Y) p, (float X, float Y)[] others) =>
        others.Min(q => Math.Sqrt((p.X - q.X) * (p.X - q.X) + (p.Y - q.Y) * (p.Y - q.Y)));
}
