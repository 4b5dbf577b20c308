using System.ComponentModel;
using SketchService.Core.Strokes;

namespace SketchService.Api.Requests;

/// <summary>A latent value given directly (<see cref="Z"/>) or as a sketch to encode (its posterior mean).</summary>
public sealed record LatentOperand
{
    [Description("A latent vector (latent_size numbers).")]
    public float[]? Z { get; init; }
    [Description("Or a sketch as stroke-3 rows [dx, dy, pen_lifted] (encoded to its posterior mean).")]
    public float[][]? Strokes { get; init; }
    [Description("Or a sketch as Quick Draw polylines [[[x…],[y…]], …].")]
    public float[][][]? Polylines { get; init; }
    [Description("With polylines: the side of the square the drawing was made in, mapped to the model's drawing_extent. Default: the drawing is resized to its own bounding box.")]
    public double? Frame { get; init; }
}

/// <summary>A latent operand after the rules: a z as given, or a sketch (model space) to encode to its posterior mean.</summary>
public sealed record Operand(string Field, float[]? Z, StrokePoint[]? Sketch);
