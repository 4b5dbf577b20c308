using static TorchSharp.torch;
using SketchService.Core.Model;

namespace SketchService.Trainer;

/// <summary>
/// Averages the weights of a run's last k kept checkpoints, for every k, and keeps the average that validates best as
/// the run's "average" checkpoint: averaging the iterates (Polyak and Juditsky 1992), over checkpoints late in a run
/// as in stochastic weight averaging (Izmailov et al. 2018). Late in a run the weights wander around a minimum with the
/// noise of small batches, and their mean lies nearer its centre than any one of them.
/// </summary>
public static class Averaging
{
    /// <summary>The average of the last <paramref name="Count"/> kept checkpoints, from step First to step Last.</summary>
    public sealed record Candidate(int Count, long First, long Last, LossFigures Valid, double Loss);

    /// <summary>Every candidate, and the one written to the run's average folder; null (nothing written) when no loss is finite.</summary>
    public static (Candidate? Chosen, IReadOnlyList<Candidate> All) Run(string runDir, Action<string> line)
    {
        var kept = Kept(runDir);
        var last = kept[^1].State;
        foreach (var (dir, state) in kept)
        {
            var changed = last.HParams.Differences(state.HParams);
            if (changed.Count > 0 || state.ScaleFactor != last.ScaleFactor)
                throw new InvalidDataException($"{dir} is not a checkpoint of the same run as step {last.Step}: " +
                                               (changed.Count > 0 ? string.Join(", ", changed) : $"scale factor {state.ScaleFactor} against {last.ScaleFactor}"));
        }
        var data = Export.LoadData(last, []);
        if (data.Valid.Length == 0)
            throw new ArgumentException($"{runDir}'s data has no validation sketches, and averages are chosen by validation loss");

        using var model = new SketchRnn(last.HParams);
        using var reader = new SketchRnn(last.HParams);
        var weights = model.state_dict();
        var sum = weights.ToDictionary(w => w.Key, w => zeros_like(w.Value));
        var best = weights.ToDictionary(w => w.Key, w => zeros_like(w.Value));
        Candidate? chosen = null;
        var candidates = new List<Candidate>();
        for (var k = 1; k <= kept.Length; k++)
        {
            var (dir, state) = kept[^k];
            reader.load(Path.Combine(dir, RunState.Weights));
            using (no_grad())
            {
                foreach (var (name, w) in reader.state_dict()) sum[name].add_(w);
                foreach (var (name, w) in weights) w.copy_(sum[name]).div_(k);
            }
            var valid = Training.Evaluate(model, data.Valid, last.HParams, last.Seed)!;
            var candidate = new Candidate(k, state.Step, last.Step, valid, Training.ValidationLoss(last.HParams, valid));
            candidates.Add(candidate);
            var isBest = double.IsFinite(candidate.Loss) && (chosen is null || candidate.Loss < chosen.Loss);
            line($"last {k,3} (steps {state.Step}–{last.Step}): valid Lr {valid.Reconstruction:F4}, KL {valid.Kl:F4}, loss {candidate.Loss:F4}" + (isBest ? " (best)" : ""));
            if (!isBest) continue;
            chosen = candidate;
            using (no_grad())
                foreach (var (name, w) in weights) best[name].copy_(w);
        }

        if (chosen is not null)
        {
            using (no_grad())
                foreach (var (name, w) in weights) w.copy_(best[name]);
            Export.WriteFolder(Path.Combine(runDir, Training.AverageDir), tmp =>
            {
                model.save(Path.Combine(tmp, RunState.Weights));
                (last with { AveragedSteps = kept[^chosen.Count..].Select(c => c.State.Step).ToArray() }).Write(tmp);
            });
        }
        foreach (var w in sum.Values.Concat(best.Values)) w.Dispose();
        return (chosen, candidates);
    }

    /// <summary>The run's kept checkpoints, oldest first.</summary>
    private static (string Dir, RunState State)[] Kept(string runDir)
    {
        var steps = Path.Combine(runDir, Training.StepsDir);
        var kept = Directory.Exists(steps)
            ? Directory.GetDirectories(steps)
                .Where(d => Training.KeptStep(d) is not null)
                .Select(d => (Dir: d, State: RunState.TryRead(d)!)).Where(c => c.State is not null).OrderBy(c => c.State.Step).ToArray()
            : [];
        return kept.Length > 0 ? kept
            : throw new ArgumentException($"{runDir} has no kept checkpoints in {steps}: train (or resume) it with --keep-checkpoints, which keeps the weights of every validated step there");
    }
}
