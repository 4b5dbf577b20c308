using System.Text.Json.Nodes;
using static SketchService.Trainer.Tests.EndToEndTests;
using SketchService.Core.Model;

namespace SketchService.Trainer.Tests;

/// <summary>The command line as a new user meets it: help, bad values, run folders, odd data.</summary>
public class CliTests
{
    // Properties, so a test skips (not fails) without the shared data.
    private static string Tiny => SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz");
    /// <summary>25 Quick Draw ants whose hash split puts none in test.</summary>
    private static string NoTestSplit => SharedData.Path("data", "quickdraw", "simplified", "ant.ndjson");
    private static readonly string[] Small = ["--enc", "8", "--dec", "16", "--z", "4", "--batch", "8", "--threads", "1"];

    [Theory]
    [InlineData("train")]
    [InlineData("average")]
    [InlineData("evaluate")]
    [InlineData("export")]
    [InlineData("import-magenta")]
    [InlineData("upgrade")]
    public void Every_command_has_help(string command)
    {
        Assert.Equal(0, RunCli(out var help, command, "--help"));
        Assert.Contains("Usage:", help);
        Assert.DoesNotContain("error", help);
        if (command == "train")
            Assert.All(HParams.Table.Select(h => h.Option).Concat(["--data", "--out", "--time-budget", "--resume", "--force", "--decoder-only", "--keep-checkpoints", "--init-from"]), o => Assert.Contains(o, help));
    }

    [Fact]
    public void Upgrade_rewrites_a_format_1_folder_once_and_refuses_a_damaged_one()
    {
        using var dir = new TempFolder();
        var folder = Path.Combine(dir.Path, "old");
        var fixture = Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "format1-vae");
        TempFolder.CopyFiles(fixture, folder);
        Assert.Equal(0, RunCli(out var log, "upgrade", folder));
        Assert.Contains("format 1 → 2", log);
        Assert.Equal(ModelFolder.FormatVersion, ModelManifest.Read(folder).FormatVersion);
        var step = File.ReadAllBytes(Path.Combine(folder, ModelFolder.DecoderStepFile));
        Assert.Equal(0, RunCli(out log, "upgrade", folder));
        Assert.Contains("is format 2 already", log);
        Assert.Equal(step, File.ReadAllBytes(Path.Combine(folder, ModelFolder.DecoderStepFile)));

        var damaged = Path.Combine(dir.Path, "damaged");
        TempFolder.CopyFiles(fixture, damaged);
        File.AppendAllText(Path.Combine(damaged, ModelFolder.DecoderStepFile), "x");
        Assert.Equal(Commands.UsageError, RunCli(out log, "upgrade", damaged));
        Assert.Contains("decoder_step.onnx", log);
        Assert.Contains("does not match its sha256", log);
        Assert.Equal(1, ModelManifest.Read(damaged).FormatVersion);
        Assert.Empty(Directory.GetFiles(damaged, "*.upgrade"));

