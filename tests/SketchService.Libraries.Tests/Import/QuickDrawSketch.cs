using System.Text.Json;

namespace SketchService.Libraries.Tests.Import;

/// <summary>Turns a Quick Draw simplified drawing into the stroke-5 inputs a decoder is fed, for parity tests.</summary>
internal static class QuickDrawSketch
{
    /// <summary>
    /// The first drawing of a class as exactly <paramref name="count"/> stroke-5 inputs: the start token [0,0,1,0,0],
    /// then consecutive offsets / scale (pen lifted on each stroke's last point), then end tokens [0,0,0,0,1].
    /// </summary>
    public static float[][] Stroke5(string className, double scaleFactor, int count)
    {
        var line = File.ReadLines(SharedData.Path("data", "quickdraw", "simplified", className + ".ndjson")).First();
        using var doc = JsonDocument.Parse(line);
        var points = new List<(float X, float Y, bool Lifted)>();
        foreach (var stroke in doc.RootElement.GetProperty("drawing").EnumerateArray())
        {
            var xs = stroke[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var ys = stroke[1].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            for (int k = 0; k < xs.Length; k++) points.Add((xs[k], ys[k], k == xs.Length - 1));
        }

        var result = new List<float[]> { new float[] { 0, 0, 1, 0, 0 } };
        for (int k = 1; k < points.Count && result.Count < count; k++)
        {
            var (p, q) = (points[k - 1], points[k]);
            result.Add([(float)((q.X - p.X) / scaleFactor), (float)((q.Y - p.Y) / scaleFactor), q.Lifted ? 0 : 1, q.Lifted ? 1 : 0, 0]);
        }
        while (result.Count < count) result.Add([0, 0, 0, 0, 1]);
        return [.. result];
    }
}
