using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Tests;

/// <summary>Seeded random weights and batches of small size: for the graph and runtime tests, and the API tests' tiny models.</summary>
internal static class TestWeights
{
    public static SketchRnnWeights Random(int seed, bool vae, int encoder = 6, int decoder = 7, int latent = 4, int mixtures = 2)
    {
        var rng = new Random(seed);
        var w = new SketchRnnWeights(
            vae ? new EncoderWeights(Lstm(rng, 5, encoder), Lstm(rng, 5, encoder), Linear(rng, 2 * encoder, latent), Linear(rng, 2 * encoder, latent)) : null,
            vae ? Linear(rng, latent, 2 * decoder) : null,
            Lstm(rng, 5 + (vae ? latent : 0), decoder),
            Linear(rng, decoder, 6 * mixtures + 3));
        w.Validate();
        return w;
    }

    public static float[] Values(Random rng, int n, float scale = 0.5f) =>
        [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale)];

    /// <summary>A random stroke-5 point: offsets plus a one-hot pen state.</summary>
    public static float[] Point(Random rng)
    {
        var p = new float[5];
        p[0] = (float)(rng.NextDouble() * 4 - 2);
        p[1] = (float)(rng.NextDouble() * 4 - 2);
        p[2 + rng.Next(3)] = 1;
        return p;
    }

    private static LstmWeights Lstm(Random rng, int input, int hidden) =>
        new(input, hidden, Values(rng, 4 * hidden * input), Values(rng, 4 * hidden * hidden), Values(rng, 4 * hidden), Values(rng, 4 * hidden));

    private static LinearWeights Linear(Random rng, int input, int output) =>
        new(input, output, Values(rng, output * input), Values(rng, output));
}
