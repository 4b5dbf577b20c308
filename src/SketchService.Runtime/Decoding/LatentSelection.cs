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

    /// <summary>
    /// The index of the candidate under which the decoder finds <paramref name="prefix"/> most likely (the first of
    /// equals; a score that is not finite never wins); null when <paramref name="stopped"/> says, between steps, that
    /// the work is no longer wanted.
    /// </summary>
    public static int? MostLikely(SketchModel model, IReadOnlyList<StrokePoint> prefix, IReadOnlyList<float[]> candidates, Func<bool>? stopped = null)
    {
        if (candidates.Count == 0) throw new ArgumentException("no candidates", nameof(candidates));
        using var state = model.CreateDecoder(candidates.Count, candidates); // every row starts on S0
        var logLikelihood = new double[candidates.Count];
        for (int i = 0; i < prefix.Count; i++)
        {
            if (stopped?.Invoke() == true) return null;
            if (i > 0)
                for (int r = 0; r < state.Rows; r++) PenPoint.From(prefix[i - 1]).WriteStroke5(state.InputOf(r));
            state.Step();
            var point = PenPoint.From(prefix[i]);
            for (int r = 0; r < state.Rows; r++) logLikelihood[r] += MixtureSampler.LogLikelihood(state.ParamsOf(r), point.Dx, point.Dy, point.Pen);
        }
        int best = -1;
        for (int r = 0; r < logLikelihood.Length; r++)
            if (double.IsFinite(logLikelihood[r]) && (best < 0 || logLikelihood[r] > logLikelihood[best])) best = r;
        return Math.Max(best, 0);
    }
}
