using System.ComponentModel;

namespace SketchService.Api.Responses;

/// <summary>A sketch in both output forms, in the caller's scale.</summary>
public sealed record SketchOutput(
    [property: Description("Stroke-3 rows [dx, dy, pen_lifted].")] float[][] Strokes,
    [property: Description("Absolute polylines [[[x…],[y…]], …] (cumulative sums of the strokes).")] float[][][] Polylines);
