using SketchService.Inference.Strokes;

namespace SketchService.Trainer.Tests;

/// <summary>Resume, stop on request (what Ctrl-C calls) and stop on NaN, on the tiny real fixture.</summary>
public class TrainingControlTests
{
    private static string Tiny => SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz"); // skips each test without the data
    private static readonly HParams Small = new() { EncoderSize = 16, DecoderSize = 16, LatentSize = 4, BatchSize = 20 };

    [Fact]
    public void Resume_continues_from_the_saved_step()
    {
        var run = Directory.CreateTempSubdirectory("resume-").FullName;
        try
        {
            var o = new TrainOptions { Data = [Tiny], Out = run, HParams = Small, MaxSteps = 10, ValidEvery = 5 };
            Assert.Equal(0, new Training(o, TextWriter.Null).Run());
            var log = new StringWriter();
            Assert.Equal(0, new Training(o with { MaxSteps = 20, Resume = true }, log).Run());
            Assert.Contains("resumed at step 10", log.ToString());
            Assert.Equal(20, RunState.Read(Path.Combine(run, Training.LatestDir)).Step);
            var steps = File.ReadAllLines(Path.Combine(run, Training.LogFile)).Skip(1).Select(l => int.Parse(l.Split(',')[0]));
            Assert.Equal(Enumerable.Range(1, 20), steps);
        }
        finally { Directory.Delete(run, true); }
    }

    [Fact]
    public async Task A_stop_request_saves_a_checkpoint_before_returning()
    {
        var run = Directory.CreateTempSubdirectory("stop-").FullName;
        try
        {
            var training = new Training(new TrainOptions { Data = [Tiny], Out = run, HParams = Small, MaxSteps = 1_000_000, ValidEvery = 1_000_000 }, TextWriter.Null);
            var ct = TestContext.Current.CancellationToken;
            var task = Task.Run(training.Run, ct);
            var csv = Path.Combine(run, Training.LogFile);
            // Until a few steps are logged, or the run ended early (a failure: awaiting it below rethrows, rather than waiting forever).
            while (!task.IsCompleted && (!File.Exists(csv) || File.ReadAllLines(csv).Length < 4)) await Task.Delay(20, ct);
            training.RequestStop();
            Assert.Equal(0, await task.WaitAsync(TimeSpan.FromMinutes(1), ct));
            var state = RunState.Read(Path.Combine(run, Training.LatestDir));
            Assert.Equal(File.ReadAllLines(csv).Length - 1, state.Step);
            Assert.True(File.Exists(Path.Combine(run, Training.BestDir, RunState.Weights)));
        }
        finally { Directory.Delete(run, true); }
    }

    [Fact]
    public void A_NaN_stops_the_run_with_a_message_and_keeps_the_last_good_checkpoint()
    {
        var run = Directory.CreateTempSubdirectory("nan-").FullName;
        try
        {
            var o = new TrainOptions { Data = [Tiny], Out = run, HParams = Small, MaxSteps = 4, ValidEvery = 4 };
            Assert.Equal(0, new Training(o, TextWriter.Null).Run());
            var good = File.ReadAllBytes(Path.Combine(run, Training.LatestDir, RunState.Weights));
            // An absurd learning rate without clipping blows the weights up within a few steps.
            var blowUp = Small with { LearningRate = 1e9, MinLearningRate = 1e9, GradClip = 1e30 };
            var log = new StringWriter();
            Assert.Equal(2, new Training(o with { HParams = blowUp, MaxSteps = 100, Resume = false, Out = run }, log).Run());
            Assert.Contains("stopping without saving", log.ToString());
            Assert.Contains("(step 4)", log.ToString());
            Assert.Equal(good, File.ReadAllBytes(Path.Combine(run, Training.LatestDir, RunState.Weights)));
        }
        finally { Directory.Delete(run, true); }
    }
}
