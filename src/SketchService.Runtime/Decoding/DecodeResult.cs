using SketchService.Core.Strokes;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// A new point of one sample: its offset, its pen state and the pen's position after it (model space, from the start
/// of the prefix). A point with <see cref="PenState.End"/> ends that sample and is not drawn (it does not move the pen).
/// </summary>
public readonly record struct DecodedPoint(int Sample, float Dx, float Dy, PenState Pen, float X, float Y);

/// <summary>All new points of one step; ended samples no longer appear.</summary>
public sealed record DecodeStep(int Index, DecodedPoint[] Points);

/// <summary>A finished sample: its generated points (prefix and end point excluded), the steps it ran and whether it ended by itself.</summary>
public sealed record DecodedSketch(StrokePoint[] Points, int Steps, bool Ended);

/// <summary>A finished run: its seed, one sketch per sample, the z of each sample (null: decoder-only), the time it waited and the time it decoded.</summary>
public sealed record DecodeResult(int Seed, IReadOnlyList<DecodedSketch> Sketches, IReadOnlyList<float[]>? Z, TimeSpan Queued, TimeSpan Duration)
{
    /// <summary>The steps the run took: its longest sample's.</summary>
    public int Steps => Sketches.Select(s => s.Steps).DefaultIfEmpty(0).Max();
}
