using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Responses;
using SketchService.Core.Model;
using SketchService.Core.Strokes;

namespace SketchService.Api.Requests;

/// <summary>
/// Maps between the caller's coordinates and the model's space (training pixels ÷ scale_factor). Stroke-3 input is
/// in training pixels; polylines are shifted so their first point is the origin and scaled so max(width, height) = drawing_extent.
/// </summary>
public sealed class SketchSpace
{
    private readonly double _scaleFactor;
    private readonly double _resize;     // caller units → training pixels
    private readonly float _x0, _y0;     // the caller's first point of the drawing
    public bool FromPolylines { get; }

    private SketchSpace(double scaleFactor, double resize, float x0, float y0, bool fromPolylines) =>
        (_scaleFactor, _resize, _x0, _y0, FromPolylines) = (scaleFactor, resize, x0, y0, fromPolylines);

    /// <summary>The model's training pixel space: stroke-3 × scale_factor.</summary>
    public static SketchSpace Training(ModelManifest m) => new(m.ScaleFactor, 1, 0, 0, false);

    /// <summary>Quick Draw's convention: a whole drawing fills a 0–255 frame.</summary>
    public const double QuickDrawFrame = 256;

    /// <summary>
    /// Validates <paramref name="input"/> (reporting errors under <paramref name="field"/>) and converts it to model
    /// space. Polylines map their <see cref="SketchInput.Frame"/> to the model's drawing_extent; without a frame, a
    /// whole drawing (to encode) is resized to its own bounding box, and a <paramref name="partial"/> one (the start of a
    /// drawing, to continue) is taken to be in Quick Draw's 0–255 frame, so it is not enlarged as if it were whole.
    /// </summary>
    public static (StrokePoint[] Model, SketchSpace Space) Read(SketchInput? input, ModelManifest manifest, int maxPoints, double maxCoordinate, string field, bool partial)
    {
        if (input is null) throw ApiProblem.Invalid(field, "a sketch is required: give 'strokes' (stroke-3) or 'polylines'");
        if ((input.Strokes is null) == (input.Polylines is null))
            throw ApiProblem.Invalid(field, "give exactly one of 'strokes' (stroke-3) or 'polylines'");
        if (input.Strokes is { } rows)
        {
            if (input.Frame is not null)
                throw ApiProblem.Invalid($"{field}.frame", "is the frame of polylines; strokes are offsets in the model's training pixels and take none");
            if (rows.Length == 0) throw ApiProblem.Invalid($"{field}.strokes", "needs at least one point");
            if (rows.Length > maxPoints) throw ApiProblem.Invalid($"{field}.strokes", $"has {rows.Length} points; the limit is {maxPoints}");
            var points = new StrokePoint[rows.Length];
            var sf = manifest.ScaleFactor;
            for (var i = 0; i < rows.Length; i++)
            {
                var r = rows[i];
                if (r is null || r.Length != 3) throw ApiProblem.Invalid($"{field}.strokes[{i}]", "must be [dx, dy, pen_lifted]");
                if (!(Math.Abs(r[0]) <= maxCoordinate && Math.Abs(r[1]) <= maxCoordinate))
                    throw ApiProblem.Invalid($"{field}.strokes[{i}]", $"dx and dy must be finite numbers within ±{maxCoordinate}");
                if (r[2] is not (0 or 1)) throw ApiProblem.Invalid($"{field}.strokes[{i}][2]", "pen_lifted must be 0 or 1");
                points[i] = new StrokePoint((float)(r[0] / sf), (float)(r[1] / sf), r[2] == 1);
            }
            return (points, Training(manifest));
        }

        var strokes = input.Polylines!;
        if (strokes.Length == 0) throw ApiProblem.Invalid($"{field}.polylines", "needs at least one stroke");
        var lines = new List<Polyline>(strokes.Length);
        var total = 0;
        for (var s = 0; s < strokes.Length; s++)
        {
            var st = strokes[s];
            if (st is null || st.Length is < 2 or > 3 || st[0] is null || st[1] is null)
                throw ApiProblem.Invalid($"{field}.polylines[{s}]", "must be [[x…], [y…]] (optionally [[x…], [y…], [t…]])");
            if (st[0].Length != st[1].Length) throw ApiProblem.Invalid($"{field}.polylines[{s}]", $"has {st[0].Length} x values but {st[1].Length} y values");
            if (st[0].Length == 0) throw ApiProblem.Invalid($"{field}.polylines[{s}]", "needs at least one point");
            total += st[0].Length;
            if (total > maxPoints) throw ApiProblem.Invalid($"{field}.polylines", $"has more than {maxPoints} points; the limit is {maxPoints}");
            for (var i = 0; i < st[0].Length; i++)
                if (!(Math.Abs(st[0][i]) <= maxCoordinate && Math.Abs(st[1][i]) <= maxCoordinate))
                    throw ApiProblem.Invalid($"{field}.polylines[{s}]", $"point {i} must be a pair of finite numbers within ±{maxCoordinate}");
            lines.Add(new Polyline(st[0], st[1]));
        }
        if (input.Frame is { } frame && !(frame >= 1 && frame <= maxCoordinate))
            throw ApiProblem.Invalid($"{field}.frame", $"must be a number between 1 and {maxCoordinate}; got {frame}");
        var box = StrokeFormats.Bounds(lines);
        var extent = Math.Max(box.Width, box.Height);
        var resize = input.Frame is { } given ? manifest.DrawingExtent / given
            : partial ? manifest.DrawingExtent / QuickDrawFrame
            : extent > 0 ? manifest.DrawingExtent / extent : 1.0;
        // The drawing's first point becomes the origin, so the first stroke-3 offset is (0, 0): training data
        // start with an ordinary small offset, and a jump from some corner would be an input the model never saw.
        var (x0, y0) = (lines[0].X[0], lines[0].Y[0]);
        var space = new SketchSpace(manifest.ScaleFactor, resize, x0, y0, true);
        var scaled = lines.Select(l => new Polyline(
            [.. l.X.Select(x => (float)((x - x0) * resize / manifest.ScaleFactor))],
            [.. l.Y.Select(y => (float)((y - y0) * resize / manifest.ScaleFactor))])).ToList();
        return (StrokeFormats.ToStroke3(scaled), space);
    }

