using SketchService.Core.Strokes;
namespace SketchService.Data;

/// <summary>The train/valid/test splits of a Sketch-RNN dataset, each a list of stroke-3 sketches.</summary>
public sealed record StrokeSplits(string Name, StrokePoint[][] Train, StrokePoint[][] Valid, StrokePoint[][] Test)
{
    /// <summary>
    /// Reads a Sketch-RNN .npz (Quick Draw's sketchrnn/*.npz layout): arrays train/valid/test, each an
    /// object array of [n, 3] (dx, dy, pen_lifted) arrays, any numeric dtype.
    /// </summary>
    public static StrokeSplits ReadNpz(string path)
    {
        Dictionary<string, object?> arrays;
        try { arrays = Npy.ReadNpz(path); }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is not a readable Sketch-RNN .npz (a NumPy zip of train, valid and test stroke arrays): {e.Message}", e);
        }
        StrokePoint[][] Split(string key) => arrays.TryGetValue(key, out var v) && v is object?[] items
            ? items.Select((o, i) => ToSketch(o as NdArray ?? throw new InvalidDataException($"{path}: {key}[{i}] is not a numeric array"), $"{key}[{i}]")).ToArray()
            : throw new InvalidDataException($"{path}: no object array '{key}'");
        return new StrokeSplits(Path.GetFileNameWithoutExtension(path), Split("train"), Split("valid"), Split("test"));
    }

    private static StrokePoint[] ToSketch(NdArray a, string where)
    {
        if (a.Shape.Length != 2 || a.Shape[1] != 3) throw new InvalidDataException($"{where} has shape [{string.Join(',', a.Shape)}], expected [n,3]");
        var r = new StrokePoint[a.Shape[0]];
        for (var i = 0; i < r.Length; i++) r[i] = new StrokePoint((float)a.Data[3 * i], (float)a.Data[3 * i + 1], a.Data[3 * i + 2] != 0);
        return r;
    }
}
