using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using SketchService.Inference.Model;
using SketchService.Inference.Onnx;

namespace SketchService.Trainer.Tests;

/// <summary>train → export → ONNX Runtime → evaluate through the CLI, on the tiny real fixture.</summary>
public class EndToEndTests
{
    [Fact]
    public void Train_export_load_and_evaluate_the_tiny_birds()
    {
        var root = Directory.CreateTempSubdirectory("e2e-").FullName;
        try
        {
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
                using var session = new InferenceSession(Path.Combine(modelDir, file)); // loads in ONNX Runtime
            }

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
        }
        finally { Directory.Delete(root, true); }
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
