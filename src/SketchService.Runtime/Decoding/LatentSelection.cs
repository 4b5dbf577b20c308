using SketchService.Core.Strokes;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// The z a partial drawing makes most likely: among candidate codes of whole drawings (draws from the model's data
/// prior), the one under which the decoder, teacher-forced over the prefix at τ 1, gives it the highest likelihood —
/// p(z | prefix) ∝ p(prefix | z) p(z) with the prior as the proposal. A completion from that z starts as the person
/// did and goes on as whole drawings do (legs, a head), where the prefix's own encoding is the code of a drawing that is
/// only its start (docs/experiments/sheep.md). One decoder row per candidate; the prefixes of several requests are
/// stepped together in one batch.
/// </summary>
public static class LatentSelection
{
    /// <summary>
    /// How many codes are drawn from the data prior to choose among. For the sheep, 16 random training μ completed as
    /// well as 64 within the measure's scatter (70.0 % against 68.7 % told apart), at a quarter of the rows.
    /// </summary>
    public const int Candidates = 16;

    /// <summary><see cref="Candidates"/> draws from the model's data prior, from a seed: the same request gets the same z.</summary>
    public static float[][] Draw(SketchModel model, int seed)
    {
        var prior = model.Prior ?? throw new InvalidOperationException($"{model.Id} has no data prior to draw candidates from");
        var rng = Core.SeededRandom.Create(seed);
        return [.. Enumerable.Range(0, Candidates).Select(_ => prior.Sample(rng))];
    }

    /// <summary>One prefix and the codes to choose its z among.</summary>
    public readonly record struct Choice(IReadOnlyList<StrokePoint> Prefix, IReadOnlyList<float[]> Candidates);

    /// <summary>
    /// For each choice, the index of the candidate under which the decoder finds its prefix most likely (the first of
    /// equals; a score that is not finite never wins), or null where <paramref name="stopped"/> says, between steps, that
    /// the choice is no longer wanted. All rows step together until the longest prefix is read (or every choice is
    /// stopped); a shorter prefix's rows idle after its end, and a stopped choice's rows step on unread.
    /// </summary>
    public static int?[] MostLikely(SketchModel model, IReadOnlyList<Choice> choices, Func<int, bool>? stopped = null)
    {
        if (choices.Count == 0) return [];
        using var state = new DecoderState(model, Math.Max(1, choices.Sum(c => c.Candidates.Count)));
        return MostLikely(state, choices, stopped);
    }

    /// <summary>
    /// The same on a decoder state the caller keeps, emptied first, with room for every candidate's row: the scheduler's
    /// encoder lane keeps one, so that scoring allocates no buffers and makes no bindings run after run.
    /// </summary>
    public static int?[] MostLikely(DecoderState state, IReadOnlyList<Choice> choices, Func<int, bool>? stopped = null)
    {
        if (choices.Count == 0) return [];
        if (choices.Any(c => c.Candidates.Count == 0)) throw new ArgumentException("a choice has no candidates", nameof(choices));
        var first = new int[choices.Count + 1]; // choice g owns rows first[g] .. first[g + 1] - 1
        for (int g = 0; g < choices.Count; g++) first[g + 1] = first[g] + choices[g].Candidates.Count;
        state.Clear();
        state.AddRows(first[^1], [.. choices.SelectMany(c => c.Candidates)]); // every row starts on S0
        var logLikelihood = new double[first[^1]];
        var wanted = Enumerable.Repeat(true, choices.Count).ToArray();
        int steps = choices.Max(c => c.Prefix.Count);
        for (int i = 0; i < steps; i++)
        {
            for (int g = 0; g < choices.Count; g++)
                if (wanted[g] && stopped?.Invoke(g) == true) wanted[g] = false;
            if (!wanted.Contains(true)) break;
            for (int g = 0; g < choices.Count; g++)
            {
                var prefix = choices[g].Prefix;
                if (i == 0 || i >= prefix.Count) continue; // S0 was set by the decoder; past its end the row idles
                var previous = PenPoint.From(prefix[i - 1]);
                for (int r = first[g]; r < first[g + 1]; r++) previous.WriteStroke5(state.InputOf(r));
            }
            state.Step();
            for (int g = 0; g < choices.Count; g++)
            {
                if (i >= choices[g].Prefix.Count) continue;
                var point = PenPoint.From(choices[g].Prefix[i]);
                for (int r = first[g]; r < first[g + 1]; r++) logLikelihood[r] += MixtureSampler.LogLikelihood(state.ParamsOf(r), point.Dx, point.Dy, point.Pen);
            }
        }
        var best = new int?[choices.Count];
        for (int g = 0; g < choices.Count; g++)
        {
            if (!wanted[g]) continue;
            int top = -1;
            for (int r = first[g]; r < first[g + 1]; r++)
                if (double.IsFinite(logLikelihood[r]) && (top < 0 || logLikelihood[r] > logLikelihood[top])) top = r;
            best[g] = Math.Max(top, first[g]) - first[g];
        }
        return best;
    }

    /// <summary>One prefix's choice (<see cref="MostLikely(SketchModel, IReadOnlyList{Choice}, Func{int, bool}?)"/>).</summary>
    public static int? MostLikely(SketchModel model, IReadOnlyList<StrokePoint> prefix, IReadOnlyList<float[]> candidates, Func<bool>? stopped = null) =>
        MostLikely(model, [new Choice(prefix, candidates)], stopped is null ? null : _ => stopped())[0];
}
