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

    private static StrokeSplits Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file not found: {path}", path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".npz" => StrokeSplits.ReadNpz(path),
            _ => throw new InvalidDataException($"{path}: unsupported data format (expected .npz or .ndjson)"),
        };
    }
}
