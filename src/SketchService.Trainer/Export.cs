using SketchService.Inference.Model;
using SketchService.Inference.Onnx;

namespace SketchService.Trainer;

/// <summary>A checkpoint's figures on the valid and test splits; a split without sketches is null.</summary>
public sealed record Evaluation(LossFigures? Valid, LossFigures? Test)
{
    /// <summary>Every split that has sketches gave finite figures.</summary>
    public bool IsFinite => new[] { Valid, Test }.All(f => f is null || double.IsFinite(f.Reconstruction) && double.IsFinite(f.Kl));

    public IEnumerable<string> Lines()
    {
        yield return $"valid: {Describe(Valid)}";
        yield return $"test:  {Describe(Test)}";
    }

    private static string Describe(LossFigures? f) => f is null ? "no sketches" : $"Lr {f.Reconstruction:F4} KL {f.Kl:F4}";
}

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

    public static Evaluation Evaluate(SketchRnn model, RunState state, TrainingData data) =>
        new(Training.Evaluate(model, data.Valid, state.HParams, state.Seed), Training.Evaluate(model, data.Test, state.HParams, state.Seed));

    /// <summary>The ONNX graphs and model.json; a split without sketches is left out of the manifest.</summary>
    public static ModelManifest WriteOnnx(SketchRnn model, RunState state, TrainingData data, Evaluation figures, string folder, string name) =>
        ModelWriter.Write(folder, model.ExportWeights(), new ModelManifest
        {
            Name = name,
            Kind = state.HParams.DecoderOnly ? ModelKind.DecoderOnly : ModelKind.Vae,
            DecoderSize = state.HParams.DecoderSize,
            Mixtures = state.HParams.Mixtures,
            ScaleFactor = state.ScaleFactor,
            MaxSeqLen = state.HParams.MaxSeqLen,
            DrawingExtent = Math.Round(data.DrawingExtent(), 2),
            Source = "trained",
            Dataset = new DatasetInfo(state.Dataset, state.Train, state.Valid, state.Test),
            StepsTrained = state.Step,
            Valid = figures.Valid,
            Test = figures.Test,
        });

    /// <summary>
    /// Fills <paramref name="target"/> through a temporary sibling folder renamed into place once complete, so a
    /// failed export leaves no half-written model folder and an existing one is replaced only by a whole new one.
    /// </summary>
    public static void WriteFolder(string target, Action<string> write)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        var parent = Path.GetDirectoryName(full)!;
        var tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}");
        var old = Path.Combine(parent, $".{Path.GetFileName(full)}.old-{Environment.ProcessId}");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        try { write(tmp); }
        catch
        {
            Directory.Delete(tmp, true);
            throw;
        }
        if (Directory.Exists(full)) Directory.Move(full, old);
        Directory.Move(tmp, full);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }
}