    /// <summary>Model-space stroke-3 → both output forms in the caller's coordinates.</summary>
    public SketchOutput ToOutput(StrokePoint[] model)
    {
        var k = _scaleFactor / _resize;
        var modelLines = StrokeFormats.ToPolylines(model);
        var lines = modelLines.Select(l => new Polyline(
            [.. l.X.Select(x => (float)(x * k + _x0))],
            [.. l.Y.Select(y => (float)(y * k + _y0))])).ToList();
        float[][] strokes;
        if (FromPolylines)
        {
            strokes = [.. StrokeFormats.ToStroke3(lines).Select(p => new[] { p.Dx, p.Dy, p.PenLifted ? 1f : 0f })];
            // Polylines end every stroke with a lift; a sketch cut at max_steps has its pen still down, as the model's points say.
            if (strokes.Length > 0 && model.Length > 0) strokes[^1][2] = model[^1].PenLifted ? 1f : 0f;
        }
        else
        {
            strokes = new float[model.Length][];
            for (var i = 0; i < model.Length; i++)
                strokes[i] = [(float)(model[i].Dx * k), (float)(model[i].Dy * k), model[i].PenLifted ? 1f : 0f];
        }
        return new SketchOutput(strokes, [.. lines.Select(l => new[] { l.X, l.Y })]);
    }

    /// <summary>One model-space offset in the caller's units (for streamed points).</summary>
    public (float Dx, float Dy) Scale(float dx, float dy) => ((float)(dx * _scaleFactor / _resize), (float)(dy * _scaleFactor / _resize));

    /// <summary>A model-space absolute position in the caller's coordinates.</summary>
    public (float X, float Y) Position(float x, float y) => ((float)(x * _scaleFactor / _resize + _x0), (float)(y * _scaleFactor / _resize + _y0));
}
