
namespace SketchService.Trainer.Tests;

/// <summary>Resume, stop on request (what Ctrl-C calls) and stop on NaN, on the tiny real fixture.</summary>
public class TrainingControlTests
{
    private static string Tiny => SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz"); // skips each test without the data
    private static readonly HParams Small = new() { EncoderSize = 16, DecoderSize = 16, LatentSize = 4, BatchSize = 20 };

    [Fact]
    public void Resume_continues_from_the_saved_step()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        var o = new TrainOptions { Data = [Tiny], Out = run, HParams = Small, MaxSteps = 10, ValidEvery = 5 };
        Assert.Equal(TrainingEnd.MaxSteps, new Training(o).Run(TextWriter.Null));
        var log = new StringWriter();
        Assert.Equal(TrainingEnd.MaxSteps, new Training(o with { MaxSteps = 20, Resume = true }).Run(log));
        Assert.Contains("resumed at step 10", log.ToString());
        Assert.Equal(20, RunState.Read(Path.Combine(run, Training.LatestDir)).Step);
        var steps = File.ReadAllLines(Path.Combine(run, Training.LogFile)).Skip(1).Select(l => int.Parse(l.Split(',')[0]));
        Assert.Equal(Enumerable.Range(1, 20), steps);
    }

    [Fact]
    public async Task A_stop_request_saves_a_checkpoint_before_returning()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        var training = new Training(new TrainOptions { Data = [Tiny], Out = run, HParams = Small, MaxSteps = 1_000_000, ValidEvery = 1_000_000 });
        var ct = TestContext.Current.CancellationToken;
        var task = Task.Run(() => training.Run(TextWriter.Null), ct);
        var csv = Path.Combine(run, Training.LogFile);
        // Until a few steps are logged, or the run ended early (a failure: awaiting it below rethrows, rather than waiting forever).
        while (!task.IsCompleted && (!File.Exists(csv) || File.ReadAllLines(csv).Length < 4)) await Task.Delay(20, ct);
        training.RequestStop();
        Assert.Equal(TrainingEnd.Interrupted, await task.WaitAsync(TimeSpan.FromMinutes(1), ct));
        var state = RunState.Read(Path.Combine(run, Training.LatestDir));
        var rows = File.ReadAllLines(csv);
        Assert.Equal(rows.Length - 1, state.Step);
        Assert.True(File.Exists(Path.Combine(run, Training.BestDir, RunState.Weights)));
        Assert.All(rows[^1].Split(',')[6..], v => Assert.NotEqual("", v)); // the final validation is in the log
    }

    [Fact]
    public void A_time_budget_ends_with_a_validation_and_fills_the_bar_by_time()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        var display = new RecordingDisplay();
        var o = new TrainOptions { Data = [Tiny], Out = run, HParams = Small, MaxSteps = 1_000_000_000, ValidEvery = 1_000_000, TimeBudget = TimeSpan.FromSeconds(2) };
        Assert.Equal(TrainingEnd.TimeBudget, new Training(o).Run(display));
        Assert.StartsWith("time budget used up; saved at step ", display.Lines[^1]);
        Assert.True(display.Done[^1] >= 0.9, $"the bar ended at {display.Done[^1]:P0}"); // by steps it would be ~0 %
        Assert.True(display.Done.Zip(display.Done.Skip(1)).All(p => p.First <= p.Second));
        var last = File.ReadLines(Path.Combine(run, Training.LogFile)).Last().Split(',');
        Assert.Equal(RunState.Read(Path.Combine(run, Training.LatestDir)).Step, long.Parse(last[0]));
        Assert.NotEqual("", last[6]); // the final validation is in the log
    }

    private sealed class RecordingDisplay : ITrainingDisplay
    {
        public List<string> Lines { get; } = [];
        public List<double> Done { get; } = [];
        public void Line(string text) => Lines.Add(text);
        public void Progress(long step, double done, string status) => Done.Add(done);
    }

    [Fact]
    public void A_NaN_stops_the_run_with_a_message_and_keeps_the_last_good_checkpoint()
    {
        using var temp = new TempFolder();
        var run = temp.Path;
        // An absurd learning rate without clipping blows the weights up within a few steps; a checkpoint after every step.
        var blowUp = Small with { LearningRate = 1e9, MinLearningRate = 1e9, GradClip = 1e30 };
        var log = new StringWriter();
        Assert.Equal(TrainingEnd.NotFinite, new Training(new TrainOptions { Data = [Tiny], Out = run, HParams = blowUp, MaxSteps = 100, ValidEvery = 1 }).Run(log));
        var saved = RunState.Read(Path.Combine(run, Training.LatestDir)).Step;
        Assert.Contains($"at step {saved + 1} ", log.ToString());
        Assert.Contains("stopping without saving", log.ToString());
        Assert.Contains($"(step {saved})", log.ToString());
        Assert.Equal(saved, File.ReadAllLines(Path.Combine(run, Training.LogFile)).Length - 1);
    }
}
