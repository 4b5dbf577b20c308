using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;
using static SketchService.Trainer.Tests.EndToEndTests;
using SketchService.Core.Model;

namespace SketchService.Trainer.Tests;

/// <summary>
/// Runs alone: it compares validations computed at different times to 4 decimals, and tests running beside it change
/// libtorch's process-wide thread count and random state (1 failure in 8 runs beside CliTests).
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public class AveragingCollection;

/// <summary>train --keep-checkpoints, then average: the mean of the last k kept weights that validates best.</summary>
[Collection(typeof(AveragingCollection))]
public class AveragingTests
{
    private static string Tiny => SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz");
    private static readonly string[] Small = ["--enc", "8", "--dec", "16", "--z", "4", "--batch", "8", "--threads", "1", "--valid-every", "2"];

    [Fact]
    public void Average_writes_the_mean_of_the_last_kept_checkpoints_that_validates_best()
    {
        using var temp = new TempFolder();
        var run = Path.Combine(temp.Path, "run");
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", run, .. Small, "--max-steps", "6", "--keep-checkpoints"]));
        Assert.Equal(0, RunCli(out _, ["train", "--out", run, "--resume", "--max-steps", "9", "--valid-every", "2", "--threads", "1", "--keep-checkpoints"])); // kept across a resume, and at the last step
        var steps = Path.Combine(run, Training.StepsDir);
        Assert.Equal(new[] { "2", "4", "6", "8", "9" }, Directory.GetDirectories(steps).Select(Path.GetFileName).OrderBy(s => int.Parse(s!, CultureInfo.InvariantCulture)));
        Assert.False(File.Exists(Path.Combine(steps, "4", RunState.Optimizer))); // weights only: they are not resumed from

        Assert.Equal(0, RunCli(out var log, "average", "--run", run));
        var candidates = Regex.Matches(log, @"last +(\d+) \(steps (\d+)–9\): valid Lr \S+, KL \S+, loss (\S+)")
            .Select(m => (K: int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), Loss: double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(new[] { 1, 2, 3, 4, 5 }, candidates.Select(c => c.K));
        var average = RunState.Read(Path.Combine(run, Training.AverageDir));
        var k = average.AveragedSteps!.Count;
        Assert.Equal(new long[] { 2, 4, 6, 8, 9 }[^k..], average.AveragedSteps);
        Assert.Equal(candidates.Min(c => c.Loss), candidates.Single(c => c.K == k).Loss);
        Assert.Contains($"wrote {Path.Combine(run, Training.AverageDir)}: the last {k} of 5 kept checkpoints", log);
        Assert.Equal(9, average.Step);

        // k = 1 is step 9 as training validated it; k = 5 is the mean of all five, validated here.
        var lastRow = File.ReadLines(Path.Combine(run, Training.LogFile)).Last().Split(',');
        var trained = new LossFigures(double.Parse(lastRow[6], CultureInfo.InvariantCulture), double.Parse(lastRow[7], CultureInfo.InvariantCulture));
        Assert.Equal(Training.ValidationLoss(average.HParams, trained), candidates[0].Loss, 4);
        var kept = new long[] { 2, 4, 6, 8, 9 }.Select(s => Export.LoadCheckpoint(run, Path.Combine(Training.StepsDir, s.ToString(CultureInfo.InvariantCulture))).Model).ToArray();
        using (var meanOfAll = new SketchRnn(average.HParams))
        {
            using (torch.no_grad())
                foreach (var (name, w) in meanOfAll.state_dict())
                    w.copy_(torch.stack(kept.Select(m => m.state_dict()[name]).ToArray()).mean([0]));
            var valid = Training.Evaluate(meanOfAll, Export.LoadData(average, []).Valid, average.HParams, average.Seed)!;
            Assert.Equal(Training.ValidationLoss(average.HParams, valid), candidates[4].Loss, 4);
        }

        var (averaged, _) = Export.LoadCheckpoint(run, Training.AverageDir);
        foreach (var (name, w) in averaged.state_dict())
        {
            using var mean = torch.stack(kept[^k..].Select(m => m.state_dict()[name]).ToArray()).mean([0]);
            Assert.True(mean.allclose(w, rtol: 1e-5, atol: 1e-6), name);
        }
        foreach (var m in kept.Append(averaged)) m.Dispose();

        Assert.Equal(0, RunCli(out log, "evaluate", "--run", run, "--checkpoint", "average"));
        Assert.Contains("checkpoint average at step 9", log);
        var model = Path.Combine(temp.Path, "model");
        Assert.Equal(0, RunCli(out _, "export", "--run", run, "--checkpoint", "average", "--out", model));
        Assert.Equal(average.AveragedSteps, ModelManifest.Read(model).AveragedSteps);

        // A resume drops weights kept past its checkpoint (another line of training) and saves cut short.
        var latest = Path.Combine(run, Training.LatestDir);
        Directory.Delete(latest, true);
        TempFolder.CopyFiles(Path.Combine(steps, "6"), latest);
        File.Copy(Path.Combine(run, Training.BestDir, RunState.Optimizer), Path.Combine(latest, RunState.Optimizer));
        TempFolder.CopyFiles(Path.Combine(steps, "8"), Path.Combine(steps, "7.tmp"));
        Assert.Equal(0, RunCli(out log, ["train", "--out", run, "--resume", "--max-steps", "7", "--valid-every", "2", "--threads", "1", "--keep-checkpoints"]));
        Assert.Contains("resumed at step 6", log);
        Assert.Equal(new[] { "2", "4", "6", "7" }, Directory.GetDirectories(steps).Select(Path.GetFileName).Order());

        // A new run in the folder replaces the kept checkpoints and the average with the rest.
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", run, .. Small, "--max-steps", "1", "--force"]));
        Assert.False(Directory.Exists(steps));
        Assert.False(Directory.Exists(Path.Combine(run, Training.AverageDir)));
    }

    [Fact]
    public void Average_without_kept_checkpoints_says_how_to_keep_them()
    {
        using var temp = new TempFolder();
        Assert.Equal(0, RunCli(out _, ["train", "--data", Tiny, "--out", temp.Path, .. Small, "--max-steps", "2"]));
        Assert.Equal(Commands.UsageError, RunCli(out var log, "average", "--run", temp.Path));
        Assert.Contains($"error: {temp.Path} has no kept checkpoints in {Path.Combine(temp.Path, Training.StepsDir)}: train (or resume) it with --keep-checkpoints", log);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, Training.AverageDir)));
        Assert.Equal(Commands.UsageError, RunCli(out log, "evaluate", "--run", temp.Path, "--checkpoint", "average"));
        Assert.Contains("no checkpoint 'average'", log);
    }
}
