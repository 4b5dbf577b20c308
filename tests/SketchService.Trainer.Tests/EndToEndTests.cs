using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Models;

namespace SketchService.Trainer.Tests;

/// <summary>train → export → ONNX Runtime → evaluate through the CLI, on the tiny real fixture.</summary>
public class EndToEndTests
{
    [Fact]
    public void Train_export_load_and_evaluate_the_tiny_birds()
    {
        using var temp = new TempFolder();
        var root = temp.Path;
        var data = SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz");
        var run = Path.Combine(root, "run");
        var modelDir = Path.Combine(root, "model");
        Assert.Equal(0, RunCli(out var trainLog, "train", "--data", data, "--out", run, "--max-steps", "40", "--valid-every", "20",
            "--enc", "32", "--dec", "64", "--z", "16", "--batch", "20", "--threads", "1"));
        Assert.Contains("finished at step 40", trainLog);
        var csv = File.ReadAllLines(Path.Combine(run, Training.LogFile));
        Assert.Equal(41, csv.Length);
        Assert.All(csv.Skip(1), l => Assert.True(double.IsFinite(double.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture))));

        Assert.Equal(0, RunCli(out _, "export", "--run", run, "--out", modelDir, "--name", "tiny-birds"));
        Assert.Equal(4, Regex.Count(File.ReadAllText(Path.Combine(modelDir, Pictures.LossCurveFile)), "<circle")); // steps 20 and 40, Lr and KL panels
        var manifest = ModelManifest.Read(modelDir);
        Assert.Equal((ModelKind.Vae, 64, 16, 32), (manifest.Kind, manifest.DecoderSize, manifest.LatentSize, manifest.EncoderSize));
        Assert.Equal((85, 10, 5), (manifest.Dataset!.Train, manifest.Dataset.Valid, manifest.Dataset.Test) is var (tr, va, te) ? (tr + 14, va + 4, te + 2) : default);
        Assert.True(double.IsFinite(manifest.Valid!.Reconstruction) && double.IsFinite(manifest.Test!.Kl));
        foreach (var (file, sha) in manifest.Sha256)
        {
            Assert.Equal(sha, FileHash.Sha256Hex(Path.Combine(modelDir, file)));
            if (file.EndsWith(".onnx")) { using var session = new InferenceSession(Path.Combine(modelDir, file)); } // loads in ONNX Runtime
        }
        // The data prior, fitted to the training birds' encodings, and what people see of each task.
        Assert.Contains(ModelFolder.PriorFile, manifest.Sha256.Keys);
        using (var served = SketchService.Runtime.Models.SketchModel.Load(modelDir)) Assert.Equal(manifest.Dataset!.Train, served.Prior!.Drawings);
        Assert.Equal(["prior", "standard prior", "reconstruction", "completion", "completion from the prior", "interpolation", "whitened interpolation"], manifest.Quality!.Select(q => q.Task));
        Assert.All(manifest.Quality!, q =>
        {
            Assert.InRange(q.Accuracy, 0, 1);
            Assert.Equal(SketchQuality.DefaultSeeds, q.SeedAccuracies!.Count); // each seed drew and was judged afresh; the figure is their mean
            Assert.Equal(q.SeedAccuracies.Average(), q.Accuracy, 12);
        });

        var (model, state) = Export.LoadCheckpoint(run, Training.BestDir);
        using (model)
        {
            var sketches = Export.LoadData(state, []).Test;
            var max = OnnxParityTests.AssertParity(model, modelDir, sketches, steps: 20);
            Assert.True(max <= 1e-5, $"parity max |Δ| {max:E2}");
        }

        Assert.Equal(0, RunCli(out var evalLog, "evaluate", "--run", run));
        var m = Regex.Match(evalLog, @"valid: Lr (\S+) KL (\S+)\s+test:\s+Lr (\S+) KL (\S+)");
        Assert.True(m.Success, evalLog);
        Assert.All(m.Groups.Values.Skip(1), g => Assert.True(double.IsFinite(double.Parse(g.Value, System.Globalization.CultureInfo.InvariantCulture))));

