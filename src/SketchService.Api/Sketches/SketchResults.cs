using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Core.Rendering;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Sketches;

/// <summary>One decoded sketch in the caller's scale, with how its decoding went.</summary>
public sealed record SketchResult(
    [property: Description("Stroke-3 rows [dx, dy, pen_lifted].")] float[][] Strokes,
    [property: Description("Absolute polylines [[[x…],[y…]], …].")] float[][][] Polylines,
    [property: Description("Decoder steps sampled (the end-of-sketch step included).")] int Steps,
    [property: Description("True when the model emitted end-of-sketch before max_steps.")] bool EndedByItself)
{
    public static SketchResult From(SketchOutput o, int steps, bool ended) => new(o.Strokes, o.Polylines, steps, ended);

    public StrokePoint[] ToStroke3() => [.. Strokes.Select(r => new StrokePoint(r[0], r[1], r[2] > 0))];
}

/// <summary>How sketch results are sent: JSON (default), or a drawing for a human (?format=svg|png).</summary>
public static class SketchResults
{
    /// <summary>Each decoded sketch in the caller's scale, after <paramref name="prefix"/> (the given strokes) when there is one.</summary>
    public static IReadOnlyList<SketchResult> From(DecodeResult result, SketchSpace space, StrokePoint[]? prefix = null) =>
        [.. result.Sketches.Select(s => SketchResult.From(space.ToOutput(prefix is null ? s.Points : [.. prefix, .. s.Points]), s.Steps, s.Ended))];

    /// <summary>JSON, or the sketches drawn as SVG or PNG; <c>ct</c> stops a PNG being drawn (the client left, or the deadline passed).</summary>
    public static IResult Respond<T>(T json, string? format, Func<IReadOnlyList<StrokePoint[]>> sketches, CancellationToken ct, Func<IReadOnlyList<string>>? captions = null) =>
        Parse(format) switch
        {
            "svg" => TypedResults.Content(Svg(sketches(), captions?.Invoke()), "image/svg+xml"),
            "png" => TypedResults.File(Png(sketches(), ct), "image/png"),
            _ => TypedResults.Ok(json),
        };

    /// <summary>null/"json" → "json"; "svg"; "png"; anything else is a 400.</summary>
    public static string Parse(string? format) => format?.ToLowerInvariant() switch
    {
        null or "" or "json" => "json",
        "svg" => "svg",
        "png" => "png",
        _ => throw ApiProblem.Invalid("format", $"must be json, svg or png; got '{format}'"),
    };

    public static string Svg(IReadOnlyList<StrokePoint[]> sketches, IReadOnlyList<string>? captions = null) =>
        SketchSvg.Grid(sketches, Columns(sketches.Count), 256, captions);

    public static byte[] Png(IReadOnlyList<StrokePoint[]> sketches, CancellationToken ct = default) =>
        SketchPng.Grid(sketches, Columns(sketches.Count), cancellationToken: ct);

    private static int Columns(int n) => Math.Clamp(n, 1, 5);
}
