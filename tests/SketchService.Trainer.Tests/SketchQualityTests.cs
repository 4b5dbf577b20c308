using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Data;

namespace SketchService.Trainer.Tests;

/// <summary>The two-sample test says 50 % for drawings of one kind, near 100 % for drawings anyone tells apart.</summary>
public sealed class SketchQualityTests
{
    private static readonly Lazy<StrokeSplits> Sheep = new(() => StrokeSplits.ReadNpz(SharedData.Path("data", "sketchrnn", "aaron_sheep.npz")));

    [Fact]
    public void Real_drawings_against_real_drawings_are_near_chance()
    {
        var accuracy = SketchQuality.TwoSampleAccuracy(Sheep.Value.Test, Sheep.Value.Valid);
        Assert.InRange(accuracy, 0.40, 0.60);
    }

    [Fact]
    public void Scribbles_against_real_drawings_are_told_apart()
    {
        var rng = new Random(3);
        StrokePoint[][] scribbles = [.. Sheep.Value.Test.Select(s => s.Select(_ => new StrokePoint(rng.Next(-30, 30), rng.Next(-30, 30), rng.Next(10) == 0)).ToArray())];
        Assert.InRange(SketchQuality.TwoSampleAccuracy(Sheep.Value.Test, scribbles), 0.95, 1.0);
        // Same points, drawn as one stroke: the statistics alone give it away.
        StrokePoint[][] oneStroke = [.. Sheep.Value.Test.Select(s => s.Select((p, i) => p with { PenLifted = i == s.Length - 1 }).ToArray())];
        Assert.InRange(SketchQuality.TwoSampleAccuracy(Sheep.Value.Test, oneStroke), 0.75, 1.0);
    }

    [Fact]
    public void A_drawing_that_ended_before_its_first_point_has_features_too()
    {
        Assert.All(SketchQuality.Features([]), v => Assert.Equal(0, v));
        StrokePoint[][] empty = [.. Enumerable.Range(0, 20).Select(_ => Array.Empty<StrokePoint>())];
        Assert.InRange(SketchQuality.TwoSampleAccuracy(Sheep.Value.Test.Take(20).ToArray(), empty), 0.9, 1.0);
    }

    [Fact]
    public void The_first_third_keeps_a_third_of_the_strokes_and_at_least_one()
    {
        StrokePoint[] six = [.. Enumerable.Range(0, 12).Select(i => new StrokePoint(1, 0, i % 2 == 1))]; // 6 strokes of 2 points
        Assert.Equal(4, SketchQuality.FirstThird(six).Length);
        StrokePoint[] one = [new(1, 0, false), new(1, 0, true)];
        Assert.Equal(2, SketchQuality.FirstThird(one).Length);
    }

    [Fact]
    public void A_decoder_only_model_is_measured_on_free_samples_and_on_completions_that_continue_each_prefix()
    {
        using var loaded = TestModels.Load(TestWeights.Random(3, vae: false), maxSeqLen: 60);
        var model = loaded.Model;
        StrokePoint[][] test = [.. Enumerable.Range(0, 12).Select(i => Enumerable.Range(0, 9 + i).Select(k => new StrokePoint(k, i, k % 3 == 2)).ToArray())];
        var tasks = SketchQuality.Draw(model, test);
        Assert.Equal([SketchQuality.Prior, SketchQuality.Completion], tasks.Select(t => t.Task));
        var completion = tasks[1];
        for (var i = 0; i < test.Length; i++)
        {
            var prefix = SketchQuality.FirstThird(test[i]);
            Assert.Equal(prefix, completion.Drawings[i][..prefix.Length]);
        }
    }

    [Fact]
    public void Two_models_are_compared_seed_by_seed_and_called_better_only_past_twice_the_standard_error()
    {
        static QualityFigures Task(string task, params double[] seeds) => new(task, 0.5f, 300, seeds.Average(), 1, 1, seeds);
        IReadOnlyList<QualityFigures> self =
        [
            Task("a", 0.70, 0.74, 0.72), // 2 points under the other at every seed: the shared scatter cancels, and none is left
            Task("b", 0.70, 0.80, 0.75),
            Task("only here", 0.6, 0.6, 0.6),
            Task("c", 0.80, 0.81, 0.82),
        ];
        IReadOnlyList<QualityFigures> other = [Task("a", 0.72, 0.76, 0.74), Task("b", 0.80, 0.70, 0.77), Task("c", 0.70, 0.71, 0.72)];

        var compared = SketchQuality.Compare(self, other);

        Assert.Equal(["a", "b", "c"], compared.Select(c => c.Task));
        Assert.Equal(-0.02, compared[0].Difference, 12);
        Assert.Equal(0, compared[0].StandardError, 12);
        Assert.Equal("better", compared[0].Verdict);
        // Differences −0.10, +0.10, −0.02: mean −0.0067, standard deviation 0.1007, standard error 0.0581.
        Assert.Equal(-0.02 / 3, compared[1].Difference, 12);
        Assert.Equal(0.05812, compared[1].StandardError, 5);
        Assert.Equal("level", compared[1].Verdict);
        Assert.Equal("worse", compared[2].Verdict);
        Assert.Throws<ArgumentException>(() => SketchQuality.Compare(self, [Task("a", 0.7, 0.7)]));
        Assert.Throws<ArgumentException>(() => SketchQuality.Compare([Task("a", 0.7)], [Task("a", 0.6)])); // one seed: no scatter to judge by
    }

    [Fact]
    public void The_standard_error_of_one_seed_is_zero_and_of_several_their_deviation_over_root_n()
    {
        Assert.Equal(0, SketchQuality.StandardError([0.7]));
        // Mean 0.71, each 0.01 from it: standard deviation 0.01·√(4/3), standard error 0.01/√3.
        Assert.Equal(0.01 / Math.Sqrt(3), SketchQuality.StandardError([0.70, 0.72, 0.70, 0.72]), 12);
    }
}
