using SketchService.Core.Strokes;

namespace SketchService.Runtime.Decoding;

/// <summary>The pen state of a sampled point, in the order of the decoder's three pen logits.</summary>
public enum PenState
{
    /// <summary>The pen stays down: the next point continues this stroke.</summary>
    Down,
    /// <summary>The pen lifts after this point: the next point starts a new stroke.</summary>
    Up,
    /// <summary>End of sketch: the point itself is not part of the drawing.</summary>
    End,
}

/// <summary>One sampled stroke-5 point in model space.</summary>
public readonly record struct PenPoint(float Dx, float Dy, PenState Pen)
{
    public StrokePoint ToStrokePoint() => new(Dx, Dy, Pen == PenState.Up);

    /// <summary>Writes (dx, dy, p_down, p_up, p_end) into <paramref name="row"/>: the decoder's next input.</summary>
    public void WriteStroke5(Span<float> row)
    {
        row[0] = Dx;
        row[1] = Dy;
        row[2] = Pen == PenState.Down ? 1 : 0;
        row[3] = Pen == PenState.Up ? 1 : 0;
        row[4] = Pen == PenState.End ? 1 : 0;
    }

    public static PenPoint From(StrokePoint p) => new(p.Dx, p.Dy, p.PenLifted ? PenState.Up : PenState.Down);
}

/// <summary>
/// Draws the next point from one row of decoder parameters: pen logits (3), then M each of π logits, μx, μy,
/// log σx, log σy and atanh ρ, as blocks of M. Temperature τ follows the paper for σ, multiplied by √τ (σ² by τ); its
/// two choices, the pen state and the mixture component, divide their logits by max(τ, <see cref="MinChoiceTemperature"/>).
/// A drawing near the model's length limit is pushed towards its end (<see cref="EndBias"/>).
/// τ = 0 is greedy (the most likely component's mean and the most likely pen state). Deterministic for a seed and
/// allocation-free; one instance per request (not thread-safe).
/// </summary>
public sealed class MixtureSampler(int seed)
{
    /// <summary>
    /// The least temperature the pen state and the mixture component are drawn at. Sharpening the pen distribution
    /// makes its rare states, a lift and the end, rarer still: at the paper's τ 0.5 a sheep's completions ran on to the
    /// point limit 4 % of the time and its reconstructions at τ 0.1 5 %, at 0.75 2 % and 1 %. Sharpening the choice of
    /// component as well narrows a drawing to its likeliest strokes: at 0.75 the sheep's interpolations and free samples
    /// were 1–3 points closer to real sheep on the two-sample measure, and no task further (docs/experiments/sheep.md).
    /// </summary>
    public const float MinChoiceTemperature = 0.75f;

    /// <summary>
    /// Where the end starts being pushed for, as a share of the model's max_seq_len: no drawing the model learnt from is
    /// longer than max_seq_len (5 % of the sheep are longer than 0.9 of it). Past that point, or past the given start
    /// of the drawing when that is longer, the end's logit rises by <see cref="EndRampSlope"/> per point, as language
    /// models raise end-of-sequence past a length (Hugging Face's exponential_decay_length_penalty). Without it, 2 % of
    /// the sheep's completions scribbled on to the point limit; with it every one ended, and no task's drawings moved
    /// beyond the measure's scatter (docs/experiments/sheep.md).
    /// </summary>
    public const float EndRampStart = 0.9f;

    /// <summary>How much the end's logit rises per point past <see cref="EndRampStart"/>: by 20 over the last tenth of a 250-point limit.</summary>
    public const float EndRampSlope = 0.8f;

    /// <summary>What <see cref="Sample"/> adds to the end's logit when the drawing (given start included) has <paramref name="points"/> points.</summary>
    public static float EndBias(int points, int givenPoints, int maxSeqLen)
    {
        var start = Math.Max(EndRampStart * maxSeqLen, givenPoints);
        return points <= start ? 0 : EndRampSlope * (points - start);
    }

    private readonly Random random = Core.SeededRandom.Create(seed);

