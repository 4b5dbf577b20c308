using SketchService.Core.Strokes;
using SketchService.Core.Latent;
using SketchService.Core.Model;
using SketchService.Export;
using SketchService.Runtime.Models;

namespace SketchService.Trainer;

/// <summary>
/// A checkpoint's figures on the valid and test splits; a split without sketches is null. A VAE also gets the latent
/// round-trip retrieval on the test split (<see cref="LatentRetrieval"/>), at τ 0.1 and greedy.
/// </summary>
public sealed record Evaluation(LossFigures? Valid, LossFigures? Test, IReadOnlyList<RetrievalFigures>? Retrieval = null, IReadOnlyList<QualityFigures>? Quality = null)
{
    /// <summary>Every split that has sketches gave finite figures.</summary>
    public bool IsFinite => new[] { Valid, Test }.All(f => f is null || double.IsFinite(f.Reconstruction) && double.IsFinite(f.Kl));

    public IEnumerable<string> Lines()
    {
        yield return $"valid: {Describe(Valid)}";
        yield return $"test:  {Describe(Test)}";
        foreach (var r in Retrieval ?? [])
            yield return $"retrieval at {(r.Temperature == 0 ? "greedy" : $"τ {r.Temperature:0.##}")}: top-1 {r.Top1:P1}, top-5 {r.Top5:P1} of {r.Sketches} test sketches " +
                         $"(chance {1.0 / r.Sketches:P1} / {Math.Min(5.0, r.Sketches) / r.Sketches:P1})";
        foreach (var line in QualityLines(Quality)) yield return line;
    }

    /// <summary>The two-sample test of each task, one line each.</summary>
    public static IEnumerable<string> QualityLines(IReadOnlyList<QualityFigures>? quality)
    {
        if (quality is not { Count: > 0 }) yield break;
        var seeds = quality[0].SeedAccuracies?.Count ?? 1;
        yield return $"told apart from {quality[0].Drawings} real test drawings (classifier two-sample test; 50 % = indistinguishable" +
                     (seeds > 1 ? $"; mean of {seeds} seeds ± its standard error, each seed's figure in brackets):" : "):");
        foreach (var q in quality)
            yield return $"  {q.Task,-22} τ {q.Temperature:0.##}: {q.Accuracy:P1}" +
                         (q.SeedAccuracies is { Count: > 1 } each
                             ? $" ± {100 * SketchQuality.StandardError(each):0.0} ({string.Join(", ", each.Select(a => a.ToString("P1")))})" : "") +
                         $"; ended by itself {q.EndedByItself:P0}; length {q.LengthRatio:0.00}× the real drawings'";
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
        TrainingData.Load(data.Count > 0 ? data : DataFiles.Find(state), state.HParams.MaxSeqLen, state.ScaleFactor);

    /// <summary>Losses on both splits and, for a VAE with a test split, retrieval on ONNX graphs written to a temporary folder.</summary>
    public static Evaluation Evaluate(SketchRnn model, RunState state, TrainingData data)
    {
        var folder = Directory.CreateTempSubdirectory("retrieval-").FullName;
        try { return WriteOnnx(model, state, data, Losses(model, state, data), folder, "retrieval").Figures; }
        finally { Directory.Delete(folder, true); }
    }

    public static Evaluation Losses(SketchRnn model, RunState state, TrainingData data) =>
        new(Training.Evaluate(model, data.Valid, state.HParams, state.Seed), Training.Evaluate(model, data.Test, state.HParams, state.Seed));

    /// <summary>
    /// Writes the ONNX graphs and model.json into <paramref name="folder"/>. For a VAE with a test split, the retrieval
    /// is measured on the graphs just written, the ones the service will run, and added to model.json. A split
    /// without sketches is left out of the manifest.
    /// </summary>
    public static (ModelManifest Manifest, Evaluation Figures) WriteOnnx(SketchRnn model, RunState state, TrainingData data, Evaluation losses, string folder, string name)
    {
        var manifest = ModelWriter.Write(folder, model.ExportWeights(), Manifest(state, data, losses, name));
        if (data.Test.Length == 0) return (manifest, losses);
        if (!state.HParams.DecoderOnly && data.Train.Length > 1)
        {
            FitPrior(folder, data.Train);
            manifest = ModelManifest.Read(folder); // with the prior's sha256
        }
        using var onnx = SketchModel.Load(folder);
        var retrieval = state.HParams.DecoderOnly ? null : LatentRetrieval.Measure(onnx, data.Test, [0.1f, 0]);
        var quality = SketchQuality.MeasureOverSeeds(onnx, data.Test);
        manifest = manifest with { Retrieval = retrieval, Quality = quality };
        manifest.Write(folder);
        return (manifest, losses with { Retrieval = retrieval, Quality = quality });
    }

    /// <summary>Fits the data prior to the posteriors of <paramref name="train"/> (model space) by the folder's own encoder, and writes it into the folder.</summary>
    public static LatentPrior FitPrior(string folder, IReadOnlyList<StrokePoint[]> train)
    {
        LatentPrior prior;
        using (var onnx = SketchModel.Load(folder, withPrior: false)) prior = LatentPrior.Fit(LatentRetrieval.Encode(onnx, train));
        ModelWriter.WritePrior(folder, prior);
        return prior;
    }

    /// <summary>
    /// The checkpoint as a sketch-rnn-js <c>.vae.json</c> / <c>.gen.json</c> file for Google's demos and ml5, written
    /// through a temporary file renamed into place. The format has no partial flag: its encoder takes every sketch as whole.
    /// </summary>
    public static void WriteSketchRnnJs(SketchRnn model, RunState state, string file, string name)
    {
        // sketch-rnn-js's info: Google's decoder-only files say mode 2; readers tell a VAE by its 17 weight blobs.
        var info = new MagentaInfo(name, state.HParams.DecoderOnly ? "2" : "0", 6, state.HParams.MaxSeqLen, state.ScaleFactor);
        var tmp = file + ".tmp";
        new MagentaModel(info, model.ExportWeights()).Save(tmp);
        File.Move(tmp, file, overwrite: true);
    }

    private static ModelManifest Manifest(RunState state, TrainingData data, Evaluation figures, string name) =>
        new()
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
            AveragedSteps = state.AveragedSteps,
            FineTunedFrom = state.InitFrom,
            Valid = figures.Valid,
            Test = figures.Test,
            Retrieval = figures.Retrieval,
        };

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
