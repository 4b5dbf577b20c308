using SketchService.Core.Strokes;
using SketchService.Data;

namespace SketchService.Trainer;

/// <summary>Training data from one or more files (.npz Sketch-RNN sets), purified and normalised.</summary>
public sealed record TrainingData(string Name, StrokePoint[][] Train, StrokePoint[][] Valid, StrokePoint[][] Test, double ScaleFactor, IReadOnlyList<DataFile> Files)
{
    /// <summary>
    /// Loads and concatenates every file's splits, drops sketches longer than maxSeqLen, and normalises
    /// by the scale factor of the training split (or the given one, e.g. when resuming or evaluating).
    /// </summary>
    public static TrainingData Load(IReadOnlyList<string> paths, int maxSeqLen, double? scaleFactor = null)
    {
        if (paths.Count == 0) throw new ArgumentException("no data file given (--data)");
        var files = paths.Select(Read).Select(s => new StrokeSplits(s.Name, StrokeDataset.Purify(s.Train, maxSeqLen),
            StrokeDataset.Purify(s.Valid, maxSeqLen), StrokeDataset.Purify(s.Test, maxSeqLen))).ToList();
        var train = files.SelectMany(s => s.Train).ToArray();
        if (train.Length == 0) throw new InvalidDataException($"no training sketch of 11..{maxSeqLen} points in {string.Join(", ", paths)}");
        var scale = scaleFactor ?? StrokeDataset.ScaleFactor(train);
        StrokePoint[][] Normalized(Func<StrokeSplits, StrokePoint[][]> split) => StrokeDataset.Normalize(files.SelectMany(split), scale);
        return new TrainingData(string.Join("+", files.Select(s => s.Name)), Normalized(s => s.Train), Normalized(s => s.Valid), Normalized(s => s.Test), scale,
            files.Select(s => new DataFile(s.Name, s.Train.Length, s.Valid.Length, s.Test.Length)).ToArray());
    }

    /// <summary>The counts of every split, and of each file's when there are several.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"data {Name}: train {Train.Length}, valid {Valid.Length}, test {Test.Length}, scale factor {ScaleFactor:F4}";
        if (Files.Count > 1)
            foreach (var f in Files) yield return $"  {f.Name}: train {f.Train}, valid {f.Valid}, test {f.Test}";
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

/// <summary>How many sketches of each split one data file gave (after dropping too short or long ones).</summary>
public sealed record DataFile(string Name, int Train, int Valid, int Test);
