using SketchService.Data;

namespace SketchService.Api.Tests;

/// <summary>Acceptance: complete real Quick Draw birds with Google's pretrained bird model through POST /complete.</summary>
[Collection("Api")]
public sealed class BirdCompletionTests(ApiFactory app)
{
    [Fact]
    public async Task Bird_completions_are_valid_and_mostly_end_by_themselves()
    {
        var model = app.Bird();
        using var client = app.Client();
        var birds = QuickDraw.ReadFile(SharedData.Path("data", "quickdraw", "simplified", "bird.ndjson")).ToList();
        const int seeds = 20;
        int ended = 0, totalSteps = 0;
        var latencies = new List<double>();
        for (var seed = 0; seed < seeds; seed++)
        {
            var bird = birds[seed % birds.Count];
            var strokes = bird.Drawing.Take(Math.Max(1, bird.Drawing.Count / 2)).Select(l => new[] { l.X, l.Y }).ToArray();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var body = await client.PostOk<CompleteResponse>("/complete", new { model, sketch = new { polylines = strokes }, temperature = 0.5, seed, max_steps = 250 }, app.Json);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            var sketch = body.Sketches[0];
            var rows = sketch.Strokes;
            var prefix = body.PrefixPoints;
            Assert.Equal(strokes.Sum(s => s[0].Length), prefix);
            Assert.True(rows.Length >= prefix);
            Assert.All(rows, p => Assert.True(p.Length == 3 && float.IsFinite(p[0]) && float.IsFinite(p[1]) && p[2] is 0 or 1));
            var steps = sketch.Steps;
            Assert.True(steps <= 250);
            totalSteps += steps;
            if (sketch.EndedByItself) ended++;
        }
        latencies.Sort();
        TestContext.Current.SendDiagnosticMessage($"bird /complete τ=0.5: {ended}/{seeds} ended by themselves; mean {totalSteps / (double)seeds:0.0} steps; latency median {latencies[seeds / 2]:0} ms, max {latencies[^1]:0} ms");
        Console.WriteLine($"BIRD: {ended}/{seeds} ended by themselves; mean {totalSteps / (double)seeds:0.0} steps; latency median {latencies[seeds / 2]:0} ms, max {latencies[^1]:0} ms");
        Assert.True(ended > seeds / 2, $"only {ended}/{seeds} completions ended by themselves");
    }
}
