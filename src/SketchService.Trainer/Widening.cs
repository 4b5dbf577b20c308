using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SketchService.Trainer;

/// <summary>
/// Grows a trained model's decoder to more units without changing what it draws (Net2Net's wider net, Chen et al.
/// 2016): each new unit is a copy of an old one (new unit u copies unit u mod H), with the same incoming weights and
/// initial state, so it computes the same h; every weight that reads the copied units is shared among the copies, so
/// their sum is the old weight. The shares are unequal and random (summing to one), which sends the copies different
/// gradients so that they grow apart. Not random new units with zero outgoing weights: their first updates cost the sheep
/// about 0.2 nats of training Lr over steps 2–6 (docs/experiments/sheep.md).
/// </summary>
public static class Widening
{
    /// <summary>How unequal the copies' shares of a weight are: each is 1/copies ± up to about this fraction of it.</summary>
    public const double ShareSpread = 0.2;

    /// <summary>Whether <paramref name="to"/> is <paramref name="from"/> with a larger decoder and every other size the same.</summary>
    public static bool Applies(HParams from, HParams to) =>
        to.DecoderSize > from.DecoderSize && (to with { DecoderSize = from.DecoderSize }).Differences(from, shapeOnly: true).Count == 0;

    /// <summary>Writes <paramref name="from"/>'s weights, widened, into <paramref name="to"/>, whose decoder has more units.</summary>
    public static void Weights(SketchRnn from, SketchRnn to)
    {
        using var _ = torch.no_grad();
        var (oldUnits, newUnits) = (from.HParams.DecoderSize, to.HParams.DecoderSize);
        var target = to.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, old) in from.named_parameters())
        {
            using var scope = NewDisposeScope();
            var wide = Copy(old, target[name], oldUnits, newUnits);
            if (ReadsCopies(old, wide)) wide *= Shares(wide.shape[0], oldUnits, newUnits);
            target[name].copy_(wide);
        }
    }

    /// <summary>
    /// Adam's moments follow the weights, so that the fine-tune's first steps are as long as the old run's last ones: a
    /// fine-tune whose moments restart at zero moves every weight by the full learning rate (see Training). They are
    /// rescaled so that the copies together step as the old unit did:
    /// - a weight that reads a copied unit gets the old weight's gradient in each copy (they compute the same h), so
    ///   each copy would step as far as the old weight and together twice as far: its second moment is scaled by
    ///   copies², which shortens each copy's steps to a share;
    /// - a copied unit's own weights (its rows) get a share of the old gradient, since each copy is read through a
    ///   share: their first moment is divided by copies and their second by copies², so that each copy steps as far as
    ///   the old unit, as the copies must to stay one unit's worth.
    /// </summary>
    public static void Moments(SketchRnn from, Adam fromOptimizer, SketchRnn to, Adam toOptimizer)
    {
        using var _ = torch.no_grad();
        var fromStates = States(from, fromOptimizer);
        var toStates = States(to, toOptimizer);
        var (oldUnits, newUnits) = (from.HParams.DecoderSize, to.HParams.DecoderSize);
        foreach (var (name, source) in fromStates)
        {
            if (!toStates.TryGetValue(name, out var state)) continue;
            using var scope = NewDisposeScope();
            state.step = source.step;
            var first = Copy(source.exp_avg, state.exp_avg, oldUnits, newUnits);
            var second = Copy(source.exp_avg_sq, state.exp_avg_sq, oldUnits, newUnits);
            if (source.exp_avg.shape[0] != first.shape[0]) // a unit's own row
            {
                var rows = Copies(source.exp_avg.shape[0], first.shape[0], oldUnits, newUnits);
                if (first.dim() == 2) rows = rows.unsqueeze(1);
                (first, second) = (first / rows, second / rows.pow(2));
            }
            if (ReadsCopies(source.exp_avg, first)) second *= Copies(oldUnits, newUnits, oldUnits, newUnits).pow(2);
            state.exp_avg.copy_(first);
            state.exp_avg_sq.copy_(second);
        }
    }

    /// <summary>Whether a weight's columns read the decoder's units, so that some read copies (its widened form: <paramref name="wide"/>).</summary>
    private static bool ReadsCopies(Tensor old, Tensor wide) => old.dim() == 2 && old.shape[1] != wide.shape[1];

    /// <summary><paramref name="old"/> with every dimension that grew (to <paramref name="target"/>'s shape) filled by copies.</summary>
    private static Tensor Copy(Tensor old, Tensor target, long oldUnits, long newUnits)
    {
        var wide = old.alias();
        for (var d = 0; d < old.dim(); d++)
            if (old.shape[d] != target.shape[d])
                wide = wide.index_select(d, Sources(old.shape[d], target.shape[d], oldUnits, newUnits));
        return wide;
    }

    /// <summary>
    /// For each position of a dimension that grew, the old position it copies. The dimension holds the decoder's units
    /// in blocks (4 LSTM gates, the initial state's c and h, or one block of columns): position u of block b copies
    /// unit u mod H of the same block.
    /// </summary>
    private static Tensor Sources(long oldSize, long newSize, long oldUnits, long newUnits)
    {
        if (oldSize % oldUnits != 0 || newSize != oldSize / oldUnits * newUnits)
            throw new InvalidOperationException($"a dimension of {oldSize} does not widen to {newSize} ({oldUnits} to {newUnits} units)");
        var u = torch.arange(newSize);
        return u.div(newUnits, rounding_mode: RoundingMode.floor) * oldUnits + u % newUnits % oldUnits;
    }

    /// <summary>For each position of a dimension that grew, how many copies there are of the old position it copies.</summary>
    private static Tensor Copies(long oldSize, long newSize, long oldUnits, long newUnits)
    {
        var sources = Sources(oldSize, newSize, oldUnits, newUnits);
        return torch.zeros(oldSize).index_add_(0, sources, torch.ones(newSize), 1).index_select(0, sources);
    }

    /// <summary>
    /// [rows, new units]: each row's shares of an old unit's weight among its copies: random around 1/copies, and
    /// summing to 1 over the copies (to float rounding), so that the copies' summed contribution is the old one.
    /// </summary>
    private static Tensor Shares(long rows, long oldUnits, long newUnits)
    {
        var sources = Sources(oldUnits, newUnits, oldUnits, newUnits);
        var copies = Copies(oldUnits, newUnits, oldUnits, newUnits);
        var spread = (torch.rand(rows, newUnits) * 2 - 1) * ShareSpread * (copies > 1); // a unit not copied keeps its weights exactly
        var mean = torch.zeros(rows, oldUnits).index_add_(1, sources, spread / copies, 1);
        return (1 + spread - mean.index_select(1, sources)) / copies;
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
