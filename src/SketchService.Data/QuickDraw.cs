using System.Text;
using System.Text.Json;
using SketchService.Core.Strokes;

namespace SketchService.Data;

/// <summary>
/// One line of a Quick, Draw! <c>.ndjson</c> file. <see cref="Drawing"/> holds the strokes in the
/// file's own coordinates (0–255 integers for simplified files, screen pixels for raw ones).
/// <see cref="Times"/> is parallel to <see cref="Drawing"/> (ms per point) for raw files and null
/// for simplified ones.
/// </summary>
public sealed record QuickDrawDrawing(
    string Word,
    string CountryCode,
    string Timestamp,
    bool Recognized,
    string KeyId,
    IReadOnlyList<Polyline> Drawing,
    IReadOnlyList<double[]>? Times);

/// <summary>Reads Quick, Draw! <c>.ndjson</c> files, simplified (<c>[[x…],[y…]]</c>) and raw (<c>[[x…],[y…],[t…]]</c>).</summary>
public static class QuickDraw
{
    /// <summary>Streams the drawings of a file, one line at a time; blank lines are skipped.</summary>
    public static IEnumerable<QuickDrawDrawing> ReadFile(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        foreach (var drawing in Read(reader, path))
            yield return drawing;
    }

    /// <summary>
    /// Streams the drawings of an ndjson text. A malformed line throws <see cref="FormatException"/>
    /// naming <paramref name="source"/> and the 1-based line number.
    /// </summary>
    public static IEnumerable<QuickDrawDrawing> Read(TextReader reader, string source = "ndjson")
    {
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            QuickDrawDrawing drawing;
            try
            {
                drawing = ParseLine(line);
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw new FormatException($"{source}, line {lineNumber}: {e.Message}", e);
            }
            yield return drawing;
        }
    }

    /// <summary>Parses one ndjson line; throws <see cref="FormatException"/> or <see cref="JsonException"/> when malformed.</summary>
    public static QuickDrawDrawing ParseLine(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException("expected a JSON object");

        var (strokes, times) = ParseDrawing(Property(root, "drawing"));
        return new QuickDrawDrawing(
            Word: Text(root, "word"),
            CountryCode: Text(root, "countrycode"),
            Timestamp: Text(root, "timestamp"),
            Recognized: Property(root, "recognized").ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new FormatException("\"recognized\" must be true or false"),
            },
            KeyId: KeyId(Property(root, "key_id")),
            Drawing: strokes,
            Times: times);
    }

    private static (List<Polyline> Strokes, List<double[]>? Times) ParseDrawing(JsonElement drawing)
    {
        if (drawing.ValueKind != JsonValueKind.Array)
            throw new FormatException("\"drawing\" must be an array of strokes");

        var strokes = new List<Polyline>(drawing.GetArrayLength());
        List<double[]>? times = null;
        var index = 0;
        foreach (var stroke in drawing.EnumerateArray())
        {
            var arrays = stroke.ValueKind == JsonValueKind.Array ? stroke.GetArrayLength() : 0;
            if (arrays is not (2 or 3))
                throw new FormatException($"stroke {index} must be [[x…],[y…]] or [[x…],[y…],[t…]]");
            // A file is either all simplified or all raw; a mix means a corrupt line.
            if (index > 0 && (arrays == 3) != (times is not null))
                throw new FormatException($"stroke {index} mixes raw (with times) and simplified strokes");

            var x = Numbers(stroke[0], index, "x");
            var y = Numbers(stroke[1], index, "y");
            if (x.Length != y.Length || x.Length == 0)
                throw new FormatException($"stroke {index} needs equally many x and y values, at least one");
            strokes.Add(new Polyline(ToFloat(x), ToFloat(y)));

            if (arrays == 3)
            {
                var t = Numbers(stroke[2], index, "t");
                if (t.Length != x.Length)
                    throw new FormatException($"stroke {index} has {t.Length} times for {x.Length} points");
                (times ??= []).Add(t);
            }
            index++;
        }
        return (strokes, times);
    }

    private static double[] Numbers(JsonElement array, int stroke, string name)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new FormatException($"stroke {stroke}: {name} must be an array of numbers");
        var values = new double[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number)
                throw new FormatException($"stroke {stroke}: {name}[{i}] is not a number");
            values[i++] = item.GetDouble();
        }
        return values;
    }

    // Raw coordinates are float32 values printed in full, so float loses nothing.
    private static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    private static JsonElement Property(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : throw new FormatException($"missing \"{name}\"");

    private static string Text(JsonElement root, string name)
    {
        var value = Property(root, name);
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"\"{name}\" must be a string");
    }

    // key_id is a string in Google's files; accept a bare number too, keeping its digits exactly.
    private static string KeyId(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        _ => throw new FormatException("\"key_id\" must be a string"),
    };
}
