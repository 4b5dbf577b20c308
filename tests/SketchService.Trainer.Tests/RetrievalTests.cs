using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Data;
using SketchService.Runtime.Models;
using SketchService.Trainer;

namespace SketchService.Trainer.Tests;

public sealed class RetrievalTests
{
    [Fact]
    public void A_decoder_that_ignores_z_scores_one_hit_in_N()
    {
        // Zero output weights: every reconstruction is the same drawing, so its code is nearest one original only.
        using var folder = new TempFolder();
        TestModels.Write(folder.Path, TestModels.ConstantOutput(TestModels.ThreeComponents(3, 0, -1), vae: true), maxSeqLen: 20);
        using var model = SketchModel.Load(folder.Path);
        var rng = new Random(3);
        var sketches = Enumerable.Range(0, 40).Select(_ => Enumerable.Range(0, rng.Next(3, 15))
            .Select(_ => new StrokePoint((float)rng.NextDouble() * 4 - 2, (float)rng.NextDouble() * 4 - 2, rng.Next(5) == 0)).ToArray()).ToArray();

        var figures = LatentRetrieval.Measure(model, sketches, [0f]).Single();

        Assert.Equal(new RetrievalFigures(0, 40, 1 / 40.0, 5 / 40.0), figures);
    }

    [Fact]
    public void The_committed_sheep_model_scores_what_its_model_json_says()
    {
        var folder = Path.Combine(SharedData.RepoRoot, "models", "sheep");
        using var model = SketchModel.Load(folder);
        var splits = StrokeSplits.ReadNpz(SharedData.Path("data", "sketchrnn", "aaron_sheep.npz"));
        var test = StrokeDataset.Normalize(StrokeDataset.Purify(splits.Test, model.Manifest.MaxSeqLen), model.Manifest.ScaleFactor);

        var measured = LatentRetrieval.Measure(model, test, [0.1f, 0]);

        TestContext.Current.SendDiagnosticMessage(string.Join("; ", measured.Select(f => $"τ {f.Temperature}: top-1 {f.Top1:P1}, top-5 {f.Top5:P1} of {f.Sketches}")));
        Assert.Equal(model.Manifest.Retrieval, measured);
    }
}
