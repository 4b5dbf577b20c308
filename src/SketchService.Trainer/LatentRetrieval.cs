using SketchService.Core.Latent;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Trainer;

/// <summary>
/// The latent round trip, which says whether z holds the drawing: encode every sketch to μ, decode each μ, encode
/// the reconstruction again and rank all the originals' μ by distance to it. A decoder that ignores z draws a
/// typical sketch whatever μ says, and its reconstructions land anywhere; chance is 1/N for top-1.
/// </summary>
public static class LatentRetrieval
{
    /// <summary>
    /// The round trip at each temperature, in order; sketches are in model space (offsets divided by the scale
    /// factor). The originals are encoded once for all temperatures. Deterministic for a given seed.
    /// </summary>
    public static RetrievalFigures[] Measure(SketchModel model, IReadOnlyList<StrokePoint[]> sketches, IReadOnlyList<float> temperatures, int seed = 1)
    {
        if (!model.Manifest.IsVae) throw new InvalidOperationException($"{model.Id} is decoder-only: it has no latent space to measure");
        if (sketches.Count == 0) throw new ArgumentException("no sketch to measure retrieval on", nameof(sketches));
        var originals = EncodeMu(model, sketches);
        return [.. temperatures.Select(t => RoundTrip(model, originals, t, seed))];
    }

    private static RetrievalFigures RoundTrip(SketchModel model, float[][] originals, float temperature, int seed)
    {
        var reconstructions = SketchDecoder.Decode(model, new DecodeOptions
        {
            Samples = originals.Length, Temperature = temperature, Z = originals, Seed = seed, MaxSteps = model.Manifest.MaxSeqLen,
        });
        // A reconstruction that ends before its first point cannot be encoded: it counts as a miss.
        var drawn = Enumerable.Range(0, originals.Length).Where(i => reconstructions[i].Points.Length > 0).ToArray();
        var again = EncodeMu(model, [.. drawn.Select(i => reconstructions[i].Points)]);
        int top1 = 0, top5 = 0;
        for (int k = 0; k < drawn.Length; k++)
        {
            int i = drawn[k];
            var own = Distance2(again[k], originals[i]);
            int closer = originals.Count(o => Distance2(again[k], o) < own);
            if (closer == 0) top1++;
            if (closer < 5) top5++;
        }
        return new RetrievalFigures(temperature, originals.Length, (double)top1 / originals.Length, (double)top5 / originals.Length);
    }

    /// <summary>μ of every sketch (<see cref="Encode"/>).</summary>
    internal static float[][] EncodeMu(SketchModel model, IReadOnlyList<StrokePoint[]> sketches, bool partial = false) =>
        [.. Encode(model, sketches, partial).Select(c => c.Mu)];

    /// <summary>
    /// The posterior of every sketch, encoded in length-sorted chunks so that short sketches are not padded to the
    /// longest; <paramref name="partial"/>: the sketches are starts of drawings, to be completed.
    /// </summary>
    internal static LatentCode[] Encode(SketchModel model, IReadOnlyList<StrokePoint[]> sketches, bool partial = false)
    {
        var all = new LatentCode[sketches.Count];
        var order = Enumerable.Range(0, sketches.Count).OrderBy(i => sketches[i].Length).ToArray();
        foreach (var chunk in order.Chunk(64))
        {
            var codes = model.Encode([.. chunk.Select(i => sketches[i])], [.. chunk.Select(_ => partial)]);
            for (int k = 0; k < chunk.Length; k++) all[chunk[k]] = codes[k];
        }
        return all;
    }

    private static float Distance2(float[] a, float[] b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (a[i] - b[i]) * (a[i] - b[i]);
        return sum;
    }
}
