using SketchService.Inference.Model;
using SketchService.Inference.Onnx;

namespace SketchService.Trainer;

/// <summary>Loads a run's checkpoint, evaluates it and writes it as a model folder (ONNX + model.json).</summary>
public static class Export
{
    public static (SketchRnn Model, RunState State) LoadCheckpoint(string runDir, string which)
    {
        var dir = Path.Combine(runDir, which);
        if (!File.Exists(Path.Combine(dir, RunState.File)))
            throw new DirectoryNotFoundException($"no checkpoint '{which}' in {runDir} (expected {Path.Combine(dir, RunState.File)})");
        var state = RunState.Read(dir);
        var model = new SketchRnn(state.HParams);
        model.load(Path.Combine(dir, RunState.Weights));
        model.eval();
        return (model, state);
    }

    /// <summary>The data a checkpoint was trained on, normalised with its own scale factor (or other files given).</summary>
    public static TrainingData LoadData(RunState state, IReadOnlyList<string> data) =>
        TrainingData.Load(data.Count > 0 ? data : state.Data ?? [], state.HParams.MaxSeqLen, state.ScaleFactor);

    public static (LossFigures Valid, LossFigures Test) Evaluate(SketchRnn model, RunState state, TrainingData data)
    {
        var (vLr, vKl) = Training.Evaluate(model, data.Valid, state.HParams, state.Seed);
        var (tLr, tKl) = Training.Evaluate(model, data.Test, state.HParams, state.Seed);
        return (new LossFigures(vLr, vKl), new LossFigures(tLr, tKl));
    }

    public static ModelManifest Write(SketchRnn model, RunState state, TrainingData data, string outFolder, string name, TextWriter log)
    {
        var (valid, test) = Evaluate(model, state, data);
        log.WriteLine($"valid Lr {valid.Reconstruction:F4} KL {valid.Kl:F4} | test Lr {test.Reconstruction:F4} KL {test.Kl:F4}");
        var manifest = new ModelManifest
        {
            Name = name,
            Kind = state.HParams.Conditional ? ModelKind.Vae : ModelKind.DecoderOnly,
            DecoderSize = state.HParams.DecoderSize,
            Mixtures = state.HParams.Mixtures,
            ScaleFactor = state.ScaleFactor,
            MaxSeqLen = state.HParams.MaxSeqLen,
            DrawingExtent = Math.Round(data.DrawingExtent(), 2),
            Source = "trained",
            Dataset = new DatasetInfo(state.Dataset, state.Train, state.Valid, state.Test),
            StepsTrained = state.Step,
            Valid = valid,
            Test = test,
        };
        return ModelWriter.Write(outFolder, model.ExportWeights(), manifest);
    }
}
