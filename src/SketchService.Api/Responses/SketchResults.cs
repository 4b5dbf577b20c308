using System.ComponentModel;
using SketchService.Core.Rendering;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Responses;

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

/// <summary>How sketch results are sent: JSON, or a drawing for a human (SVG or PNG).</summary>
public static class SketchResults
{
    /// <summary>A picture's grid: up to <see cref="Columns"/> cells of <see cref="Cell"/> px to a row, at most <see cref="Rows"/> rows.</summary>
    public const int Cell = 256, Columns = 5, Rows = 4;

    /// <summary>Most sketches in one picture: 5 columns × 4 rows of 256 px cells, 1280 × 1024 px.</summary>
    public const int MaxPictureSketches = Rows * Columns;

    /// <summary>How a picture's size is given in a problem's detail.</summary>
    public static string GridSize => $"{Columns} × {Rows} cells of {Cell} px";

    /// <summary>Each decoded sketch put in the caller's scale by <paramref name="toCaller"/>, after <paramref name="prefix"/> (the given strokes) when there is one.</summary>
    public static IReadOnlyList<SketchResult> From(DecodeResult result, Func<StrokePoint[], SketchOutput> toCaller, StrokePoint[]? prefix = null) =>
        [.. result.Sketches.Select(s => SketchResult.From(toCaller(prefix is null ? s.Points : [.. prefix, .. s.Points]), s.Steps, s.Ended))];

    /// <summary>
    /// JSON, or the sketches drawn as SVG or PNG (the request policy has bounded how many); <c>ct</c> stops a PNG being
    /// drawn; <c>given</c> leading points of every sketch (/complete's prefix, what a person drew) are grey, the model's black.
    /// </summary>
    public static Results<Ok<T>, ContentHttpResult, FileContentHttpResult> Respond<T>(T json, OutputFormat format, Func<IReadOnlyList<StrokePoint[]>> sketches,
        CancellationToken ct, Func<IReadOnlyList<string>>? captions = null, int given = 0)
    {
        if (format is not (OutputFormat.Svg or OutputFormat.Png)) return TypedResults.Ok(json);
        var drawn = sketches();
        int[] mine = [.. drawn.Select(_ => given)];
        return format == OutputFormat.Svg
            ? TypedResults.Content(SketchSvg.Grid(drawn, ColumnsFor(drawn.Count), Cell, captions?.Invoke(), given: mine), OutputFormat.Svg.MediaType())
            : TypedResults.File(SketchPng.Grid(drawn, ColumnsFor(drawn.Count), Cell, cancellationToken: ct, given: mine), OutputFormat.Png.MediaType());
    }

    private static int ColumnsFor(int n) => Math.Clamp(n, 1, Columns);
}
