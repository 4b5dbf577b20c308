namespace SketchService.Trainer.Tests;

public class HParamsTests
{
    [Fact]
    public void Every_hyper_parameter_has_exactly_one_train_option()
    {
        Assert.Equal(typeof(HParams).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(), HParams.Table.Select(h => h.Property.Name).Order());
        Assert.Equal(HParams.Table.Count, HParams.Table.Select(h => h.Option).Distinct().Count());
        Assert.All(HParams.Table, h => Assert.StartsWith("--", h.Option));
    }

    [Fact]
    public void Options_set_a_copy_and_differences_name_them()
    {
        var d = new HParams();
        var dec = HParams.Table.Single(h => h.Option == "--dec");
        var changed = dec.With(d, 1024);
        Assert.Equal(512, d.DecoderSize);
        Assert.Equal(1024, changed.DecoderSize);
        Assert.Equal(new[] { "--dec 1024 (checkpoint: 512)" }, changed.Differences(d));
        Assert.Equal(new[] { "--decoder-only on (checkpoint: off)" }, (d with { DecoderOnly = true }).Differences(d));
        Assert.Empty(d.Differences(new HParams()));
    }

    [Fact]
    public void A_state_json_that_still_says_Conditional_loads_as_a_vae()
    {
        // What runs started before the rename wrote.
        using var temp = new TempFolder();
        var dir = temp.Path;
        File.WriteAllText(Path.Combine(dir, RunState.File), """
            {
              "HParams": { "EncoderSize": 128, "DecoderSize": 256, "LatentSize": 128, "Mixtures": 20, "Conditional": true, "BatchSize": 100,
                "MaxSeqLen": 250, "LearningRate": 0.001, "LearningRateDecay": 0.9999, "MinLearningRate": 1E-05, "KlWeight": 0.5,
                "KlWeightStart": 0.01, "KlDecayRate": 0.99995, "KlTolerance": 0.2, "GradClip": 1, "RandomScale": 0.15,
                "AugmentDropProb": 0.1, "DecoderInputDropout": 0.2, "DecoderOutputDropout": 0.1 },
              "Step": 500, "ScaleFactor": 18.519826873930494, "Dataset": "aaron_sheep", "Train": 7400, "Valid": 300, "Test": 300,
              "BestValidLoss": 0.8904834047953287, "BestStep": 500, "ElapsedSeconds": 1467.7559223, "Seed": 1,
              "Data": [ "/srv/data/aaron_sheep.npz" ]
            }
            """);
        var state = RunState.Read(dir);
        Assert.False(state.HParams.DecoderOnly);
        Assert.Equal((128, 256, 0.2, 0.1), (state.HParams.EncoderSize, state.HParams.DecoderSize, state.HParams.DecoderInputDropout, state.HParams.DecoderOutputDropout));

        // A run without validation sketches records a NaN best loss.
        (state with { BestValidLoss = double.NaN }).Write(dir);
        Assert.True(double.IsNaN(RunState.Read(dir).BestValidLoss));
    }
}
