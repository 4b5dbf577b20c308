using SketchService.Trainer;
using TorchSharp;
using static TorchSharp.torch;

namespace SketchService.Trainer.Tests;

public class LossTests
{
    private static Tensor Params(float[] values, int m) => torch.tensor(values, [1, values.Length / (6 * m + 3), 6 * m + 3]).transpose(0, 1);

    [Fact]
    public void One_standard_component_gives_the_hand_computed_loss()
    {
        // M = 1: pen logits 0 (CE = log 3), π logit 0, μ = 0, log σ = 0, ρ = 0; target offset (1, 0), pen down.
        var p = Params([0, 0, 0, 0, 0, 0, 0, 0, 0], 1);
        var target = torch.tensor(new float[] { 1, 0, 1, 0, 0 }, [1, 1, 5]);
        var (lr, nll, pen) = Loss.Reconstruction(p, target, mixtures: 1, nmax: 1, maskPenAfterEnd: false);
        var expectedNll = Math.Log(2 * Math.PI) + 0.5; // −log N((1,0); 0, I)
        Assert.Equal(expectedNll, nll.item<float>(), 5);
        Assert.Equal(Math.Log(3), pen.item<float>(), 5);
        Assert.Equal(expectedNll + Math.Log(3), lr.item<float>(), 5);
    }

    [Fact]
    public void Two_components_with_correlation_match_the_density_written_out()
    {
        // π logits (0, ln 3) → π = (0.25, 0.75); component 2 has μ = (1, −1), σ = (2, 0.5), ρ = tanh(0.3).
        float l3 = MathF.Log(3), ls1 = MathF.Log(2), ls2 = MathF.Log(0.5f);
        var p = Params([1, 2, 3, /*π*/ 0, l3, /*μx*/ 0, 1, /*μy*/ 0, -1, /*logσx*/ 0, ls1, /*logσy*/ 0, ls2, /*ρ*/ 0, 0.3f], 2);
        var target = torch.tensor(new float[] { 0.5f, -0.25f, 0, 1, 0 }, [1, 1, 5]);
        var (_, nll, pen) = Loss.Reconstruction(p, target, 2, nmax: 4, maskPenAfterEnd: false);

        static double N(double x, double y, double mx, double my, double sx, double sy, double rho)
        {
            double zx = (x - mx) / sx, zy = (y - my) / sy, q = 1 - rho * rho;
            return Math.Exp(-(zx * zx + zy * zy - 2 * rho * zx * zy) / (2 * q)) / (2 * Math.PI * sx * sy * Math.Sqrt(q));
        }
        var mix = 0.25 * N(0.5, -0.25, 0, 0, 1, 1, 0) + 0.75 * N(0.5, -0.25, 1, -1, 2, 0.5, Math.Tanh(0.3));
        Assert.Equal(-Math.Log(mix) / 4, nll.item<float>(), 5); // divided by B·Nmax = 4
        var logZ = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        Assert.Equal(-(2 - logZ) / 4, pen.item<float>(), 5);
    }

    [Fact]
    public void Steps_after_the_end_count_only_the_pen_loss_and_eval_masks_it()
    {
        var p = Params([0, 0, 0, 0, 0, 0, 0, 0, 0, /*step 2*/ 0, 0, 0, 0, 5, 5, 0, 0, 0], 1);
        var target = torch.tensor(new float[] { 1, 0, 0, 1, 0, /*end*/ 0, 0, 0, 0, 1 }, [2, 1, 5]);
        var (_, nll, pen) = Loss.Reconstruction(p, target, 1, nmax: 2, maskPenAfterEnd: false);
        Assert.Equal((Math.Log(2 * Math.PI) + 0.5) / 2, nll.item<float>(), 5); // the far-off μ of step 2 is not counted
        Assert.Equal(2 * Math.Log(3) / 2, pen.item<float>(), 5);
        var (_, _, masked) = Loss.Reconstruction(p, target, 1, nmax: 2, maskPenAfterEnd: true);
        Assert.Equal(Math.Log(3) / 2, masked.item<float>(), 5);
    }

    [Fact]
    public void The_end_weight_multiplies_the_pen_loss_of_each_sketchs_first_end_step_only()
    {
        // Two sketches of three steps: a point, the first end, a second end (padding). Uniform pen logits: each step's
        // pen CE is ln 3. The first sketch's end weighs 5, the second's 1.
        var p = torch.zeros(3, 2, 9); // [T, B, 6M + 3], M = 1
        var one = new float[] { 1, 0, 0, 1, 0, /*end*/ 0, 0, 0, 0, 1, /*end again*/ 0, 0, 0, 0, 1 };
        var target = torch.tensor(one.Chunk(5).SelectMany(step => step.Concat(step)).ToArray(), [3, 2, 5]); // [T, B, 5]
        var (_, _, plain) = Loss.Reconstruction(p, target, 1, nmax: 3, maskPenAfterEnd: false);
        var (_, _, weighted) = Loss.Reconstruction(p, target, 1, nmax: 3, maskPenAfterEnd: false, endWeights: torch.tensor(new float[] { 5, 1 }));
        Assert.Equal(6 * Math.Log(3) / 6, plain.item<float>(), 5);
        Assert.Equal((7 + 3) * Math.Log(3) / 6, weighted.item<float>(), 5);
    }

    [Fact]
    public void Log_sum_exp_stays_finite_where_a_sum_of_densities_underflows()
    {
        var p = Params([0, 0, 0, 0, 0, 0, -8, -8, 0], 1); // σ = e⁻⁸, target 1 unit away: the density underflows float
        var target = torch.tensor(new float[] { 1, 0, 1, 0, 0 }, [1, 1, 5]);
        var (_, nll, _) = Loss.Reconstruction(p, target, 1, 1, false);
        Assert.True(float.IsFinite(nll.item<float>()));
        Assert.True(nll.item<float>() > 1e6);
    }

    [Fact]
    public void Kl_is_zero_at_the_prior_and_averaged_over_dimensions()
    {
        Assert.Equal(0, Loss.Kl(torch.zeros(2, 4), torch.zeros(2, 4)).item<float>(), 6);
        Assert.Equal(0.5, Loss.Kl(torch.ones(2, 4), torch.zeros(2, 4)).item<float>(), 6);
        // presig = ln 2 (σ² = 2): −½(1 + ln 2 − 2) per dimension.
        Assert.Equal(-0.5 * (1 + Math.Log(2) - 2), Loss.Kl(torch.zeros(3, 5), torch.full(3, 5, MathF.Log(2))).item<float>(), 5);
    }

    [Theory]
    [InlineData(0, 0.01, 1e-3)]
    [InlineData(1000, 0.033898, 9.0578e-4)]
    [InlineData(10000, 0.202804, 3.7418e-4)]
    [InlineData(100000, 0.496699, 1.0045e-5)]
    public void Schedules_match_Magenta_at_given_steps(long step, double klWeight, double learningRate)
    {
        var h = new HParams();
        Assert.Equal(klWeight, h.KlWeightAt(step), 4);
        Assert.Equal(learningRate, h.LearningRateAt(step), 7);
    }
}