        File.WriteAllText(Path.Combine(damaged, ModelFolder.ManifestFile), "{ not json");
        Assert.Equal(Commands.UsageError, RunCli(out log, "upgrade", damaged));
        Assert.StartsWith("error: ", log.Trim());
        Assert.DoesNotContain("   at ", log);
    }

    [Theory]
    [InlineData("--max-steps abc", "--max-steps: 'abc' is not a whole number ≥ 1")]
    [InlineData("--max-steps 0", "--max-steps: '0' is not a whole number ≥ 1")]
    [InlineData("--max-steps=-3", "--max-steps: '-3' is not a whole number ≥ 1")]
    [InlineData("--time-budget banana", "--time-budget: 'banana' is not a duration like 90m, 2h, 45s, 2h30m or 1:30:00")]
    [InlineData("--time-budget 20", "--time-budget: '20' has no unit; write it with one, e.g. 90m")]
    [InlineData("--time-budget=-5m", "--time-budget: '-5m' is not a duration")]
    [InlineData("--time-budget 0s", "--time-budget: '0s' is not a positive duration")]
    [InlineData("--enc 0", "--enc: '0' is not a whole number ≥ 1")]
    [InlineData("--input-dropout 1.5", "--input-dropout: '1.5' is not a number from 0 to 1")]
    [InlineData("--lr nan", "--lr: 'nan' is not a number from 0 to ∞")]
    [InlineData("--dat x", "Unrecognized command or argument '--dat'")]
    [InlineData("--resume --force", "--resume and --force contradict each other")]
    public void Bad_values_are_refused_with_the_option_and_what_it_expects(string bad, string message)
    {
        var run = Path.Combine(Path.GetTempPath(), "never-written-" + Guid.NewGuid());
        Assert.Equal(Commands.UsageError, RunCli(out var log, ["train", "--data", Tiny, "--out", run, .. bad.Split(' ')]));
        Assert.Contains("error: " + message, log);
        Assert.Contains("See 'sketch-trainer train --help'.", log);
        Assert.DoesNotContain("   at ", log); // no stack trace
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("90m", 90 * 60)]
    [InlineData("2h", 2 * 3600)]
    [InlineData("45s", 45)]
    [InlineData("2h30m", 9000)]
    [InlineData("1h30m15s", 5415)]
    [InlineData("1.5h", 5400)]
    [InlineData("1:30:00", 5400)]
    public void Durations_take_units_or_a_clock(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Cli.Duration(text));

    [Fact]
    public void A_run_folder_is_only_replaced_with_force_and_resume_refuses_other_sizes()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        string[] Train(params string[] more) => ["train", "--data", Tiny, "--out", run, .. Small, .. more];
        Assert.Equal(0, RunCli(out _, Train("--max-steps", "2")));

        Assert.Equal(Commands.UsageError, RunCli(out var log, Train("--max-steps", "4")));
        Assert.Contains($"{run} already holds a run (its checkpoint is at step 2): add --resume to continue it, or --force to start over and replace it", log);
        Assert.Equal(2, RunState.Read(Path.Combine(run, Training.LatestDir)).Step);

        // Only the options given count: a size left out is the checkpoint's, a size given must match it.
        Assert.Equal(Commands.UsageError, RunCli(out log, ["train", "--out", run, "--resume", "--dec", "32", "--kl-weight", "0.8"]));
        Assert.Contains("these differ: --dec 32 (checkpoint: 16), --kl-weight 0.8 (checkpoint: 0.5)", log);
        Assert.Equal(0, RunCli(out log, ["train", "--out", run, "--resume", "--dec", "16", "--max-steps", "4"]));
        Assert.Contains("resumed at step 2 (best validation loss, Lr + w_KL·max(KL, floor), ", log);
        Assert.Equal(0, RunCli(out log, ["train", "--out", run, "--resume", "--max-steps", "5"])); // data and sizes from the checkpoint
        Assert.Equal(5, RunState.Read(Path.Combine(run, Training.LatestDir)).Step);

        Assert.Equal(0, RunCli(out log, Train("--force", "--max-steps", "1")));
        Assert.DoesNotContain("resumed", log);
        Assert.Equal(new[] { "step", "1" }, File.ReadAllLines(Path.Combine(run, Training.LogFile)).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void Init_from_starts_a_new_run_from_another_runs_weights()
    {
        using var temp = new TempFolder();
        var first = Path.Combine(temp.Path, "first");
        var tuned = Path.Combine(temp.Path, "tuned");
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", first, .. Small, "--max-steps", "2"]));
        var from = Path.Combine(first, Training.BestDir);

        Assert.Equal(Commands.UsageError, RunCli(out var log, ["train", "--out", tuned, "--init-from", from, "--dec", "8", "--z", "6"]));
        Assert.Contains($"--init-from {from}: its weights do not fit these sizes: --dec 8 (checkpoint: 16), --z 6 (checkpoint: 4) (only the decoder can grow", log);
        Assert.Equal(Commands.UsageError, RunCli(out log, ["train", "--out", tuned, "--init-from", from, "--dec", "32", "--enc", "4"]));
        Assert.Contains("--enc 4 (checkpoint: 8)", log);
        Assert.Equal(Commands.UsageError, RunCli(out log, ["train", "--out", tuned, "--init-from", first]));
        Assert.Contains($"--init-from {first}: no checkpoint there", log);
        Assert.Equal(Commands.UsageError, RunCli(out log, ["train", "--out", tuned, "--init-from", from, "--resume"]));
        Assert.Contains("--resume and --init-from contradict each other", log);
        Assert.False(Directory.Exists(tuned));

        // Sizes and data from the checkpoint, other hyper-parameters as given. A learning rate of 0 leaves the weights
        // as loaded, so the new run's validation must equal the first run's at the step it was loaded from.
        Assert.Equal(0, RunCli(out log, ["train", "--out", tuned, "--init-from", from, "--kl-tolerance", "0.9", "--lr", "0", "--min-lr", "0", "--threads", "1", "--max-steps", "1"]));
        Assert.Contains($"weights and Adam's state from {from} (step 2); a new run from step 0", log);
        var state = RunState.Read(Path.Combine(tuned, Training.LatestDir));
        Assert.Equal((1L, 16, 0.9), (state.Step, state.HParams.DecoderSize, state.HParams.KlTolerance));
        Assert.Equal("first/best (step 2)", state.InitFrom); // run and checkpoint by name: no path of this machine
        Assert.Equal([Path.GetFileName(Tiny)], state.Data);
        Assert.Equal([SketchService.Core.Model.FileHash.Sha256Hex(Tiny)], state.DataSha256);
        static string Validation(string run) => string.Join(',', File.ReadLines(Path.Combine(run, Training.LogFile)).Last().Split(',')[^2..]);
        Assert.Equal(Validation(first), Validation(tuned));

        // A resume of the fine-tuned run keeps where it started from, and so does its model folder.
        Assert.Equal(0, RunCli(out _, ["train", "--out", tuned, "--resume", "--max-steps", "2"]));
        Assert.Equal("first/best (step 2)", RunState.Read(Path.Combine(tuned, Training.LatestDir)).InitFrom);
        var model = Path.Combine(temp.Path, "model");
        Assert.Equal(0, RunCli(out _, ["export", "--run", tuned, "--checkpoint", "checkpoint", "--out", model]));
        Assert.Equal("first/best (step 2)", ModelManifest.Read(model).FineTunedFrom);
    }

    [Fact]
    public void Init_from_a_narrower_decoder_widens_it_and_draws_as_before_until_trained()
    {
        using var temp = new TempFolder();
        var (first, wide) = (Path.Combine(temp.Path, "first"), Path.Combine(temp.Path, "wide"));
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", first, .. Small, "--partial-flag", "--prefix-share", "0.5", "--max-steps", "2"]));
        var from = Path.Combine(first, Training.LatestDir);

        // With a learning rate of 0 each new unit stays a copy of an old one, so the validation is the first run's to the last digit.
        Assert.Equal(0, RunCli(out var log, ["train", "--out", wide, "--init-from", from, "--dec", "24", "--lr", "0", "--min-lr", "0", "--threads", "1", "--max-steps", "1"]));
        Assert.Contains($"weights and Adam's state from {from} (step 2); a new run from step 0; the decoder widened from 16 to 24 units", log);
        static string Validation(string run) => string.Join(',', File.ReadLines(Path.Combine(run, Training.LogFile)).Last().Split(',')[^2..]);
        Assert.Equal(Validation(first), Validation(wide));
        Assert.Equal(24, RunState.Read(Path.Combine(wide, Training.LatestDir)).HParams.DecoderSize);

        // Trained, the copies grow apart: unit 16's input weights (row 16, first gate) leave unit 0's.
        var learnt = Path.Combine(temp.Path, "learnt");
        Assert.Equal(0, RunCli(out _, ["train", "--out", learnt, "--init-from", from, "--dec", "24", "--lr", "0.01", "--threads", "1", "--max-steps", "2"]));
        static TorchSharp.torch.Tensor InputWeights(string run)
        {
            var model = new SketchRnn(RunState.Read(Path.Combine(run, Training.LatestDir)).HParams);
            model.load(Path.Combine(run, Training.LatestDir, RunState.Weights));
            return model.named_parameters().Single(p => p.name == "decoder.weight_ih_l0").parameter;
        }
        var (untrained, trained) = (InputWeights(wide), InputWeights(learnt));
        Assert.True(TorchSharp.torch.allclose(untrained[16], untrained[0], rtol: 0, atol: 0));
        Assert.False(TorchSharp.torch.allclose(trained[16], trained[0], rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Init_from_a_run_without_the_partial_flag_gains_it_at_zero_and_resumes_with_it()
    {
        using var temp = new TempFolder();
        var (first, flagged, model) = (Path.Combine(temp.Path, "first"), Path.Combine(temp.Path, "flagged"), Path.Combine(temp.Path, "model"));
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", first, .. Small, "--max-steps", "2"]));
        var from = Path.Combine(first, Training.BestDir);

        // With a learning rate of 0 the shift stays at zero, so whole drawings validate exactly as before.
        Assert.Equal(0, RunCli(out var log, ["train", "--out", flagged, "--init-from", from, "--partial-flag", "--prefix-share", "0.5", "--lr", "0", "--min-lr", "0", "--threads", "1", "--max-steps", "1"]));
        Assert.Contains($"weights and Adam's state from {from} (step 2); a new run from step 0; the partial flag's shift starts at zero", log);
        static string Validation(string run) => string.Join(',', File.ReadLines(Path.Combine(run, Training.LogFile)).Last().Split(',')[^2..]);
        Assert.Equal(Validation(first), Validation(flagged));
        Assert.Equal(0, RunCli(out _, ["train", "--out", flagged, "--resume", "--max-steps", "3"])); // Adam's state for both groups
        Assert.Equal(0, RunCli(out _, ["export", "--run", flagged, "--checkpoint", "checkpoint", "--out", model]));
        using (var served = SketchService.Runtime.Models.SketchModel.Load(model)) Assert.True(served.ReadsPartial);

        // A run started from a flagged checkpoint keeps the flag, as it keeps the sizes.
        var again = Path.Combine(temp.Path, "again");
        Assert.Equal(0, RunCli(out log, ["train", "--out", again, "--init-from", Path.Combine(flagged, Training.LatestDir), "--threads", "1", "--max-steps", "1"]));
        Assert.DoesNotContain("starts at zero", log);
        Assert.True(RunState.Read(Path.Combine(again, Training.LatestDir)).HParams.PartialFlag);
    }

    [Fact]
    public void Resume_without_a_checkpoint_keeps_what_the_folder_holds()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", run, .. Small, "--max-steps", "2"]));
        Directory.Delete(Path.Combine(run, Training.LatestDir), true);

        Assert.Equal(Commands.UsageError, RunCli(out var log, ["train", "--out", run, "--resume", "--data", Tiny, "--max-steps", "4"]));
        Assert.Contains($"{run} has no checkpoint to resume, but holds best and train-log.csv: copy best to checkpoint to resume from it, or add --force to start over and replace them", log);
        Assert.Equal(2, RunState.Read(Path.Combine(run, Training.BestDir)).Step);

        Directory.CreateDirectory(Path.Combine(temp.Path, "empty"));
        Assert.Equal(0, RunCli(out log, ["train", "--out", Path.Combine(temp.Path, "empty"), "--resume", "--data", Tiny, .. Small, "--max-steps", "1"]));
        Assert.Contains("starting a new run", log);
    }

    [Fact]
    public void The_run_log_has_named_columns_and_a_final_validation()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", run, .. Small, "--max-steps", "3", "--valid-every", "100"]));
        var rows = File.ReadAllLines(Path.Combine(run, Training.LogFile));
        Assert.Equal("step,elapsed_s,recon_loss,kl,w_kl,learning_rate,valid_recon_loss,valid_kl", rows[0]);
        Assert.All(rows[1..^1], r => Assert.EndsWith(",,", r));
        Assert.DoesNotContain(",,", rows[^1]);
    }

    [Fact]
    public void A_bad_or_missing_data_file_is_named_with_what_was_expected()
    {
        using var temp = new TempFolder();
        var dir = temp.Path;
        var truncated = Path.Combine(dir, "truncated.npz");
        var bytes = File.ReadAllBytes(Tiny);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var text = Path.Combine(dir, "text.npz");
        File.WriteAllText(text, "not a zip");
        foreach (var file in new[] { truncated, text })
        {
            Assert.Equal(Commands.UsageError, RunCli(out var log, ["train", "--data", file, "--out", Path.Combine(dir, "run"), .. Small]));
            Assert.Contains($"error: {file} is not a readable Sketch-RNN .npz (a NumPy zip of train, valid and test stroke arrays)", log);
        }
        var missing = Path.Combine(dir, "missing.npz");
        Assert.Equal(Commands.UsageError, RunCli(out var notFound, ["train", "--data", missing, "--out", Path.Combine(dir, "run"), .. Small]));
        Assert.Contains($"error: data file not found: {missing}", notFound);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Fact]
    public void Several_data_files_show_each_files_counts()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        Assert.Equal(0, RunCli(out var log, ["train", "--data", Tiny, "--data", NoTestSplit, "--out", run, .. Small, "--max-steps", "1"]));
        Assert.Contains("data creativebirds_tiny+ant: train ", log);
        Assert.Contains("\n  creativebirds_tiny: train 71, valid 6, test 3\n", log.ReplaceLineEndings("\n"));
        Assert.Matches(@"\n  ant: train \d+, valid \d+, test 0\n", log.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void An_empty_test_split_is_reported_absent_and_left_out_of_the_export()
    {
        using var temp = new TempFolder();
        var root = temp.Path;
        var (run, model) = (Path.Combine(root, "run"), Path.Combine(root, "ant"));
        Assert.Equal(0, RunCli(out _, ["train", "--data", NoTestSplit, "--out", run, .. Small, "--max-steps", "2"]));
        Assert.Equal(0, RunCli(out var log, "evaluate", "--run", run));
        Assert.Matches(@"valid: Lr -?\d+\.\d+ KL \d+\.\d+", log);
        Assert.Contains("test:  no sketches", log);

        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "stale.txt"), "from an earlier export");
        Assert.Equal(0, RunCli(out log, "export", "--run", run, "--out", model));
        var manifest = ModelManifest.Read(model);
        Assert.NotNull(manifest.Valid);
        Assert.Null(manifest.Test);
        Assert.False(JsonNode.Parse(File.ReadAllText(Path.Combine(model, ModelFolder.ManifestFile)))!.AsObject().ContainsKey("test"));
        Assert.False(File.Exists(Path.Combine(model, "stale.txt")));
        Assert.Equal(new[] { "ant" }, Directory.GetDirectories(root).Select(Path.GetFileName).Where(n => n != "run"));
    }

    [Fact]
    public void A_failed_export_leaves_the_existing_folder_as_it_was()
    {
        using var temp = new TempFolder();
        var root = temp.Path;
        var target = Path.Combine(root, "model");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "model.json"), "old");
        Assert.Throws<IOException>(() => Export.WriteFolder(target, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, "encoder.onnx"), "half");
            throw new IOException("disk full");
        }));
        Assert.Equal(new[] { "model.json" }, Directory.GetFiles(target).Select(Path.GetFileName));
        Assert.Equal("old", File.ReadAllText(Path.Combine(target, "model.json")));
        Assert.Equal(new[] { target }, Directory.GetDirectories(root));

        Export.WriteFolder(target, tmp => File.WriteAllText(Path.Combine(tmp, "model.json"), "new"));
        Assert.Equal("new", File.ReadAllText(Path.Combine(target, "model.json")));
        Assert.Equal(new[] { target }, Directory.GetDirectories(root));
    }

    [Fact]
    public void Decoder_only_trains_and_exports_the_unconditional_model()
    {
        using var temp = new TempFolder();
        var root = temp.Path;
        var (run, model) = (Path.Combine(root, "run"), Path.Combine(root, "model"));
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", run, .. Small, "--max-steps", "2", "--decoder-only"]));
        Assert.True(RunState.Read(Path.Combine(run, Training.LatestDir)).HParams.DecoderOnly);
        Assert.Equal(0, RunCli(out _, "export", "--run", run, "--out", model));
        Assert.Equal(ModelKind.DecoderOnly, ModelManifest.Read(model).Kind);
    }
}