        // Retrieval on the test birds, as the service's ONNX graphs run them; evaluate prints what export recorded.
        Assert.Equal([0.1f, 0f], manifest.Retrieval!.Select(r => r.Temperature));
        Assert.All(manifest.Retrieval!, r => Assert.True(r.Sketches == manifest.Dataset!.Test && r.Top1 is >= 0 and <= 1 && r.Top5 >= r.Top1, r.ToString()));
        Assert.Contains($"retrieval at τ 0.1: top-1 {manifest.Retrieval![0].Top1:P1}, top-5 {manifest.Retrieval[0].Top5:P1} of {manifest.Dataset!.Test} test sketches (chance {1.0 / manifest.Dataset.Test:P1} / {Math.Min(5.0, manifest.Dataset.Test) / manifest.Dataset.Test:P1})", evalLog);

        // The folder against itself: the same seeds draw the same drawings, so every task differs by exactly nothing.
        Assert.Equal(0, RunCli(out var againstLog, "evaluate", "--model", modelDir, "--against", modelDir, "--data", data, "--seeds", "2"));
        var compared = Regex.Matches(againstLog, @"^  (.+?)\s+\S+ % against \S+ %: (\S+) ± (\S+), (\w+)$", RegexOptions.Multiline);
        Assert.True(compared.Count == manifest.Quality!.Count, againstLog);
        Assert.All(compared, c => Assert.Equal(("0.0", "0.0", "level"), (c.Groups[2].Value, c.Groups[3].Value, c.Groups[4].Value)));
        Assert.Equal(Commands.UsageError, RunCli(out _, "evaluate", "--run", run, "--against", modelDir));
        Assert.Equal(Commands.UsageError, RunCli(out _, "evaluate", "--model", modelDir, "--against", modelDir, "--data", data, "--seeds", "1"));
        var sheep = Path.Combine(SharedData.RepoRoot, "models", "sheep");
        Assert.Equal(Commands.UsageError, RunCli(out var otherData, "evaluate", "--model", modelDir, "--against", sheep, "--data", data, "--seeds", "2"));
        Assert.Contains("cannot be judged on the same test drawings", otherData);
    }

    [Fact]
    public void A_sketch_rnn_js_export_imports_back_to_the_same_decoder_within_int16_steps()
    {
        using var temp = new TempFolder();
        var root = temp.Path;
        var run = Path.Combine(root, "run");
        Assert.Equal(0, RunCli(out _, "train", "--data", SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz"), "--out", run,
            "--max-steps", "10", "--valid-every", "10", "--enc", "16", "--dec", "32", "--z", "8", "--batch", "20", "--threads", "1"));
        Assert.Equal(0, RunCli(out _, "export", "--run", run, "--out", Path.Combine(root, "onnx")));
        var js = Path.Combine(root, "birds.vae.json");
        Assert.Equal(0, RunCli(out var log, "export", "--run", run, "--format", "sketch-rnn-js", "--out", js));
        Assert.Contains("sketch-rnn-js VAE 'birds'", log);
        Assert.Equal(0, RunCli(out _, "import-magenta", js, "--out", Path.Combine(root, "imported")));

        using var original = SketchModel.Load(Path.Combine(root, "onnx"));
        using var imported = SketchModel.Load(Path.Combine(root, "imported"));
        Assert.Equal((ModelKind.Vae, "birds"), (imported.Manifest.Kind, imported.Manifest.Name));
        Assert.Equal(original.Manifest.ScaleFactor, imported.Manifest.ScaleFactor, 4);
        // A real drawing, teacher-forced for 50 steps from the same z through both decoders.
        var (_, state) = Export.LoadCheckpoint(run, Training.BestDir);
        var drawing = Export.LoadData(state, []).Train.First(s => s.Length >= 49);
        var z = original.Encode([drawing])[0].Mu;
        using var a = original.CreateDecoder(1, [z]);
        using var b = imported.CreateDecoder(1, [z]);
        float worst = 0;
        foreach (var x in StrokeFormats.ToStroke5(drawing).Prepend([0, 0, 1, 0, 0]).Take(50))
        {
            var pa = a.Step(x).ToArray();
            var pb = b.Step(x);
            for (int k = 0; k < pa.Length; k++) worst = Math.Max(worst, Math.Abs(pa[k] - pb[k]));
        }
        // Weights move by at most half of 10/32767 (1.5e-4); summed over ~40 inputs that stays well under 5e-3.
        Assert.True(worst is > 0 and < 5e-3f, $"decoder params differ by {worst} over 50 steps");
    }

    /// <summary>Runs the CLI in-process; stdout and stderr together.</summary>
    internal static int RunCli(out string output, params string[] args)
    {
        var sw = new StringWriter();
        var code = Commands.Run(args, sw, sw);
        output = sw.ToString();
        return code;
    }
}
