using SketchService.Core.Strokes;

namespace SketchService.Trainer.Tests;

public class EncoderPrefixTests
{
    // Three strokes: points 0-1, 2-4, 5-6; a prefix ends after point 1 or point 4.
    private static readonly StrokePoint[] ThreeStrokes =
    [
        new(1, 0, false), new(1, 0, true),
        new(0, 1, false), new(0, 1, false), new(0, 1, true),
        new(-1, 0, false), new(-1, 0, true),
    ];

    [Fact]
    public void A_prefix_ends_where_a_stroke_ends_and_leaves_at_least_the_last_stroke_out()
    {
        var rng = new Random(3);
        var seen = Enumerable.Range(0, 400).Select(_ => Training.EncoderPrefix(ThreeStrokes, 1.0, rng)).ToHashSet();
        Assert.Equal(new HashSet<int> { 2, 5 }, seen);
    }

    [Fact]
    public void The_share_sets_how_often_a_sketch_is_cut()
    {
        var rng = new Random(5);
        var cut = Enumerable.Range(0, 4000).Count(_ => Training.EncoderPrefix(ThreeStrokes, 0.25, rng) < ThreeStrokes.Length);
        Assert.InRange(cut / 4000.0, 0.22, 0.28);
        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(7, Training.EncoderPrefix(ThreeStrokes, 0, rng)));
    }

    [Fact]
    public void A_sketch_of_one_stroke_is_read_whole()
    {
        StrokePoint[] one = [new(1, 0, false), new(1, 1, false), new(0, 1, true)];
        Assert.Equal(3, Training.EncoderPrefix(one, 1.0, new Random(1)));
    }

    [Fact]
    public void Whole_drawings_and_prefixes_have_their_end_weighted_apart()
    {
        using var lengths = TorchSharp.torch.tensor(new long[] { 5, 6, 7 });
        using var read = TorchSharp.torch.tensor(new long[] { 5, 3, 7 }); // the second sketch's encoder read a prefix
        using var weights = Training.EndWeights(read, lengths, new HParams { EndWeight = 3, PrefixEndWeight = 2 })!;
        Assert.Equal([3f, 2f, 3f], weights.data<float>().ToArray());
        Assert.Null(Training.EndWeights(read, lengths, new HParams()));
    }
}
