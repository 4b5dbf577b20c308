using Microsoft.Extensions.Logging.Abstractions;
using SketchService.Core.Strokes;
using SketchService.Export;
using SketchService.Runtime;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Libraries.Tests.Runtime;

/// <summary>
/// Continuous batching on real models (the committed models/sheep VAE, H = 256, and Google's bird, H = 512):
/// a run's sketches are the same bit for bit alone or among others that join, leave and are cancelled around it.
/// </summary>
public sealed class BatchingTests : IClassFixture<BatchingTests.RealModels>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly RealModels models;

    public BatchingTests(RealModels models) => this.models = models;

    public sealed class RealModels : IDisposable
    {
        private readonly TempFolder folder = new();
        public SketchModel Sheep { get; }
        private SketchModel? bird;

        /// <summary>Google's bird, imported at first use: a test that asks for it is skipped when the shared data lacks it.</summary>
        public SketchModel Bird => bird ??= ImportBird();
        public SketchModel Tiny { get; }

        public RealModels()
        {
            Sheep = SketchModel.Load(Path.Combine(SharedData.RepoRoot, "models", "sheep"));
            // Never ends (pen end logit far below the others, never pushed for): a run lasts exactly its max_steps.
            var tiny = Path.Combine(folder.Path, "tiny");
            TestModels.Write(tiny, TestModels.ConstantOutput(TestModels.ThreeComponents(down: 5, up: 0, end: -20)), maxSeqLen: TestModels.NeverPushedToEnd);
            Tiny = SketchModel.Load(tiny);
        }

        private SketchModel ImportBird()
        {
            var target = Path.Combine(folder.Path, "bird");
            MagentaModel.Import(SharedData.Path("models", "magenta", "bird.gen.json"), target, "magenta:bird");
            return SketchModel.Load(target);
        }

        public void Dispose()
        {
            Sheep.Dispose();
            bird?.Dispose();
            Tiny.Dispose();
            folder.Dispose();
        }
    }

    /// <summary>Generous limits, but those a test names.</summary>
    internal sealed record Limits(int MaxLiveRows = 128, int MaxQueuedRequests = 64, int MaxEncodeBatch = 32, int MaxEncodeRunPoints = 4096,
        int MaxRequestsPerCaller = int.MaxValue, int MaxRowsPerCaller = int.MaxValue, int MaxRowsPerCallerWhenCrowded = int.MaxValue);

    internal static ModelScheduler Scheduler(SketchModel model, Limits? limits = null)
    {
        limits ??= new();
        return new(model, new SchedulerOptions
        {
            MaxLiveRows = limits.MaxLiveRows, MaxQueuedRequests = limits.MaxQueuedRequests, MaxRequestCost = long.MaxValue,
            MaxEncodeBatch = limits.MaxEncodeBatch, MaxEncodeRunPoints = limits.MaxEncodeRunPoints,
            MaxRequestsPerCaller = limits.MaxRequestsPerCaller, MaxRowsPerCaller = limits.MaxRowsPerCaller,
            MaxRowsPerCallerWhenCrowded = limits.MaxRowsPerCallerWhenCrowded,
        }, new SchedulerMetrics(), NullLogger.Instance);
    }

    private static DecodeOptions RandomOptions(SketchModel model, Random rng, int? seed = null)
    {
        int samples = rng.Next(1, 4);
        StrokePoint[] prefix = [.. Enumerable.Range(0, rng.Next(0, 12)).Select(_ => new StrokePoint((float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1, rng.Next(4) == 0))];
        float[][]? z = model.Manifest.IsVae
            ? [.. Enumerable.Range(0, rng.Next(2) == 0 ? 1 : samples).Select(_ => Enumerable.Range(0, model.Manifest.LatentSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())]
            : null;
        return new DecodeOptions
        {
            Samples = samples, Temperature = (float)(rng.NextDouble() * 0.9 + 0.05), MaxSteps = rng.Next(5, 120),
            Seed = seed ?? rng.Next(), Z = z, Prefix = prefix,
        };
    }

    private static void AssertSame(IReadOnlyList<DecodedSketch> expected, IReadOnlyList<DecodedSketch> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int s = 0; s < expected.Count; s++)
        {
            Assert.Equal(expected[s].Points, actual[s].Points); // exact floats: StrokePoint is a record struct
            Assert.Equal(expected[s].Steps, actual[s].Steps);
            Assert.Equal(expected[s].Ended, actual[s].Ended);
        }
    }

    [Theory]
    [InlineData("sheep")]
    [InlineData("bird")]
    public async Task A_run_draws_the_same_sketches_whatever_shares_the_batch(string name)
    {
        var model = name == "sheep" ? models.Sheep : models.Bird;
        var rng = new Random(name.Length);
        var targets = Enumerable.Range(0, 4).Select(i => RandomOptions(model, rng, seed: 1000 + i)).ToArray();
        var alone = targets.Select(o => SketchDecoder.Decode(model, o, Ct)).ToArray();

        using var batcher = Scheduler(model, new() { MaxLiveRows = 48, MaxQueuedRequests = 1000 });
        var others = new List<(DecodeRun Run, CancellationTokenSource Stop)>();
        var runs = new List<DecodeRun>();
        for (int i = 0; i < targets.Length; i++)
        {
            // Others join before and after each target, some are cancelled mid-run: the target's rows move around.
            for (int k = 0; k < 6; k++)
            {
                var stop = new CancellationTokenSource();
                others.Add((batcher.Draw(RandomOptions(model, rng), Deadline.None, cancellationToken: stop.Token), stop));
            }
            runs.Add(batcher.Draw(targets[i], Deadline.None, stream: i % 2 == 0, Ct));
            await Task.Delay(rng.Next(0, 5), Ct);
            foreach (var (_, stop) in others.Where(_ => rng.Next(4) == 0)) stop.Cancel();
        }
        for (int i = 0; i < targets.Length; i++) AssertSame(alone[i], (await runs[i].Result).Sketches);
        foreach (var (run, stop) in others)
        {
            try { await run.Result; } catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            stop.Dispose();
        }
        Assert.Equal(0, batcher.LiveRows);
    }

    [Fact]
    public async Task Rows_join_and_leave_between_steps()
    {
        var model = models.Sheep;
        var zero = new float[model.Manifest.LatentSize];
        var a = new DecodeOptions { Samples = 2, Temperature = 0.4f, MaxSteps = 40, Seed = 1, Z = [zero, zero] };
        var b = new DecodeOptions { Samples = 3, Temperature = 0.6f, MaxSteps = 250, Seed = 2, Z = [zero], Prefix = [new(0.5f, 0.2f, false), new(-1, 0.3f, true)] };
        var (aAlone, bAlone) = (SketchDecoder.Decode(model, a, Ct), SketchDecoder.Decode(model, b, Ct));

        using var batch = new DecodeBatch(model, capacity: 5);
        var runA = new DecodeRun(model, a);
        batch.Add(runA);
        for (int i = 0; i < 10; i++) batch.Step();
        Assert.Equal(2, batch.Rows);
        var runB = new DecodeRun(model, b);
        batch.Add(runB); // joins mid-run of A
        Assert.Equal(5, batch.Rows);
        Assert.Throws<InvalidOperationException>(() => batch.Add(new DecodeRun(model, a))); // full

        int peak = 5;
        while (batch.Rows > 0)
        {
            batch.Step();
            Assert.True(batch.Rows <= peak, "rows only leave");
            peak = batch.Rows;
            if (runA.IsCompleted && !runB.IsCompleted) Assert.InRange(batch.Rows, 1, 3); // A's rows left at once
        }
        AssertSame(aAlone, (await runA.Result).Sketches);
        AssertSame(bAlone, (await runB.Result).Sketches);
    }

    [Fact]
    public async Task A_cancelled_run_leaves_at_the_next_tick()
    {
        using var batch = new DecodeBatch(models.Tiny, capacity: 4);
        using var stop = new CancellationTokenSource();
        var cancelled = new DecodeRun(models.Tiny, new DecodeOptions { Temperature = 0.5f, Samples = 2, MaxSteps = 1000 }, cancellationToken: stop.Token);
        var kept = new DecodeRun(models.Tiny, new DecodeOptions { Temperature = 0.5f, Samples = 1, MaxSteps = 1000, Seed = 4 });
        batch.Add(cancelled);
        batch.Add(kept);
        batch.Step();
        stop.Cancel();
        var removed = Assert.Single(batch.RemoveStopped());
        Assert.Same(cancelled, removed.Run);
        Assert.IsType<OperationCanceledException>(removed.Error);
        Assert.Equal(1, batch.Rows);
        await Assert.ThrowsAsync<OperationCanceledException>(() => cancelled.Result);
        while (batch.Rows > 0) batch.Step();
        AssertSame(SketchDecoder.Decode(models.Tiny, kept.Options, Ct), (await kept.Result).Sketches);
    }

    [Fact]
    public async Task A_run_past_its_deadline_is_stopped()
    {
        using var batcher = Scheduler(models.Tiny);
        var run = batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 }, Deadline.After(TimeSpan.FromMilliseconds(100)), cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<DeadlineExceededException>(() => run.Result);
        Assert.Equal(TimeSpan.FromMilliseconds(100), error.Deadline);
        Assert.Equal(0, batcher.LiveRows);
    }

    [Fact]
    public async Task A_full_model_refuses_at_once_and_admits_waiting_runs_as_rows_free()
    {
        using var batcher = Scheduler(models.Tiny, new() { MaxLiveRows = 2, MaxQueuedRequests = 1 });
        using var stop = new CancellationTokenSource();
        var running = batcher.Draw(new DecodeOptions { Temperature = 0.5f, Samples = 2, MaxSteps = 1_000_000 }, Deadline.None, cancellationToken: stop.Token);
        while (batcher.LiveRows < 2) await Task.Delay(1, Ct);
        var waiting = batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 10, Seed = 7 }, Deadline.None, cancellationToken: Ct);
        Assert.Equal(1, batcher.QueuedRequests);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var refused = Assert.Throws<AdmissionRejectedException>(() => batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 10 }, Deadline.None, cancellationToken: Ct));
        Assert.True(clock.ElapsedMilliseconds < 50, $"refusal took {clock.ElapsedMilliseconds} ms");
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Throws<ArgumentOutOfRangeException>(() => batcher.Draw(new DecodeOptions { Temperature = 0.5f, Samples = 3 }, Deadline.None, cancellationToken: Ct)); // can never fit

        Assert.False(waiting.Result.IsCompleted);
        stop.Cancel();
        AssertSame(SketchDecoder.Decode(models.Tiny, waiting.Options, Ct), (await waiting.Result).Sketches);
        await Assert.ThrowsAsync<OperationCanceledException>(() => running.Result);
    }

    [Fact]
    public async Task Concurrent_encodes_share_runs_and_match_encoding_alone()
    {
        var rng = new Random(9);
        var sketches = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, rng.Next(1, 200))
            .Select(_ => new StrokePoint((float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble() * 2 - 1, rng.Next(6) == 0)).ToArray()).ToArray();
        var alone = sketches.Select(s => models.Sheep.Encode([s])[0]).ToArray();

        using var encoder = Scheduler(models.Sheep, new() { MaxEncodeRunPoints = 1000 });
        var codes = await Task.WhenAll(sketches.Select(s => encoder.EncodeAsync([s], Deadline.None, Ct)));
        for (int i = 0; i < sketches.Length; i++)
        {
            Assert.Equal(alone[i].Mu, codes[i][0].Mu);
            Assert.Equal(alone[i].Sigma, codes[i][0].Sigma);
        }
        Assert.InRange(encoder.EncoderRuns, 1, sketches.Length);
    }

    [Fact]
    public async Task A_draining_batcher_refuses_new_runs_and_stop_all_ends_the_running_ones()
    {
        using var batcher = Scheduler(models.Tiny, new() { MaxLiveRows = 1, MaxQueuedRequests = 5 });
        var running = batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 }, Deadline.None, cancellationToken: Ct);
        var waiting = batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5 }, Deadline.None, cancellationToken: Ct);
        while (batcher.LiveRows == 0) await Task.Delay(1, Ct);

        batcher.Refuse(new ServiceDrainingException("draining"));
        Assert.Throws<ServiceDrainingException>(() => batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5 }, Deadline.None, cancellationToken: Ct));
        Assert.False(running.IsCompleted); // what was taken goes on

        batcher.StopAll(new ServiceDrainingException("stopped"));
        Assert.Equal("stopped", (await Assert.ThrowsAsync<ServiceDrainingException>(() => running.Result)).Message);
        await Assert.ThrowsAsync<ServiceDrainingException>(() => waiting.Result);
        Assert.Equal(0, batcher.LiveRows);
        Assert.Equal(0, batcher.QueuedRequests);
    }

    [Fact]
    public async Task A_cancelled_run_leaves_the_queue_even_behind_a_run_that_waits_for_rows()
    {
        using var batcher = Scheduler(models.Tiny, new() { MaxLiveRows = 2, MaxQueuedRequests = 2 });
        using var stopRunning = new CancellationTokenSource();
        batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 }, Deadline.None, cancellationToken: stopRunning.Token); // takes one of two rows
        while (batcher.LiveRows == 0) await Task.Delay(1, Ct);
        var head = batcher.Draw(new DecodeOptions { Temperature = 0.5f, Samples = 2, MaxSteps = 5 }, Deadline.None, cancellationToken: Ct); // needs both rows: waits
        using var leave = new CancellationTokenSource();
        var behind = batcher.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5 }, Deadline.None, cancellationToken: leave.Token);
        Assert.Equal(2, batcher.QueuedRequests);

        leave.Cancel();
        await Assert.ThrowsAsync<OperationCanceledException>(() => behind.Result);
        Assert.Equal(1, batcher.QueuedRequests); // its place is free again while the head still waits
        stopRunning.Cancel();
        Assert.Equal(2, (await head.Result).Sketches.Count);
    }
}
