using static TorchSharp.torch;

namespace SketchService.Trainer;

/// <summary>Magenta's Sketch-RNN loss, with the mixture likelihood in log space (log-sum-exp).</summary>
public static class Loss
{
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);

    /// <summary>
    /// Reconstruction loss Lr = (Σ offset NLL over steps before each sketch's end + Σ pen cross-entropy) / (B · Nmax).
    /// params [T, B, 6M+3] raw, target [T, B, 5] stroke-5. Training counts the pen loss on every padded step
    /// (as Magenta); evaluation masks it after the end (as Magenta's eval model).
    /// </summary>
    /// <param name="endWeights">Per sketch [B], the weight of the pen loss at its first end step; null: 1 for all (Magenta's loss).</param>
    public static (Tensor Lr, Tensor OffsetNll, Tensor PenCe) Reconstruction(Tensor parameters, Tensor target, int mixtures, int nmax, bool maskPenAfterEnd,
        Tensor? endWeights = null)
    {
        using var scope = NewDisposeScope();
        var m = mixtures;
        var penLogits = parameters[.., .., ..3];
        var pi = parameters[.., .., 3..(3 + m)];
        var mu1 = parameters[.., .., (3 + m)..(3 + 2 * m)];
        var mu2 = parameters[.., .., (3 + 2 * m)..(3 + 3 * m)];
        var logS1 = parameters[.., .., (3 + 3 * m)..(3 + 4 * m)];
        var logS2 = parameters[.., .., (3 + 4 * m)..(3 + 5 * m)];
        var rho = tanh(parameters[.., .., (3 + 5 * m)..(3 + 6 * m)]);

        var n1 = (target[.., .., 0..1] - mu1) * exp(-logS1);
        var n2 = (target[.., .., 1..2] - mu2) * exp(-logS2);
        // 1 − ρ² floored so a saturated tanh cannot make the density infinite (Magenta adds 1e-6 to the sum instead).
        var oneMinusRho2 = (1 - rho * rho).clamp_min(1e-6);
        var zTerm = n1 * n1 + n2 * n2 - 2 * rho * n1 * n2;
        var logN = -Log2Pi - logS1 - logS2 - 0.5 * oneMinusRho2.log() - zTerm / (2 * oneMinusRho2);
        var logMix = (nn.functional.log_softmax(pi, -1) + logN).logsumexp(-1); // [T, B]

        var notEnded = 1 - target[.., .., 4];
        var offsetNll = -(logMix * notEnded).sum();
        var penCe = -(target[.., .., 2..5] * nn.functional.log_softmax(penLogits, -1)).sum(-1);
        if (maskPenAfterEnd) penCe = penCe * notEnded;
        if (endWeights is not null)
        {
            // The first end step of each sketch (ended now, not at the step before) weighs its endWeights entry.
            var ended = target[.., .., 4];
            var endedBefore = cat([zeros_like(ended.narrow(0, 0, 1)), ended.narrow(0, 0, ended.shape[0] - 1)], 0);
            penCe = penCe * (1 + (endWeights - 1) * ended * (1 - endedBefore));
        }
        var penSum = penCe.sum();
        var denom = (double)target.shape[1] * nmax;
        var lr = (offsetNll + penSum) / denom;
        return (lr.MoveToOuterDisposeScope(), (offsetNll / denom).MoveToOuterDisposeScope(), (penSum / denom).MoveToOuterDisposeScope());
    }

    /// <summary>KL(q(z|x) ‖ N(0, I)) averaged over batch and latent dimensions, as Magenta.</summary>
    public static Tensor Kl(Tensor mu, Tensor presig) =>
        -0.5 * (1 + presig - mu.square() - presig.exp()).mean();
}
