using SketchService.Runtime.Decoding;

namespace SketchService.Libraries.Tests.Runtime;

public sealed class MixtureSamplerTests
{
    /// <summary>One component (M = 1): pen logits, π, μx, μy, log σx, log σy, atanh ρ.</summary>
    private static float[] Single(float muX, float muY, float sigmaX, float sigmaY, float rho, float[]? pen = null) =>
        [.. pen ?? [0, 0, 0], 0, muX, muY, MathF.Log(sigmaX), MathF.Log(sigmaY), MathF.Atanh(rho)];

    private static (double MeanX, double MeanY, double StdX, double StdY, double Corr) Moments(float[] p, float temperature, int n, int seed)
    {
        var sampler = new MixtureSampler(seed);
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < n; i++)
        {
            var s = sampler.Sample(p, temperature);
            sx += s.Dx; sy += s.Dy; sxx += s.Dx * (double)s.Dx; syy += s.Dy * (double)s.Dy; sxy += s.Dx * (double)s.Dy;
        }
        double mx = sx / n, my = sy / n;
        double vx = sxx / n - mx * mx, vy = syy / n - my * my, cxy = sxy / n - mx * my;
        return (mx, my, Math.Sqrt(vx), Math.Sqrt(vy), cxy / Math.Sqrt(vx * vy));
    }

    [Fact]
    public void Bivariate_draws_match_mean_std_and_correlation()
    {
        var m = Moments(Single(1.5f, -2f, 0.8f, 0.3f, 0.6f), 1f, 200_000, seed: 1);
        Assert.Equal(1.5, m.MeanX, 0.01);
        Assert.Equal(-2.0, m.MeanY, 0.01);
        Assert.Equal(0.8, m.StdX, 0.01);
        Assert.Equal(0.3, m.StdY, 0.005);
        Assert.Equal(0.6, m.Corr, 0.01);
    }

    [Fact]
    public void Temperature_scales_the_variance()
    {
        var p = Single(0, 0, 1f, 2f, -0.5f);
        var m = Moments(p, 0.25f, 200_000, seed: 2);
        // σ² × τ: the std shrinks by √τ = 0.5; the correlation is unchanged.
        Assert.Equal(0.5, m.StdX, 0.01);
        Assert.Equal(1.0, m.StdY, 0.02);
        Assert.Equal(-0.5, m.Corr, 0.01);
    }

    [Fact]
    public void Greedy_takes_the_most_likely_component_mean_and_pen()
    {
        // M = 2: π logits favour component 1; pen logits favour "up".
        float[] p = [0, 2, -1, /* π */ 0, 3, /* μx */ 5, 7, /* μy */ -5, -7, /* log σ */ 0, 0, 0, 0, /* ρ */ 0, 0];
        var s = new MixtureSampler(0).Sample(p, 0);
        Assert.Equal(new PenPoint(7, -7, PenState.Up), s);
    }

    [Fact]
    public void Pen_frequencies_follow_the_softmax_tempered_no_lower_than_the_floor()
    {
        // Pen logits log(0.2), log(0.3), log(0.5): at τ 1 as given; below the floor (τ 0.5 and 0.1) drawn at 0.75, ∝ p^(4/3).
        float[] p = Single(0, 0, 1, 1, 0, [MathF.Log(0.2f), MathF.Log(0.3f), MathF.Log(0.5f)]);
        double[] AtFloor() { var w = new[] { 0.2, 0.3, 0.5 }.Select(x => Math.Pow(x, 1 / MixtureSampler.MinChoiceTemperature)).ToArray(); return [.. w.Select(x => x / w.Sum())]; }
        foreach (var (tau, expected) in new[] { (1f, new[] { 0.2, 0.3, 0.5 }), (0.5f, AtFloor()), (0.1f, AtFloor()) })
        {
            var sampler = new MixtureSampler(3);
            var counts = new int[3];
            const int n = 100_000;
            for (int i = 0; i < n; i++) counts[(int)sampler.Sample(p, tau).Pen]++;
            for (int k = 0; k < 3; k++) Assert.Equal(expected[k], counts[k] / (double)n, 0.01);
        }
    }

    [Fact]
    public void Component_frequencies_follow_the_softmax_tempered_no_lower_than_the_floor()
    {
        // M = 2, π = (0.2, 0.8), the components far apart: at τ 1 as given, at τ 0.5 drawn at 0.75, ∝ π^(4/3).
        float[] p = [0, 0, 0, /* π */ MathF.Log(0.2f), MathF.Log(0.8f), /* μx */ -100, 100, /* μy */ 0, 0, /* log σ */ 0, 0, 0, 0, /* ρ */ 0, 0];
        double e = 1 / MixtureSampler.MinChoiceTemperature, atFloor = Math.Pow(0.2, e) / (Math.Pow(0.2, e) + Math.Pow(0.8, e));
        foreach (var (tau, expected) in new[] { (1f, 0.2), (0.5f, atFloor) })
        {
            var sampler = new MixtureSampler(5);
            const int n = 100_000;
            int first = 0;
            for (int i = 0; i < n; i++) if (sampler.Sample(p, tau).Dx < 0) first++;
            Assert.Equal(expected, first / (double)n, 0.01);
        }
    }

    [Fact]
    public void The_end_bias_is_added_to_the_end_logit_before_temperature()
    {
        // Pen logits 0, 0, 0 and an end bias of ln 2: at τ 1 the end is drawn 2 times in 4; at τ 0.5 (drawn at the floor,
        // 0.75) the biased logit is divided too, 2^(4/3) / (2 + 2^(4/3)) = 0.557; greedy takes it for any bias > 0.
        float[] p = Single(0, 0, 1, 1, 0, [0, 0, 0]);
        var atFloor = Math.Pow(2, 1 / MixtureSampler.MinChoiceTemperature);
        foreach (var (tau, expected) in new[] { (1f, 0.5), (0.5f, atFloor / (2 + atFloor)) })
        {
            var sampler = new MixtureSampler(7);
            const int n = 100_000;
            int ends = 0;
            for (int i = 0; i < n; i++) if (sampler.Sample(p, tau, MathF.Log(2)).Pen == PenState.End) ends++;
            Assert.Equal(expected, ends / (double)n, 0.01);
        }
        Assert.Equal(PenState.End, new MixtureSampler(0).Sample(p, 0, 0.01f).Pen);
        Assert.Equal(PenState.Down, new MixtureSampler(0).Sample(p, 0).Pen);
    }

    [Fact]
    public void The_end_bias_rises_past_nine_tenths_of_the_limit_or_past_a_longer_given_start()
    {
        Assert.Equal(0, MixtureSampler.EndBias(225, 10, 250));
        Assert.Equal(5 * MixtureSampler.EndRampSlope, MixtureSampler.EndBias(230, 10, 250), 1e-5);
        Assert.Equal(20, MixtureSampler.EndBias(250, 10, 250), 1e-4);
        // A drawing given longer than that: its continuation starts unpushed and the ramp starts from there.
        Assert.Equal(0, MixtureSampler.EndBias(240, 240, 250));
        Assert.Equal(3 * MixtureSampler.EndRampSlope, MixtureSampler.EndBias(243, 240, 250), 1e-5);
    }

    [Fact]
    public void Same_seed_same_draws_and_no_allocation()
    {
        var p = Single(0, 0, 1, 1, 0.3f);
        var a = new MixtureSampler(42);
        var b = new MixtureSampler(42);
        for (int i = 0; i < 100; i++) Assert.Equal(a.Sample(p, 0.7f), b.Sample(p, 0.7f));

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) a.Sample(p, 0.7f);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Rejects_bad_rows()
    {
        // Temperatures are checked once per run (DecodeRun), not on every sampled point.
        var sampler = new MixtureSampler(0);
        Assert.Throws<ArgumentException>(() => sampler.Sample(new float[8], 1));
    }
}
