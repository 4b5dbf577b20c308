using SketchService.Core.Strokes;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// The z a partial drawing makes most likely: among candidate codes of whole drawings (draws from the model's data
/// prior), the one under which the decoder, teacher-forced over the prefix at τ 1, gives it the highest likelihood —
/// p(z | prefix) ∝ p(prefix | z) p(z) with the prior as the proposal. A completion from that z starts as the person
/// did and goes on as whole drawings do (legs, a head), where the prefix's own encoding is the code of a drawing that is
/// only its start (docs/experiments/sheep.md). One decoder row per candidate, stepped over the prefix together.
/// </summary>
public static class LatentSelection
{
    /// <summary>How many codes are drawn from the data prior to choose among.</summary>
    public const int Candidates = 64;

    /// <summary><see cref="Candidates"/> draws from the model's data prior, from a seed: the same request gets the same z.</summary>
    public static float[][] Draw(SketchModel model, int seed)
    {
        var prior = model.Prior ?? throw new InvalidOperationException($"{model.Id} has no data prior to draw candidates from");
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, Candidates).Select(_ => prior.Sample(rng))];
    }

    /// <summary>The index of the candidate under which the decoder finds <paramref name="prefix"/> most likely (the first of equals).</summary>
    public static int MostLikely(SketchModel model, IReadOnlyList<StrokePoint> prefix, IReadOnlyList<float[]> candidates)
    {
        if (candidates.Count == 0) throw new ArgumentException("no candidates", nameof(candidates));
        using var state = model.CreateDecoder(candidates.Count, candidates);
        var logLikelihood = new double[candidates.Count];
        Span<float> input = [0, 0, 1, 0, 0]; // S0, then each prefix point as stroke-5
        foreach (var p in prefix)
        {
            for (int r = 0; r < state.Rows; r++) input.CopyTo(state.InputOf(r));
            state.Step();
            var pen = p.PenLifted ? PenState.Up : PenState.Down;
            for (int r = 0; r < state.Rows; r++) logLikelihood[r] += MixtureSampler.LogLikelihood(state.ParamsOf(r), p.Dx, p.Dy, pen);
            input.Clear();
            input[0] = p.Dx;
            input[1] = p.Dy;
            input[p.PenLifted ? 3 : 2] = 1;
        }
        int best = 0;
        for (int r = 1; r < logLikelihood.Length; r++)
            if (logLikelihood[r] > logLikelihood[best]) best = r;
        return best;
    }
}
