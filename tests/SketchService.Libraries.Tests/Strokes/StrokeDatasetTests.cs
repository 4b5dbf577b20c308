using SketchService.Core.Strokes;
using SketchService.Data;

namespace SketchService.Libraries.Tests.Strokes;

public class StrokeDatasetTests
{
    [Fact]
    public void Aaron_sheep_scale_factor_is_Magentas_published_value()
    {
        var splits = StrokeSplits.ReadNpz(SharedData.Path("data", "sketchrnn", "aaron_sheep.npz"));
        var train = StrokeDataset.Purify(splits.Train, maxSeqLen: 250);
        Assert.Equal(18.5198, StrokeDataset.ScaleFactor(train), 4);
    }

    [Fact]
    public void Purify_clamps_offsets_and_drops_too_long_or_too_short_sketches()
    {
        StrokePoint[] Sketch(int n, float dx = 1) => Enumerable.Range(0, n).Select(i => new StrokePoint(dx, -dx, i == n - 1)).ToArray();
        var kept = StrokeDataset.Purify([Sketch(10), Sketch(11, 5000), Sketch(250), Sketch(251)], maxSeqLen: 250);
        Assert.Equal([11, 250], kept.Select(s => s.Length));
        Assert.All(kept[0], p => Assert.Equal((1000f, -1000f), (p.Dx, p.Dy)));
    }

    [Fact]
    public void Stroke5_batch_starts_with_S0_and_pads_with_end_rows()
    {
        StrokePoint[] a = [new(1, 2, false), new(3, 4, true)];
        StrokePoint[] b = [new(5, 6, true)];
        var batch = StrokeDataset.ToStroke5Batch([a, b]);
        Assert.Equal((2, 2), (batch.BatchSize, batch.MaxLength));
        Assert.Equal([2, 1], batch.Lengths);
        float[] expected =
        [
            0, 0, 1, 0, 0,   1, 2, 1, 0, 0,   3, 4, 0, 1, 0, // a: S0, pen down, pen up
            0, 0, 1, 0, 0,   5, 6, 0, 1, 0,   0, 0, 0, 0, 1, // b: S0, pen up, then end padding
        ];
        Assert.Equal(expected, batch.Data);
    }

    [Fact]
    public void Augmentation_scales_within_15_percent_and_drops_only_inner_pen_down_points()
    {
        var splits = StrokeSplits.ReadNpz(SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz"));
        var sketch = splits.Train[0];
        var rng = new Random(5);
        var dropped = 0;
        for (var trial = 0; trial < 50; trial++)
        {
            var a = StrokeDataset.Augment(sketch, rng);
            Assert.Equal(sketch.Count(p => p.PenLifted), a.Count(p => p.PenLifted)); // strokes are kept
            dropped += sketch.Length - a.Length;
            // Total displacement is kept up to the random scale factors.
            var (sx, sy) = (sketch.Sum(p => p.Dx), sketch.Sum(p => p.Dy));
            var (ax, ay) = (a.Sum(p => p.Dx), a.Sum(p => p.Dy));
            if (Math.Abs(sx) > 10) Assert.InRange(ax / sx, 0.85 - 1e-4, 1.15 + 1e-4);
            if (Math.Abs(sy) > 10) Assert.InRange(ay / sy, 0.85 - 1e-4, 1.15 + 1e-4);
        }
        Assert.InRange(dropped / 50.0, 1, sketch.Length * 0.1);
        Assert.Equal(sketch.Length, StrokeDataset.Augment(sketch, rng, dropProb: 0).Length);
    }

    [Fact]
    public void Bucketed_batches_cover_every_sketch_once_with_similar_lengths()
    {
        var lengths = Enumerable.Range(0, 1000).Select(i => 20 + (i * 7919) % 230).ToArray();
        var batches = StrokeDataset.BucketedBatches(lengths, 100, new Random(1));
        Assert.Equal(Enumerable.Range(0, 1000), batches.SelectMany(b => b).Order());
        Assert.All(batches, b => Assert.True(b.Max(i => lengths[i]) - b.Min(i => lengths[i]) < 60));
    }
}
