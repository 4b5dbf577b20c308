using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SketchService.Trainer;

/// <summary>
/// Grows a trained model's decoder to more units without changing what it draws (function-preserving widening as in
/// Net2Net, Chen et al. 2016, with new units whose outgoing weights start at zero instead of split copies). The old
/// units keep their weights; the new ones get the fresh model's random incoming weights; every weight from a new unit
/// into an old unit or into the mixture layer starts at zero. Training then grows those weights from zero, so a
/// fine-tune adds capacity to a model that took many hours to train instead of training a larger one from scratch.
/// </summary>
public static class Widening
{
    /// <summary>Whether <paramref name="to"/> is <paramref name="from"/> with a larger decoder and every other size the same.</summary>
    public static bool Applies(HParams from, HParams to) =>
        to.DecoderSize > from.DecoderSize && (to with { DecoderSize = from.DecoderSize }).Differences(from, shapeOnly: true).Count == 0;

    /// <summary>Copies <paramref name="from"/>'s weights into <paramref name="to"/>, whose decoder has more units.</summary>
    public static void Weights(SketchRnn from, SketchRnn to)
    {
        using var _ = torch.no_grad();
        var target = to.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, old) in from.named_parameters())
        {
            var at = Positions(old, target[name], from.HParams.DecoderSize, to.HParams.DecoderSize);
            Place(target[name], old, at, fillOldRows: 0);
        }
    }

    /// <summary>
    /// Carries Adam's moments over as the weights: a fine-tune whose moments restart at zero moves every weight by the
    /// full learning rate at its first steps (see Training). A new unit's first moment starts at zero and its second at
    /// the mean of the old tensor's, so that its first steps are about as long as the old units' rather than several times longer.
    /// </summary>
    public static void Moments(SketchRnn from, Adam fromOptimizer, SketchRnn to, Adam toOptimizer)
    {
        using var _ = torch.no_grad();
        var fromStates = States(from, fromOptimizer);
        var toStates = States(to, toOptimizer);
        var target = to.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, old) in from.named_parameters())
        {
            if (!fromStates.TryGetValue(name, out var source) || !toStates.TryGetValue(name, out var state)) continue;
            var at = Positions(old, target[name], from.HParams.DecoderSize, to.HParams.DecoderSize);
            state.step = source.step;
            state.exp_avg.zero_();
            Place(state.exp_avg, source.exp_avg, at, fillOldRows: 0);
            var mean = source.exp_avg_sq.mean().item<float>();
            state.exp_avg_sq.fill_(mean);
            Place(state.exp_avg_sq, source.exp_avg_sq, at, fillOldRows: mean);
        }
    }

    /// <summary>
    /// For each dimension, where the old tensor's entries go in the new one. A dimension that grew holds the decoder's
    /// units in blocks (4 LSTM gates, or the initial state's c and h): block b's old units keep the start of new block b.
    /// </summary>
    private static Tensor[] Positions(Tensor old, Tensor target, long oldUnits, long newUnits) =>
        old.shape.Select((size, d) =>
        {
            if (size == target.shape[d]) return torch.arange(size);
            if (size % oldUnits != 0 || target.shape[d] != size / oldUnits * newUnits)
                throw new InvalidOperationException($"a weight of shape [{string.Join(", ", old.shape)}] does not widen to [{string.Join(", ", target.shape)}]");
            return torch.cat(Enumerable.Range(0, (int)(size / oldUnits)).Select(b => torch.arange(b * newUnits, b * newUnits + oldUnits)).ToArray());
        }).ToArray();

    /// <summary>
    /// Writes <paramref name="old"/> at its positions in <paramref name="target"/>. A row of an old unit (or of the
    /// mixture layer) reads new units through columns set to <paramref name="fillOldRows"/>; a new unit's row keeps
    /// what <paramref name="target"/> held.
    /// </summary>
    private static void Place(Tensor target, Tensor old, Tensor[] at, float fillOldRows)
    {
        if (old.dim() == 1)
        {
            target.index_copy_(0, at[0], old);
            return;
        }
        using var rows = torch.full(old.shape[0], target.shape[1], fillOldRows);
        rows.index_copy_(1, at[1], old);
        target.index_copy_(0, at[0], rows);
    }

    /// <summary>Adam's state of each weight by name: the optimizer keeps it in the order its groups were given the weights.</summary>
    private static Dictionary<string, Adam.State> States(SketchRnn model, Adam optimizer)
    {
        var names = Training.OptimizedNames(model).ToArray();
        var states = optimizer.state_dict().State;
        if (states.Count != names.Length) throw new InvalidOperationException($"Adam holds {states.Count} states for {names.Length} weights");
        return names.Zip(states, (n, s) => (n, (Adam.State)s)).ToDictionary(x => x.n, x => x.Item2);
    }
}
