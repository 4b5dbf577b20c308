using SketchService.Inference.Strokes;

namespace SketchService.Trainer;

/// <summary>Training data from one or more files (.npz Sketch-RNN sets), purified and normalised.</summary>
public sealed record TrainingData(string Name, StrokePoint[][] Train, StrokePoint[][] Valid, StrokePoint[][] Test, double ScaleFactor)
{
    /// <summary>
    /// Loads and concatenates every file's splits, drops sketches longer than maxSeqLen, and normalises
    /// by the scale factor of the training split (or the given one, e.g. when resuming or evaluating).
    /// </summary>
    public static TrainingData Load(IReadOnlyList<string> paths, int maxSeqLen, double? scaleFactor = null)
    {
        if (paths.Count == 0) throw new ArgumentException("no data file given (--data)");
        var splits = paths.Select(Read).ToList();
        var train = StrokeDataset.Purify(splits.SelectMany(s => s.Train), maxSeqLen);
        var valid = StrokeDataset.Purify(splits.SelectMany(s => s.Valid), maxSeqLen);
        var test = StrokeDataset.Purify(splits.SelectMany(s => s.Test), maxSeqLen);
        if (train.Length == 0) throw new InvalidDataException($"no training sketch of 11..{maxSeqLen} points in {string.Join(", ", paths)}");
        var scale = scaleFactor ?? StrokeDataset.ScaleFactor(train);
        return new TrainingData(string.Join("+", splits.Select(s => s.Name)),
            StrokeDataset.Normalize(train, scale), StrokeDataset.Normalize(valid, scale), StrokeDataset.Normalize(test, scale), scale);
    }

    /// <summary>
    /// A Quick Draw .ndjson file, simplified or raw (raw drawings go through Google's simplification first),
    /// split deterministically by key_id hash: 90 % train, 5 % valid, 5 % test.
    /// </summary>
    private static StrokeSplits ReadNdjson(string path)
    {
        var train = new List<StrokePoint[]>();
        var valid = new List<StrokePoint[]>();
        var test = new List<StrokePoint[]>();
        foreach (var d in QuickDraw.ReadFile(path))
        {
            var lines = d.Times is null ? d.Drawing : Simplifier.Simplify(d.Drawing);
            var bucket = (int)(Fnv1a(d.KeyId) % 20);
            (bucket == 0 ? valid : bucket == 1 ? test : train).Add(StrokeFormats.ToStroke3(lines));
        }
        return new StrokeSplits(Path.GetFileNameWithoutExtension(path), [.. train], [.. valid], [.. test]);
    }

    /// <summary>A stable string hash (string.GetHashCode is randomised per process).</summary>
    private static uint Fnv1a(string s)
    {
        var h = 2166136261u;
        foreach (var ch in s) h = (h ^ ch) * 16777619u;
        return h;
    }

    /// <summary>Median of max(width, height) over the training sketches, in the data's own pixels.</summary>
    public double DrawingExtent()
    {
        var extents = Train.Select(s => { var b = StrokeFormats.Bounds(s); return Math.Max(b.Width, b.Height) * ScaleFactor; }).Order().ToArray();
        return extents.Length == 0 ? 0 : extents[extents.Length / 2];
    }

    private static StrokeSplits Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file not found: {path}", path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".npz" => StrokeSplits.ReadNpz(path),
            ".ndjson" => ReadNdjson(path),
            _ => throw new InvalidDataException($"{path}: unsupported data format (expected .npz or .ndjson)"),
        };
    }
}
