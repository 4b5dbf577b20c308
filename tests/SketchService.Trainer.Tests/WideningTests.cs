using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SketchService.Trainer.Tests;

/// <summary>A decoder widened for a fine-tune draws what it drew, and Adam's moments follow its weights.</summary>
public class WideningTests
{
    [Fact]
    public void A_widened_decoder_draws_as_before_and_Adams_moments_follow_the_copies()
    {
        torch.random.manual_seed(7);
        var hp = new HParams { EncoderSize = 8, DecoderSize = 16, LatentSize = 4, PartialFlag = true };
        using var narrow = new SketchRnn(hp);
        using var narrowOptimizer = Training.NewOptimizer(narrow, partialGroup: true);
        var (inputs, z) = (torch.randn(30, 3, 5), torch.randn(3, 4)); // [T, B, 5], [B, z]
        for (var i = 0; i < 3; i++) // moments worth carrying
        {
            narrowOptimizer.zero_grad();
            narrow.Decode(inputs, z).pow(2).mean().backward();
            narrowOptimizer.step();
        }

        using var wide = new SketchRnn(hp with { DecoderSize = 24 });
        using var wideOptimizer = Training.NewOptimizer(wide, partialGroup: true);
        Widening.Weights(narrow, wide);
        Widening.Moments(narrow, narrowOptimizer, wide, wideOptimizer);

        // With autograd on: libtorch's no-grad LSTM kernel is wrong at H = 16 (see ValidationTests).
        narrow.eval();
        wide.eval();
        using (var before = narrow.Decode(inputs, z))
        using (var after = wide.Decode(inputs, z))
            Assert.True(torch.allclose(before, after, rtol: 0, atol: 1e-5), $"max difference {(before - after).abs().max().item<float>()}");

        var names = Training.OptimizedNames(wide).ToList();
        var (old, now) = (States(narrowOptimizer), States(wideOptimizer));
        Tensor Weight(SketchRnn model, string name) => model.named_parameters().Single(p => p.name == name).parameter;

        // The recurrent weights: rows 48..63 of 96 are the cell candidate's (third gate's) units 0..15, and rows 64..71
        // its units 16..23, copies of units 0..7. Columns 16..23 read the copies: each row shares a weight of columns
        // 0..7 unequally between the column and its copy.
        var (wideRecurrent, narrowRecurrent) = (Weight(wide, "decoder.weight_hh_l0"), Weight(narrow, "decoder.weight_hh_l0"));
        Assert.True(torch.allclose(wideRecurrent.narrow(0, 48, 16).sum(1), narrowRecurrent.narrow(0, 32, 16).sum(1), rtol: 0, atol: 1e-5));
        Assert.True(torch.allclose(wideRecurrent.narrow(0, 64, 8).narrow(1, 8, 8), wideRecurrent.narrow(0, 48, 8).narrow(1, 8, 8), rtol: 0, atol: 0));
        Assert.False(torch.allclose(wideRecurrent.narrow(1, 0, 8), wideRecurrent.narrow(1, 16, 8), rtol: 0, atol: 1e-4)); // unequal shares

        // Their moments: a copied unit's row (units 0..7 and 16..23) has half the old first moment and a quarter of the
        // old second; a column that reads a copied unit four times the old second moment.
        var recurrent = names.IndexOf("decoder.weight_hh_l0");
        Assert.Equal(old[recurrent].step, now[recurrent].step);
        Assert.True(torch.allclose(now[recurrent].exp_avg.narrow(0, 48, 8).narrow(1, 8, 8), old[recurrent].exp_avg.narrow(0, 32, 8).narrow(1, 8, 8) / 2, rtol: 1e-6, atol: 0));
        Assert.True(torch.allclose(now[recurrent].exp_avg.narrow(0, 64, 8), now[recurrent].exp_avg.narrow(0, 48, 8), rtol: 0, atol: 0));
        Assert.True(torch.allclose(now[recurrent].exp_avg.narrow(0, 56, 8).narrow(1, 0, 16), old[recurrent].exp_avg.narrow(0, 40, 8), rtol: 0, atol: 0));
        Assert.True(torch.allclose(now[recurrent].exp_avg_sq.narrow(0, 48, 8).narrow(1, 0, 8), old[recurrent].exp_avg_sq.narrow(0, 32, 8).narrow(1, 0, 8), rtol: 1e-6, atol: 0));
        Assert.True(torch.allclose(now[recurrent].exp_avg_sq.narrow(0, 56, 8).narrow(1, 0, 8), old[recurrent].exp_avg_sq.narrow(0, 40, 8).narrow(1, 0, 8) * 4, rtol: 1e-6, atol: 0));

        // The mixture layer's rows are not units: its columns for units 0..7 and their copies have four times the old
        // second moment, the others the old.
        var output = names.IndexOf("output.weight");
        Assert.True(torch.allclose(old[output].exp_avg, now[output].exp_avg.narrow(1, 0, 16), rtol: 0, atol: 0));
        Assert.True(torch.allclose(old[output].exp_avg.narrow(1, 0, 8), now[output].exp_avg.narrow(1, 16, 8), rtol: 0, atol: 0));
        Assert.True(torch.allclose(old[output].exp_avg_sq.narrow(1, 0, 8) * 4, now[output].exp_avg_sq.narrow(1, 0, 8), rtol: 1e-6, atol: 0));
        Assert.True(torch.allclose(old[output].exp_avg_sq.narrow(1, 0, 8) * 4, now[output].exp_avg_sq.narrow(1, 16, 8), rtol: 1e-6, atol: 0));
        Assert.True(torch.allclose(old[output].exp_avg_sq.narrow(1, 8, 8), now[output].exp_avg_sq.narrow(1, 8, 8), rtol: 0, atol: 0));
    }

    private static Adam.State[] States(Adam optimizer) => optimizer.state_dict().State.Cast<Adam.State>().ToArray();
}