    /// <param name="endBias">Added to the end's logit before τ applies (<see cref="EndBias"/>).</param>
    public PenPoint Sample(ReadOnlySpan<float> parameters, float temperature, float endBias = 0)
    {
        int m = (parameters.Length - 3) / 6;
        if (m < 1 || parameters.Length != 6 * m + 3)
            throw new ArgumentException($"a parameter row has 6M+3 values, got {parameters.Length}", nameof(parameters));

        float choice = temperature == 0 ? 0 : Math.Max(temperature, MinChoiceTemperature);
        Span<float> penLogits = [parameters[0], parameters[1], parameters[2] + endBias];
        var pen = (PenState)Choose(penLogits, choice);
        int k = Choose(parameters.Slice(3, m), choice);
        float muX = parameters[3 + m + k], muY = parameters[3 + 2 * m + k];
        if (temperature == 0) return new PenPoint(muX, muY, pen);

        double scale = Math.Sqrt(temperature);
        double sigmaX = Math.Exp(parameters[3 + 3 * m + k]) * scale;
        double sigmaY = Math.Exp(parameters[3 + 4 * m + k]) * scale;
        double rho = Math.Tanh(parameters[3 + 5 * m + k]);
        var (n1, n2) = StandardNormalPair();
        double dx = muX + sigmaX * n1;
        double dy = muY + sigmaY * (rho * n1 + Math.Sqrt(1 - rho * rho) * n2);
        return new PenPoint((float)dx, (float)dy, pen);
    }

    /// <summary>
    /// log p(point | parameters) at τ 1: the pen state's log-softmax plus the log density of (dx, dy) under the mixture
    /// (the pen term alone for an end point, which has no offset). What <see cref="LatentSelection"/> scores a prefix by.
    /// </summary>
    public static double LogLikelihood(ReadOnlySpan<float> parameters, float dx, float dy, PenState pen)
    {
        int m = (parameters.Length - 3) / 6;
        var logPen = parameters[(int)pen] - LogSumExp(parameters[..3]);
        if (pen == PenState.End) return logPen;
        var logPiNorm = LogSumExp(parameters.Slice(3, m));
        Span<double> terms = stackalloc double[m];
        double best = double.NegativeInfinity;
        for (int k = 0; k < m; k++)
        {
            double muX = parameters[3 + m + k], muY = parameters[3 + 2 * m + k];
            double sigmaX = Math.Exp(parameters[3 + 3 * m + k]), sigmaY = Math.Exp(parameters[3 + 4 * m + k]), rho = Math.Tanh(parameters[3 + 5 * m + k]);
            double zx = (dx - muX) / sigmaX, zy = (dy - muY) / sigmaY, oneMinus = Math.Max(1e-6, 1 - rho * rho);
            terms[k] = parameters[3 + k] - logPiNorm
                       - (zx * zx + zy * zy - 2 * rho * zx * zy) / (2 * oneMinus) - Math.Log(2 * Math.PI * sigmaX * sigmaY * Math.Sqrt(oneMinus));
            best = Math.Max(best, terms[k]);
        }
        double sum = 0;
        foreach (var t in terms) sum += Math.Exp(t - best);
        return logPen + best + Math.Log(sum);
    }

    private static double LogSumExp(ReadOnlySpan<float> values)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (var v in values) max = Math.Max(max, v);
        foreach (var v in values) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    /// <summary>Samples an index from softmax(logits / τ), or takes the argmax at τ = 0. One exp per logit, no heap allocation.</summary>
    private int Choose(ReadOnlySpan<float> logits, float temperature)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        if (temperature == 0) return best;

        // Subtracting the max keeps exp() in range however small τ is.
        Span<double> weights = stackalloc double[logits.Length];
        double max = logits[best], sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += weights[i] = Math.Exp((logits[i] - max) / temperature);
        double u = random.NextDouble() * sum;
        for (int i = 0; i < logits.Length; i++)
        {
            u -= weights[i];
            if (u < 0) return i;
        }
        return best; // u rounded to exactly the sum: the last non-negligible term is as good as any
    }

    /// <summary>Box–Muller: two independent N(0, 1) draws from two uniforms.</summary>
    private (double, double) StandardNormalPair()
    {
        double u1 = 1 - random.NextDouble(); // (0, 1]: log stays finite
        double u2 = random.NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1));
        return (r * Math.Cos(2 * Math.PI * u2), r * Math.Sin(2 * Math.PI * u2));
    }
}
