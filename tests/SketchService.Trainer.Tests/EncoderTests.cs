using TorchSharp;
using SketchService.Data;

namespace SketchService.Trainer.Tests;

public class EncoderTests
{
    [Fact]
    public void Padding_reaches_neither_direction_of_the_encoder()
    {
        torch.random.manual_seed(3);
        using var model = new SketchRnn(new HParams { EncoderSize = 16, DecoderSize = 16, LatentSize = 4 });
        var data = TrainingData.Load([SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz")], 250);
        var shortest = data.Train.MinBy(s => s.Length)!;
        var longest = data.Train.MaxBy(s => s.Length)!;
        Assert.True(longest.Length > shortest.Length + 20);

        var (encAlone, _, _, lensAlone) = Batch.ToTensors(StrokeDataset.ToStroke5Batch([shortest]));
        var (muAlone, presigAlone) = model.Encode(encAlone, lensAlone);
        var (encPadded, _, _, lensPadded) = Batch.ToTensors(StrokeDataset.ToStroke5Batch([longest, shortest]));
        var (muPadded, presigPadded) = model.Encode(encPadded, lensPadded);

        Assert.True(torch.allclose(muAlone[0], muPadded[1], rtol: 0, atol: 1e-6));
        Assert.True(torch.allclose(presigAlone[0], presigPadded[1], rtol: 0, atol: 1e-6));
    }
}
