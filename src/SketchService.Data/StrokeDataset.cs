using SketchService.Core.Strokes;
namespace SketchService.Data;

/// <summary>A batch in stroke-5, batch-major [B, T+1, 5]: row 0 is the start token S0 = (0,0,1,0,0),
/// rows 1..len[b] the sketch, then (0,0,0,0,1) padding. T is the longest sketch in the batch.</summary>
public sealed record Stroke5Batch(float[] Data, int[] Lengths, int BatchSize, int MaxLength);

/// <summary>
/// Training-data preparation as Magenta's sketch_rnn utils.DataLoader: clamp offsets, drop sketches
/// that are too long (or ≤ 10 points), normalise by the scale factor, augment, pad into stroke-5.
/// </summary>
public static class StrokeDataset
{
    public const float OffsetLimit = 1000f;

    /// <summary>Clamps |dx|,|dy| ≤ 1000 and keeps sketches with 10 &lt; length ≤ maxSeqLen (Magenta's purify).</summary>
    public static StrokePoint[][] Purify(IEnumerable<StrokePoint[]> sketches, int maxSeqLen) =>
        sketches.Where(s => s.Length > 10 && s.Length <= maxSeqLen)
            .Select(s => s.Select(p => p with { Dx = Math.Clamp(p.Dx, -OffsetLimit, OffsetLimit), Dy = Math.Clamp(p.Dy, -OffsetLimit, OffsetLimit) }).ToArray())
            .ToArray();

    /// <summary>Population standard deviation of every dx and dy together (Magenta's normalizing scale factor).</summary>
    public static double ScaleFactor(IEnumerable<StrokePoint[]> sketches)
    {
        double sum = 0, sumSq = 0;
        long n = 0;
        foreach (var s in sketches)
            foreach (var p in s)
            {
                sum += p.Dx + (double)p.Dy;
                sumSq += p.Dx * (double)p.Dx + p.Dy * (double)p.Dy;
                n += 2;
            }
        var mean = sum / n;
        return Math.Sqrt(sumSq / n - mean * mean);
    }

    public static StrokePoint[][] Normalize(IEnumerable<StrokePoint[]> sketches, double scaleFactor) =>
        sketches.Select(s => Scale(s, (float)(1 / scaleFactor), (float)(1 / scaleFactor))).ToArray();

    public static StrokePoint[] Scale(StrokePoint[] s, float sx, float sy) =>
        s.Select(p => p with { Dx = p.Dx * sx, Dy = p.Dy * sy }).ToArray();

    /// <summary>
    /// Magenta's augmentation: scale x and y independently by 1 ± <paramref name="scaleRange"/>, then drop
    /// pen-down points with probability <paramref name="dropProb"/> (merging their offset into the kept
    /// point; never the first two of a stroke, never a pen lift), which keeps the drawing's shape.
    /// </summary>
    public static StrokePoint[] Augment(StrokePoint[] sketch, Random rng, double scaleRange = 0.15, double dropProb = 0.1)
    {
        var sx = (float)((rng.NextDouble() - 0.5) * 2 * scaleRange + 1);
        var sy = (float)((rng.NextDouble() - 0.5) * 2 * scaleRange + 1);
        var scaled = Scale(sketch, sx, sy);
        if (dropProb <= 0) return scaled;
        var result = new List<StrokePoint>(scaled.Length);
        var prevLifted = true;
        var count = 0;
        foreach (var candidate in scaled)
        {
            count = candidate.PenLifted || prevLifted ? 0 : count + 1;
            if (!candidate.PenLifted && !prevLifted && count > 2 && rng.NextDouble() < dropProb)
            {
                var last = result[^1];
                result[^1] = last with { Dx = last.Dx + candidate.Dx, Dy = last.Dy + candidate.Dy };
            }
            else
            {
                result.Add(candidate);
                prevLifted = candidate.PenLifted;
            }
        }
        return [.. result];
    }

    /// <summary>Pads sketches into a stroke-5 batch as long as the longest.</summary>
    public static Stroke5Batch ToStroke5Batch(IReadOnlyList<StrokePoint[]> sketches)
    {
        var t = sketches.Max(s => s.Length);
        var b = sketches.Count;
        var rows = t + 1;
        var data = new float[b * rows * 5];
        var lengths = new int[b];
        for (var i = 0; i < b; i++)
        {
            var s = sketches[i];
            lengths[i] = s.Length;
            var o = i * rows * 5;
            data[o + 2] = 1; // S0
            for (var j = 0; j < rows - 1; j++)
            {
                var r = o + (j + 1) * 5;
                if (j < s.Length)
                {
                    data[r] = s[j].Dx;
                    data[r + 1] = s[j].Dy;
                    data[r + (s[j].PenLifted ? 3 : 2)] = 1;
                }
                else data[r + 4] = 1;
            }
        }
        return new Stroke5Batch(data, lengths, b, t);
    }

    /// <summary>
    /// Length-bucketed batches for one epoch: indices sorted by length with ±5 % jitter (so batches
    /// differ between epochs), cut into batches, batches shuffled. Sheep are mostly far shorter than 250 points, so padding each
    /// batch only to its own longest sketch saves most of the compute.
    /// </summary>
    public static List<int[]> BucketedBatches(IReadOnlyList<int> lengths, int batchSize, Random rng)
    {
        var order = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i] * (1 + 0.1 * (rng.NextDouble() - 0.5))).ToArray();
        var batches = order.Chunk(batchSize).ToList();
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        return batches;
    }
}
