namespace SketchService.Core.Strokes;

/// <summary>
/// One stroke-3 point: the offset from the previous point and whether the pen lifts after it
/// (so the next point starts a new stroke). A sketch is a <c>StrokePoint[]</c>.
/// </summary>
public readonly record struct StrokePoint(float Dx, float Dy, bool PenLifted);

/// <summary>One pen-down stroke in absolute coordinates, as Quick Draw stores it: [[x…],[y…]].</summary>
public sealed record Polyline(float[] X, float[] Y)
{
    public int Count => X.Length;
}
