using TorchSharp;

namespace SketchService.Trainer.Tests;

/// <summary>--recurrent-dropout steps the decoder LSTM by hand; it must be the same LSTM as the fused one it replaces.</summary>
public class RecurrentDropoutTests
{
    private static (torch.Tensor Inputs, torch.Tensor Z) RandomBatch() => (torch.randn(30, 3, 5), torch.randn(3, 4)); // [T, B, 5], [B, z]

    [Fact]
    public void The_hand_stepped_decoder_matches_the_fused_LSTM_when_nothing_is_dropped()
    {
        torch.random.manual_seed(5);
        // A rate so small that no element of this batch is dropped: the training path runs, the mask is all ones.
        using var model = new SketchRnn(new HParams { EncoderSize = 8, DecoderSize = 16, LatentSize = 4, DecoderRecurrentDropout = 1e-12 });
        var (inputs, z) = RandomBatch();
        // Both paths with autograd on: libtorch's no-grad LSTM kernel is wrong at H = 16 (see ValidationTests).
        model.train();
        using var stepped = model.Decode(inputs, z);
        model.eval();
        using var fused = model.Decode(inputs, z);
        Assert.Equal(fused.shape, stepped.shape);
        Assert.True(torch.allclose(fused, stepped, rtol: 0, atol: 1e-5), $"max difference {(fused - stepped).abs().max().item<float>()}");
    }

    [Fact]
    public void Dropout_acts_in_training_only_and_gradients_reach_the_recurrent_weights()
    {
        torch.random.manual_seed(6);
        using var model = new SketchRnn(new HParams { EncoderSize = 8, DecoderSize = 16, LatentSize = 4, DecoderRecurrentDropout = 0.5 });
        var (inputs, z) = RandomBatch();

        model.eval();
        using (torch.no_grad())
        using (var a = model.Decode(inputs, z))
        using (var b = model.Decode(inputs, z))
            Assert.True(torch.allclose(a, b, rtol: 0, atol: 0));

        model.train();
        using var first = model.Decode(inputs, z);
        using var second = model.Decode(inputs, z);
        Assert.False(torch.allclose(first, second, rtol: 0, atol: 1e-4));

        first.square().sum().backward();
        var recurrent = model.named_parameters().Single(p => p.name == "decoder.weight_hh_l0").parameter;
        Assert.True(recurrent.grad is not null && recurrent.grad.abs().sum().item<float>() > 0);
    }
}
