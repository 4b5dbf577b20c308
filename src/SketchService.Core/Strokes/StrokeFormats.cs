namespace SketchService.Core.Strokes;

/// <summary>Axis-aligned bounds of a drawing in absolute coordinates.</summary>
public readonly record struct BoundingBox(float MinX, float MinY, float MaxX, float MaxY)
{
    public float Width => MaxX - MinX;
    public float Height => MaxY - MinY;
}

/// <summary>
/// Conversions between absolute polylines (Quick Draw), stroke-3 (<see cref="StrokePoint"/>) and
/// stroke-5 rows <c>(dx, dy, p_down, p_up, p_end)</c>, following Magenta's sketch-rnn
/// <c>utils.py</c> (<c>lines_to_strokes</c>, <c>strokes_to_lines</c>, <c>to_big_strokes</c>,
/// <c>to_normal_strokes</c>) and its data loader's start-token convention.
/// </summary>
public static class StrokeFormats
{
    /// <summary>The decoder's first input S0 = (0, 0, 1, 0, 0).</summary>
    public static float[] StartToken => [0, 0, 1, 0, 0];

    /// <summary>A padding row after the end of a sketch: (0, 0, 0, 0, 1).</summary>
    public static float[] EndToken => [0, 0, 0, 0, 1];

    /// <summary>
    /// Absolute polylines → stroke-3: each point's offset from the previous point, across strokes;
    /// the pen lifts on the last point of every stroke. As in Magenta's <c>lines_to_strokes</c>, the
    /// first point's offset is taken from the origin (0, 0), so it carries the drawing's absolute
    /// position and <see cref="ToPolylines"/> restores the coordinates exactly (up to float rounding;
    /// exactly for integer data such as Quick Draw's simplified files).
    /// </summary>
    public static StrokePoint[] ToStroke3(IReadOnlyList<Polyline> strokes)
    {
        var result = new StrokePoint[strokes.Sum(s => s.Count)];
        float prevX = 0, prevY = 0;
        var n = 0;
        foreach (var stroke in strokes)
        {
            for (var i = 0; i < stroke.Count; i++)
            {
                result[n++] = new StrokePoint(stroke.X[i] - prevX, stroke.Y[i] - prevY, i == stroke.Count - 1);
                prevX = stroke.X[i];
                prevY = stroke.Y[i];
            }
        }
        return result;
    }

    /// <summary>
    /// The polylines of a sketch's first <paramref name="given"/> points and of the rest, in one coordinate frame (so
    /// they can be drawn in two colours over each other): where the pen is still down at the boundary, the rest's first
    /// line starts at the last given point, so no segment is lost.
    /// </summary>
    public static (IReadOnlyList<Polyline> Given, IReadOnlyList<Polyline> Continued) Split(ReadOnlySpan<StrokePoint> strokes, int given)
    {
        given = Math.Clamp(given, 0, strokes.Length);
        var first = ToPolylines(strokes[..given]);
        float x = 0, y = 0;
        foreach (var p in strokes[..given]) { x += p.Dx; y += p.Dy; }
        var rest = ToPolylines(strokes[given..]).Select(l => new Polyline([.. l.X.Select(v => v + x)], [.. l.Y.Select(v => v + y)])).ToList();
        if (given > 0 && !strokes[given - 1].PenLifted && rest.Count > 0)
            rest[0] = new Polyline([x, .. rest[0].X], [y, .. rest[0].Y]);
        return (first, rest);
    }

    /// <summary>
    /// Stroke-3 → absolute polylines: cumulative sum from (0, 0), a new polyline after every pen
    /// lift. Unlike Magenta's <c>strokes_to_lines</c>, trailing points whose pen never lifts (a
    /// sampled sketch cut at its maximum length) are kept as a last polyline rather than dropped.
    /// </summary>
    public static IReadOnlyList<Polyline> ToPolylines(ReadOnlySpan<StrokePoint> strokes)
    {
        var result = new List<Polyline>();
        var xs = new List<float>();
        var ys = new List<float>();
        float x = 0, y = 0;
        foreach (var point in strokes)
        {
            x += point.Dx;
            y += point.Dy;
            xs.Add(x);
            ys.Add(y);
            if (point.PenLifted)
                Flush();
        }
        if (xs.Count > 0)
            Flush();
        return result;

        void Flush()
        {
            result.Add(new Polyline([.. xs], [.. ys]));
            xs.Clear();
            ys.Clear();
        }
    }

    /// <summary>
    /// Stroke-3 → stroke-5 as Magenta's <c>to_big_strokes</c>: one row per point with
    /// p_down = 1 − pen_lifted and p_up = pen_lifted, then (0, 0, 0, 0, 1) rows up to
    /// <paramref name="maxLength"/> (default: the sketch's own length, i.e. no padding and, as in
    /// Magenta, no end row). Throws when the sketch is longer than <paramref name="maxLength"/>.
    /// </summary>
    public static float[][] ToStroke5(ReadOnlySpan<StrokePoint> strokes, int? maxLength = null)
    {
        var length = maxLength ?? strokes.Length;
        if (strokes.Length > length)
            throw new ArgumentException($"sketch has {strokes.Length} points, more than maxLength {length}", nameof(maxLength));

        var rows = new float[length][];
        for (var i = 0; i < strokes.Length; i++)
        {
            var lifted = strokes[i].PenLifted ? 1f : 0f;
            rows[i] = [strokes[i].Dx, strokes[i].Dy, 1 - lifted, lifted, 0];
        }
        for (var i = strokes.Length; i < length; i++)
            rows[i] = EndToken;
        return rows;
    }

    /// <summary>Min/max of all points of absolute polylines; throws for a drawing with no points.</summary>
    public static BoundingBox Bounds(IReadOnlyList<Polyline> strokes)
    {
        float minX = float.MaxValue, minY = float.MaxValue, maxX = float.MinValue, maxY = float.MinValue;
        foreach (var stroke in strokes)
        {
            for (var i = 0; i < stroke.Count; i++)
            {
                minX = Math.Min(minX, stroke.X[i]);
                maxX = Math.Max(maxX, stroke.X[i]);
                minY = Math.Min(minY, stroke.Y[i]);
                maxY = Math.Max(maxY, stroke.Y[i]);
            }
        }
        return minX <= maxX
            ? new BoundingBox(minX, minY, maxX, maxY)
            : throw new ArgumentException("drawing has no points", nameof(strokes));
    }

    /// <summary>Bounds of a stroke-3 sketch's absolute points (cumulative sums from the origin).</summary>
    public static BoundingBox Bounds(ReadOnlySpan<StrokePoint> strokes) => Bounds(ToPolylines(strokes));
}
