using System.ComponentModel;
using SketchService.Api.Infrastructure;

namespace SketchService.Api.Requests;

/// <summary>
/// A sketch as sent by a client: exactly one of <see cref="Strokes"/> (stroke-3 rows <c>[dx, dy, pen_lifted]</c>
/// in the model's training pixel space) or <see cref="Polylines"/> (Quick Draw strokes <c>[[x…],[y…]]</c>,
/// absolute, any scale; a third timing array is allowed and ignored).
/// </summary>
public sealed record SketchInput
{
    [Description("Stroke-3 rows [dx, dy, pen_lifted] in the model's training pixel space (pen_lifted 0 or 1: the pen lifts after this point).")]
    public float[][]? Strokes { get; init; }

    [Description("Quick Draw polylines [[[x…],[y…]], …]: absolute coordinates (see frame).")]
    public float[][][]? Polylines { get; init; }

    [Description("With polylines: the side of the square the drawing was made in (a canvas's size); it maps to the model's drawing_extent, so a partial drawing keeps its size. Default: Quick Draw's 0–255 frame (256) when continuing a drawing; a whole drawing to encode is resized to its own bounding box.")]
    public double? Frame { get; init; }
}
