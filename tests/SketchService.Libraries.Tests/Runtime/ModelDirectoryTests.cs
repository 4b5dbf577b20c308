using Microsoft.Extensions.Logging;
using SketchService.Core.Model;
using SketchService.Export;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Libraries.Tests.Runtime;

public sealed class ModelDirectoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ModelManifest WriteRandom(string root, string name, bool vae = true) =>
        TestModels.Write(Directory.CreateDirectory(Path.Combine(root, name)).FullName, TestWeights.Random(21, vae));

    private static ModelLoadException LoadFails(string folder) => Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder));

    [Fact]
    public void Good_folders_load_and_bad_ones_are_reported_by_name_and_skipped()
    {
        using var root = new TempFolder();
        WriteRandom(root.Path, "good-vae");
        WriteRandom(root.Path, "good-gen", vae: false);

        WriteRandom(root.Path, "bad-sha");
        File.AppendAllText(Path.Combine(root.Path, "bad-sha", ModelFolder.DecoderStepFile), "x");

        WriteRandom(root.Path, "missing-file");
        File.Delete(Path.Combine(root.Path, "missing-file", ModelFolder.EncoderFile));

        Directory.CreateDirectory(Path.Combine(root.Path, "garbage-manifest"));
        File.WriteAllText(Path.Combine(root.Path, "garbage-manifest", ModelFolder.ManifestFile), "{ this is not json");

        Directory.CreateDirectory(Path.Combine(root.Path, "empty"));

        using var directory = ModelDirectory.Load(root.Path, cancellationToken: Ct);
        Assert.Equal(["good-gen", "good-vae"], directory.Models.Select(m => m.Id));
        Assert.Equal([ModelKind.DecoderOnly, ModelKind.Vae], directory.Models.Select(m => m.Manifest.Kind));

        var reasons = directory.Failures.ToDictionary(f => f.Name, f => f.Reason);
        Assert.Equal(["bad-sha", "empty", "garbage-manifest", "missing-file"], reasons.Keys.Order());
        Assert.StartsWith("decoder_step.onnx sha256 is ", reasons["bad-sha"]);
        Assert.StartsWith("encoder.onnx is missing", reasons["missing-file"]);
        Assert.StartsWith("model.json is not a valid manifest", reasons["garbage-manifest"]);
        Assert.Equal("model.json is missing", reasons["empty"]);
    }

    [Fact]
    public void A_missing_models_folder_gives_no_models()
    {
        using var root = new TempFolder();
        using var directory = ModelDirectory.Load(Path.Combine(root.Path, "nope"), cancellationToken: Ct);
        Assert.Empty(directory.Models);
        Assert.Empty(directory.Failures);
    }

    [Fact]
    public void Manifest_sizes_that_disagree_with_the_graphs_are_rejected()
    {
        using var root = new TempFolder();
        var manifest = WriteRandom(root.Path, "m");
        var folder = Path.Combine(root.Path, "m");
        (manifest with { DecoderSize = manifest.DecoderSize + 1 }).Write(folder);
        Assert.Equal("decoder_init.onnx output 'h' has dims [?, 7], expected [?, 8] from model.json", LoadFails(folder).Reason);

        // Once: drawing_extent 0 loaded as healthy, then every polylines answer was a 500 ("Infinity cannot be written as JSON").
        (manifest with { DrawingExtent = 0 }).Write(folder);
        Assert.Equal("model.json: drawing_extent must be a positive number (polylines are resized to it)", LoadFails(folder).Reason);
        (manifest with { DrawingExtent = -5 }).Write(folder);
        Assert.StartsWith("model.json: drawing_extent", LoadFails(folder).Reason);
        (manifest with { ScaleFactor = -1 }).Write(folder);
        Assert.Equal("model.json: scale_factor must be a positive number", LoadFails(folder).Reason);

        // A folder written before decoder_step took z_gates: its graphs no longer fit, and the reason says what to do.
        (manifest with { FormatVersion = 1 }).Write(folder);
        Assert.Equal("model.json: format_version 1 is not supported (expected 2): `sketch-trainer upgrade <folder>` rewrites it, weights unchanged",
            LoadFails(folder).Reason);
        // A decoder-only folder of format 1 (an imported model on a volume) has format 2's graph: it is served as it is.
        var oldGen = Path.Combine(root.Path, "old-gen");
        var genWritten = WriteRandom(root.Path, "old-gen", vae: false);
        (genWritten with { FormatVersion = 1 }).Write(oldGen);
        using (var served = SketchModel.Load(oldGen)) Assert.Equal(ModelKind.DecoderOnly, served.Manifest.Kind);

        (manifest with { Sha256 = new() { [ModelFolder.EncoderFile] = manifest.Sha256[ModelFolder.EncoderFile] } }).Write(folder);
        Assert.Equal("model.json has no sha256 for decoder_init.onnx", LoadFails(folder).Reason);

        // A VAE manifest over a decoder-only folder: the graphs lack z.
        var gen = Path.Combine(root.Path, "gen");
        var genManifest = WriteRandom(root.Path, "gen", vae: false);
        File.Copy(Path.Combine(folder, ModelFolder.EncoderFile), Path.Combine(gen, ModelFolder.EncoderFile));
        File.Copy(Path.Combine(folder, ModelFolder.DecoderInitFile), Path.Combine(gen, ModelFolder.DecoderInitFile));
        (manifest with { Sha256 = new(manifest.Sha256) { [ModelFolder.DecoderStepFile] = genManifest.Sha256[ModelFolder.DecoderStepFile] } }).Write(gen);
        Assert.StartsWith("decoder_step.onnx has inputs [x, h, c], expected [x, z_gates, h, c]", LoadFails(gen).Reason);
    }

    [Fact]
    public void Graph_descriptions_name_symbolic_and_fixed_dims()
    {
        using var root = new TempFolder();
        WriteRandom(root.Path, "m");
        using var model = SketchModel.Load(Path.Combine(root.Path, "m"));
        Assert.Equal("m", model.Id);
        Assert.Equal([ModelFolder.EncoderFile, ModelFolder.DecoderInitFile, ModelFolder.DecoderStepFile], model.Graphs.Select(g => g.File));
        var strokes = model.Graphs[0].Inputs[0];
        Assert.Equal(("strokes", "float"), (strokes.Name, strokes.ElementType));
        Assert.Equal(["T", "B", "5"], strokes.Dims);
        Assert.Equal("int32", model.Graphs[0].Inputs[1].ElementType);
        var step = model.Graphs[2];
        Assert.Equal(["x", "z_gates", "h", "c"], step.Inputs.Select(i => i.Name));
        Assert.Equal(["B", "15"], step.Outputs.Single(o => o.Name == "params").Dims);
    }

    [Fact]
    public void Cuda_falls_back_to_cpu_with_a_warning_where_unavailable()
    {
        using var root = new TempFolder();
        WriteRandom(root.Path, "m", vae: false);
        var logger = new ListLogger();
        using var model = SketchModel.Load(Path.Combine(root.Path, "m"), new InferenceOptions { UseCuda = true }, logger);
        // This project references the CPU-only ORT package, so CUDA is never there.
        Assert.False(model.UsesCuda);
        Assert.Contains(logger.Messages, m => m.StartsWith("CUDA execution provider unavailable, using CPU"));
        Assert.Single(SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, MaxSteps = 3 }, Ct));
    }

    [Fact]
    public void An_imported_magenta_model_loads_as_decoder_only_and_decodes()
    {
        using var root = new TempFolder();
        var folder = Path.Combine(root.Path, "bird");
        MagentaModel.Import(SharedData.Path("models", "magenta", "bird.gen.json"), folder, "magenta:bird");
        using var directory = ModelDirectory.Load(root.Path, cancellationToken: Ct);
        var model = Assert.Single(directory.Models);
        Assert.Equal(ModelKind.DecoderOnly, model.Manifest.Kind);
        Assert.Equal(["x", "h", "c"], model.Graphs.Single().Inputs.Select(i => i.Name));

        // At τ = 1 this seed's birds end after 51–100 points (at τ = 0.3 they run 130–200, past max_seq_len 129).
        var sketches = SketchDecoder.Decode(model, new DecodeOptions { Samples = 4, Temperature = 1, Seed = 1, MaxSteps = 250 }, Ct);
        Assert.All(sketches, s => Assert.True(s.Ended && s.Points.Length > 20, $"{s.Points.Length} points, ended: {s.Ended}"));
        Assert.All(sketches, s => Assert.Contains(s.Points, p => p.PenLifted));
        Assert.All(sketches, s => Assert.All(s.Points, p => Assert.True(Math.Abs(p.Dx) < 20 && Math.Abs(p.Dy) < 20)));
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
