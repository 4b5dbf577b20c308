using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;
using SketchService.Api.Sketches;
using SketchService.Core.Strokes;

namespace SketchService.Api.Endpoints;

/// <summary>A latent value given directly (<see cref="Z"/>) or as a sketch to encode (its posterior mean).</summary>
public sealed record LatentOperand
{
    [Description("A latent vector (latent_size numbers).")]
    public float[]? Z { get; init; }
    [Description("Or a sketch as stroke-3 rows [dx, dy, pen_lifted] (encoded to its posterior mean).")]
    public float[][]? Strokes { get; init; }
    [Description("Or a sketch as Quick Draw polylines [[[x…],[y…]], …].")]
    public float[][][]? Polylines { get; init; }

    /// <summary>
    /// Resolves operands to z: given vectors are checked, sketches are encoded in one batch (VAE only). Each comes
    /// back with its sketch (null for a given z), so a picture can show what went in.
    /// </summary>
    public static async Task<(float[] Z, StrokePoint[]? Sketch)[]> Resolve(IReadOnlyList<(string Field, LatentOperand? Operand)> operands, LoadedModel model, SketchServiceOptions limits, CancellationToken ct)
    {
        var result = new (float[] Z, StrokePoint[]? Sketch)[operands.Count];
        var sketches = new List<(int Index, StrokePoint[] Points)>();
        for (var i = 0; i < operands.Count; i++)
        {
            var (field, op) = operands[i];
            if (op is null) throw ApiProblem.Invalid(field, "give z, strokes or polylines");
            var given = (op.Z is not null ? 1 : 0) + (op.Strokes is not null ? 1 : 0) + (op.Polylines is not null ? 1 : 0);
            if (given != 1) throw ApiProblem.Invalid(field, "give exactly one of z, strokes or polylines");
            if (op.Z is not null)
            {
                model.RequireEncoder("work with latent vectors");
                result[i] = (Limits.Latent(op.Z, model.Manifest.LatentSize, $"{field}.z"), null);
            }
            else
            {
                model.RequireEncoder($"encode the sketch given as {field}");
                var (points, _) = SketchSpace.Read(new SketchInput { Strokes = op.Strokes, Polylines = op.Polylines }, model.Manifest, limits, field, wholeDrawing: true);
                sketches.Add((i, points));
            }
        }
        if (sketches.Count > 0)
        {
            var posteriors = await model.EncodeAsync([.. sketches.Select(s => s.Points)], ct);
            for (var k = 0; k < sketches.Count; k++) result[sketches[k].Index] = (posteriors[k].Mu, sketches[k].Points);
        }
        return result;
    }
}
