using SketchService.Core;

namespace SketchService.Libraries.Tests.Latent;

public sealed class SeededRandomTests
{
    private static double[] Draws(Random random, int n = 8) => [.. Enumerable.Range(0, n).Select(_ => random.NextDouble())];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(123_456)]
    [InlineData(int.MaxValue - 1)]
    public void A_non_negative_seed_below_int_max_draws_what_Random_draws(int seed) =>
        Assert.Equal(Draws(new Random(seed)), Draws(SeededRandom.Create(seed)));

    [Fact]
    public void Every_seed_draws_its_own_stream_and_the_same_one_every_time()
    {
        int[] seeds = [0, 1, -1, 5, -5, int.MaxValue, int.MinValue, int.MinValue + 1, -123_456, 123_456];
        var streams = seeds.Select(s => Draws(SeededRandom.Create(s))).ToArray();
        Assert.Equal(seeds.Length, streams.Select(d => string.Join(",", d)).Distinct().Count());
        Assert.All(seeds.Zip(streams), p => Assert.Equal(p.Second, Draws(SeededRandom.Create(p.First))));
    }

    [Fact]
    public void A_negative_seed_draws_in_the_ranges_Random_promises()
    {
        var random = SeededRandom.Create(-7);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(random.NextDouble() is >= 0 and < 1);
            Assert.True(random.NextSingle() is >= 0 and < 1);
            Assert.InRange(random.Next(), 0, int.MaxValue - 1);
            Assert.InRange(random.Next(3), 0, 2);
            Assert.InRange(random.Next(-2, 2), -2, 1);
            Assert.InRange(random.NextInt64(-5, 5), -5, 4);
        }
        Assert.Equal(0, random.Next(0));
        Assert.Equal(4, random.Next(4, 4));
        // Roughly uniform: each of 4 values within 5 % of a quarter of 40 000.
        var counts = new int[4];
        for (var i = 0; i < 40_000; i++) counts[random.Next(4)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        var shuffled = Enumerable.Range(0, 20).ToArray();
        random.Shuffle(shuffled);
        Assert.Equal(Enumerable.Range(0, 20), shuffled.Order());
    }
}
