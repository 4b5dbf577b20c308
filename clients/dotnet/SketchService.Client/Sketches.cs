using System.Text.Json;
using System.Text.Json.Serialization;

namespace SketchService.Client;

/// <summary>
/// One stroke-3 row: the offset from the previous point and whether the pen lifts after this point. On the wire it is
/// <c>[dx, dy, pen_lifted]</c> with pen_lifted 0 or 1.
/// </summary>
[JsonConverter(typeof(StrokeRowConverter))]
public readonly record struct StrokeRow(double Dx, double Dy, bool PenLifted);

/// <summary>One stroke as absolute points, Quick Draw's <c>[[x…], [y…]]</c>.</summary>
[JsonConverter(typeof(PolylineConverter))]
public sealed record Polyline(IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>A stroke through the given (x, y) points.</summary>
    public static Polyline Of(params (double X, double Y)[] points) => new([.. points.Select(p => p.X)], [.. points.Select(p => p.Y)]);
}

/// <summary>
/// A sketch sent to the service: exactly one of <see cref="Strokes"/> (stroke-3 in the model's training pixels) or
/// <see cref="Polylines"/> (absolute points, any scale; <see cref="Frame"/> is the side of the square they were drawn in).
/// </summary>
public sealed record SketchInput
{
    /// <summary>Stroke-3 rows in the model's training pixel space.</summary>
    public IReadOnlyList<StrokeRow>? Strokes { get; init; }

    /// <summary>Absolute strokes, e.g. from a canvas or a Quick Draw file.</summary>
    public IReadOnlyList<Polyline>? Polylines { get; init; }

    /// <summary>With polylines: the side of the square they were drawn in (a canvas's size); see the API's conventions.</summary>
    public double? Frame { get; init; }

    /// <summary>A sketch as stroke-3 rows.</summary>
    public static SketchInput FromStrokes(IEnumerable<StrokeRow> strokes) => new() { Strokes = [.. strokes] };

    /// <summary>A sketch as absolute strokes, drawn in a square of side <paramref name="frame"/> when given.</summary>
    public static SketchInput FromPolylines(IEnumerable<Polyline> polylines, double? frame = null) => new() { Polylines = [.. polylines], Frame = frame };
}

/// <summary>Conversions between the two forms of a sketch.</summary>
public static class Strokes
{
    /// <summary>
    /// Absolute strokes from stroke-3 rows, starting at (<paramref name="x"/>, <paramref name="y"/>): each row moves the
    /// pen by (dx, dy) and a lifted pen ends the stroke there.
    /// </summary>
    public static IReadOnlyList<Polyline> ToPolylines(IEnumerable<StrokeRow> rows, double x = 0, double y = 0)
    {
        var lines = new List<Polyline>();
        List<double> xs = [], ys = [];
        foreach (var r in rows)
        {
            x += r.Dx;
            y += r.Dy;
            xs.Add(x);
            ys.Add(y);
            if (!r.PenLifted) continue;
            lines.Add(new Polyline(xs, ys));
            (xs, ys) = ([], []);
        }
        if (xs.Count > 0) lines.Add(new Polyline(xs, ys));
        return lines;
    }

    /// <summary>
    /// Stroke-3 rows from absolute strokes: the first row is the first point's offset from (0, 0) and the last point of
    /// each stroke lifts the pen. Strokes with no points are skipped.
    /// </summary>
    public static IReadOnlyList<StrokeRow> FromPolylines(IEnumerable<Polyline> lines)
    {
        var rows = new List<StrokeRow>();
        double px = 0, py = 0;
        foreach (var line in lines)
        {
            if (line.X.Count != line.Y.Count) throw new ArgumentException($"a polyline has {line.X.Count} x and {line.Y.Count} y values", nameof(lines));
            for (var i = 0; i < line.X.Count; i++)
            {
                rows.Add(new StrokeRow(line.X[i] - px, line.Y[i] - py, i == line.X.Count - 1));
                (px, py) = (line.X[i], line.Y[i]);
            }
        }
        return rows;
    }
}

/// <summary><c>[dx, dy, pen_lifted]</c> ↔ <see cref="StrokeRow"/>.</summary>
internal sealed class StrokeRowConverter : JsonConverter<StrokeRow>
{
    public override StrokeRow Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("a stroke-3 row is an array [dx, dy, pen_lifted]");
        Span<double> v = stackalloc double[3];
        var n = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (n == 3 || reader.TokenType != JsonTokenType.Number) throw new JsonException("a stroke-3 row is three numbers [dx, dy, pen_lifted]");
            v[n++] = reader.GetDouble();
        }
        if (n != 3) throw new JsonException("a stroke-3 row is three numbers [dx, dy, pen_lifted]");
        return new StrokeRow(v[0], v[1], v[2] != 0);
    }

    public override void Write(Utf8JsonWriter writer, StrokeRow value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Dx);
        writer.WriteNumberValue(value.Dy);
        writer.WriteNumberValue(value.PenLifted ? 1 : 0);
        writer.WriteEndArray();
    }
}

/// <summary><c>[[x…], [y…]]</c> (a third array of times is read and dropped) ↔ <see cref="Polyline"/>.</summary>
internal sealed class PolylineConverter : JsonConverter<Polyline>
{
    public override Polyline Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var arrays = JsonSerializer.Deserialize<double[][]>(ref reader, options);
        if (arrays is not { Length: 2 or 3 } || arrays[0] is null || arrays[1] is null || arrays[0].Length != arrays[1].Length)
            throw new JsonException("a polyline is [[x…], [y…]] with as many x as y");
        return new Polyline(arrays[0], arrays[1]);
    }

    public override void Write(Utf8JsonWriter writer, Polyline value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var values in new[] { value.X, value.Y })
        {
            writer.WriteStartArray();
            foreach (var v in values) writer.WriteNumberValue(v);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }
}
