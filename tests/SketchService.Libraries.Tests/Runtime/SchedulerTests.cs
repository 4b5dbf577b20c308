using SketchService.Core.Strokes;
using SketchService.Runtime;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Scheduling;
using static SketchService.Libraries.Tests.Runtime.BatchingTests;

namespace SketchService.Libraries.Tests.Runtime;

/// <summary>The scheduler's rules beyond batching: one cost check, one queue bound, encoder runs that no request can hold.</summary>
public sealed class SchedulerTests(RealModels models) : IClassFixture<RealModels>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StrokePoint[] Scribble(int points, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, points).Select(i => new StrokePoint((float)rng.NextDouble() - 0.5f, (float)rng.NextDouble() - 0.5f, i % 20 == 19))];
    }

    [Fact]
    public async Task A_flood_of_encodings_does_not_hold_up_a_draw_that_needs_no_encoding()
    {
        using var scheduler = Scheduler(models.Sheep, new() { MaxQueuedRequests = 100, MaxEncodeRunPoints = 2000 });
        var flood = Enumerable.Range(0, 40).Select(i => scheduler.EncodeAsync([Scribble(2000, i)], Deadline.None, Ct)).ToArray();
        var zero = new float[models.Sheep.Manifest.LatentSize];
        var draw = scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 20, Seed = 1, Z = [zero] }, Deadline.None, cancellationToken: Ct);
        await draw.Result;
        // The draw went by the decoder lane while the encoder lane still had the flood before it.
        Assert.Contains(flood, t => !t.IsCompleted);
        await Task.WhenAll(flood);
    }

    [Fact]
    public async Task A_short_encoding_rides_with_the_next_run_instead_of_waiting_behind_long_ones()
    {
        using var scheduler = Scheduler(models.Sheep, new() { MaxQueuedRequests = 100, MaxEncodeRunPoints = 4096 });
        var flood = Enumerable.Range(0, 30).Select(i => scheduler.EncodeAsync([Scribble(2000, i)], Deadline.None, Ct)).ToArray();
        var prefix = Scribble(4, 99);
        var draw = scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5, Seed = 1, Prefix = prefix, ZFromPrefix = true }, Deadline.None, cancellationToken: Ct);
        await draw.Result;
        Assert.True(flood.Count(t => !t.IsCompleted) >= 20, $"{flood.Count(t => t.IsCompleted)} of 30 long encodings went first");
        await Task.WhenAll(flood);
    }

    [Fact]
    public async Task Encoder_runs_stay_within_their_padded_points_and_give_what_encoding_alone_gives()
    {
        using var scheduler = Scheduler(models.Sheep, new() { MaxEncodeRunPoints = 600, MaxEncodeBatch = 8 });
        StrokePoint[][] sketches = [.. Enumerable.Range(0, 6).Select(i => Scribble(250, 10 + i))];
        var codes = await scheduler.EncodeAsync(sketches, Deadline.None, Ct); // one request, split over runs of ≤ 2 sketches
        Assert.Equal(3, scheduler.EncoderRuns);
        for (var i = 0; i < sketches.Length; i++) Assert.Equal(models.Sheep.Encode([sketches[i]])[0].Mu, codes[i].Mu);
    }

    [Fact]
    public async Task A_draw_whose_z_is_its_prefix_encoding_matches_decoding_from_that_encoding()
    {
        using var scheduler = Scheduler(models.Sheep);
        var prefix = Scribble(30, 3);
        var options = new DecodeOptions { Temperature = 0.3f, MaxSteps = 60, Seed = 9, Prefix = prefix, ZFromPrefix = true };
        var result = await scheduler.Draw(options, Deadline.None, cancellationToken: Ct).Result;
        var mu = models.Sheep.Encode([prefix], [true])[0].Mu;
        var alone = SketchDecoder.Decode(models.Sheep, options with { ZFromPrefix = false, Z = [mu] }, Ct);
        Assert.Equal(alone.Select(s => s.Points), result.Sketches.Select(s => s.Points));
        Assert.Equal(mu, result.Z![0]);
    }

    [Fact]
    public async Task A_prefix_to_complete_is_encoded_as_the_start_of_a_drawing_and_a_sketch_to_encode_as_whole()
    {
        var plain = TestWeights.Random(3, vae: true);
        var shift = TestWeights.Values(new Random(4), 2 * plain.LatentSize, scale: 2);
        using var loaded = TestModels.Load(plain with { Encoder = plain.Encoder! with { Partial = shift } });
        var model = loaded.Model;
        Assert.True(model.ReadsPartial);
        var prefix = Scribble(12, 5);
        var (whole, start) = (model.Encode([prefix, prefix], [false, true])[0], model.Encode([prefix, prefix], [false, true])[1]);
        for (var i = 0; i < plain.LatentSize; i++) Assert.Equal(whole.Mu[i] + shift[i], start.Mu[i], 4);

        using var scheduler = Scheduler(model);
        var completed = await scheduler.Draw(new DecodeOptions { Temperature = 0.3f, MaxSteps = 5, Seed = 1, Prefix = prefix, ZFromPrefix = true }, Deadline.None, cancellationToken: Ct).Result;
        Assert.Equal(start.Mu, completed.Z![0]);
        Assert.Equal(whole.Mu, (await scheduler.EncodeAsync([prefix], Deadline.None, Ct))[0].Mu);
        var alone = new DecodeOptions { Temperature = 0.3f, MaxSteps = 5, Seed = 1, Prefix = prefix, ZFromPrefix = true };
        Assert.Equal(SketchDecoder.Decode(model, alone with { ZFromPrefix = false, Z = [start.Mu] }, Ct)[0].Points, SketchDecoder.Decode(model, alone, Ct)[0].Points);

        // A model without the flag encodes every sketch one way, whatever it is told.
        using var without = TestModels.Load(plain);
        Assert.False(without.Model.ReadsPartial);
        Assert.Equal(without.Model.Encode([prefix])[0].Mu, without.Model.Encode([prefix], [true])[0].Mu);
    }

    [Fact]
    public void The_mixture_log_likelihood_is_the_pen_softmax_plus_the_bivariate_normal_density()
    {
        // One component (M = 1): pen logits, π logit, μx, μy, log σx, log σy, atanh ρ.
        float rho = 0.5f;
        float[] row = [1f, 0f, -1f, 0.3f, 0.2f, -0.1f, MathF.Log(0.5f), MathF.Log(2f), MathF.Atanh(rho)];
        var penLog = 0 - Math.Log(Math.Exp(1) + Math.Exp(0) + Math.Exp(-1)); // pen up
        double zx = (0.7 - 0.2) / 0.5, zy = (-0.4 + 0.1) / 2;
        var density = -(zx * zx + zy * zy - 2 * rho * zx * zy) / (2 * (1 - rho * rho)) - Math.Log(2 * Math.PI * 0.5 * 2 * Math.Sqrt(1 - rho * rho));
        Assert.Equal(penLog + density, MixtureSampler.LogLikelihood(row, 0.7f, -0.4f, PenState.Up), 5);
        Assert.Equal(-1 - Math.Log(Math.Exp(1) + Math.Exp(0) + Math.Exp(-1)), MixtureSampler.LogLikelihood(row, 9f, 9f, PenState.End), 5);
    }

    [Fact]
    public async Task A_draw_whose_z_is_chosen_among_candidates_takes_the_one_that_makes_its_prefix_most_likely()
    {
        var sheep = models.Sheep;
        var candidates = LatentSelection.Draw(sheep, seed: 4);
        Assert.Equal(LatentSelection.Candidates, candidates.Length);
        // A drawing decoded from one candidate is, of all of them, most likely under that one.
        var drawn = SketchDecoder.Decode(sheep, new DecodeOptions { Temperature = 0.1f, MaxSteps = 40, Seed = 2, Z = [candidates[11]] }, Ct)[0].Points;
        Assert.Equal(11, LatentSelection.MostLikely(sheep, drawn, candidates));

        // Through the scheduler's encoder lane, as alone: the same z and the same completion.
        using var scheduler = Scheduler(sheep);
        var prefix = drawn[..25];
        var options = new DecodeOptions { Temperature = 0.3f, MaxSteps = 30, Seed = 5, Prefix = prefix, ZCandidates = candidates };
        var result = await scheduler.Draw(options, Deadline.None, cancellationToken: Ct).Result;
        var chosen = candidates[LatentSelection.MostLikely(sheep, prefix, candidates)!.Value];
        Assert.Equal(chosen, result.Z![0]);
        Assert.Equal(SketchDecoder.Decode(sheep, options with { ZCandidates = null, Z = [chosen] }, Ct)[0].Points, result.Sketches[0].Points);
        Assert.Equal(SketchDecoder.Decode(sheep, options, Ct)[0].Points, result.Sketches[0].Points);
        Assert.Throws<ArgumentException>(() => scheduler.Draw(options with { Prefix = null }, Deadline.None, cancellationToken: Ct));
        // Stopped between steps (the client went): no choice.
        Assert.Null(LatentSelection.MostLikely(sheep, prefix, candidates, stopped: () => true));
    }

    [Fact]
    public async Task Prefixes_scored_together_choose_as_each_would_alone()
    {
        var sheep = models.Sheep;
        var choices = Enumerable.Range(0, 4).Select(i =>
        {
            var candidates = LatentSelection.Draw(sheep, seed: 20 + i);
            var drawn = SketchDecoder.Decode(sheep, new DecodeOptions { Temperature = 0.1f, MaxSteps = 60, Seed = i, Z = [candidates[3 * i]] }, Ct)[0].Points;
            return new LatentSelection.Choice(drawn[..Math.Min(drawn.Length, 6 + 9 * i)], candidates); // of unlike lengths
        }).ToArray();
        var alone = choices.Select(c => LatentSelection.MostLikely(sheep, c.Prefix, c.Candidates)).ToArray();
        Assert.Equal(alone, LatentSelection.MostLikely(sheep, choices));
        // One stopped between steps: it alone has no choice.
        Assert.Equal([alone[0], alone[1], null, alone[3]], LatentSelection.MostLikely(sheep, choices, g => g == 2));
        // On one kept state (as the encoder lane keeps one), run after run of other row counts, as on a fresh state.
        using (var kept = sheep.CreateDecoder(64, [.. choices.SelectMany(c => c.Candidates)]))
        {
            Assert.Equal(alone, LatentSelection.MostLikely(kept, choices));
            Assert.Equal([alone[2]], LatentSelection.MostLikely(kept, [choices[2]]));
            Assert.Equal(alone, LatentSelection.MostLikely(kept, choices));
        }

        // Through the scheduler, queued while the encoder lane is busy, each gets the z it would get alone.
        async Task ChooseAsAlone(ModelScheduler scheduler)
        {
            var draws = await WhileTheEncoderIsBusy(scheduler, () => [.. choices.Select((c, i) => scheduler.Draw(
                new DecodeOptions { Temperature = 0.3f, MaxSteps = 10, Seed = i, Prefix = [.. c.Prefix], ZCandidates = c.Candidates }, Deadline.None, cancellationToken: Ct))]);
            for (var i = 0; i < choices.Length; i++) Assert.Equal(choices[i].Candidates[alone[i]!.Value], (await draws[i].Result).Z![0]);
        }
        // One slice scores them all together: their 64 rows fit the 128 live rows.
        using var wide = Scheduler(sheep, new() { MaxQueuedRequests = 100, MaxLiveRows = 128, MaxEncodeRunPoints = 2000 });
        await ChooseAsAlone(wide);
        Assert.Equal(1, wide.ScoringRuns);
        // With 32 live rows a slice takes two of them: two scorings.
        using var narrow = Scheduler(sheep, new() { MaxQueuedRequests = 100, MaxLiveRows = 32, MaxEncodeRunPoints = 2000 });
        await ChooseAsAlone(narrow);
        Assert.Equal(2, narrow.ScoringRuns);
        Assert.Empty(LatentSelection.MostLikely(sheep, []));
    }

    /// <summary>
    /// Submits <paramref name="submit"/>'s draws behind three long encodings, each a run of its own: the draws wait
    /// until the first of them is the oldest, and the others ride with it in one slice.
    /// </summary>
    private async Task<DecodeRun[]> WhileTheEncoderIsBusy(ModelScheduler scheduler, Func<DecodeRun[]> submit)
    {
        var ahead = Enumerable.Range(0, 3).Select(i => scheduler.EncodeAsync([Scribble(2000, i)], Deadline.None, Ct)).ToArray();
        var submitted = submit();
        await Task.WhenAll(ahead);
        return submitted;
    }

    [Fact]
    public async Task Encodings_past_their_deadline_or_cancelled_leave_the_queue()
    {
        using var scheduler = Scheduler(models.Sheep, new() { MaxQueuedRequests = 100, MaxEncodeRunPoints = 2000 });
        var ahead = Enumerable.Range(0, 10).Select(i => scheduler.EncodeAsync([Scribble(2000, i)], Deadline.None, Ct)).ToArray();
        using var leave = new CancellationTokenSource();
        var cancelled = scheduler.EncodeAsync([Scribble(2000, 50)], Deadline.None, leave.Token);
        var late = scheduler.EncodeAsync([Scribble(2000, 51)], Deadline.After(TimeSpan.FromMilliseconds(1)), Ct);
        var drawLate = scheduler.Draw(new DecodeOptions { Temperature = 0.5f, Prefix = Scribble(100, 52), ZFromPrefix = true },
            Deadline.After(TimeSpan.FromMilliseconds(1)), cancellationToken: Ct);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await Assert.ThrowsAsync<DeadlineExceededException>(() => late);
        await Assert.ThrowsAsync<DeadlineExceededException>(() => drawLate.Result);
        await Task.WhenAll(ahead);
        Assert.Equal(0, scheduler.QueuedRequests);
        Assert.Equal(0, scheduler.LiveRows);
    }

    [Fact]
    public async Task Encodings_count_against_the_one_queue_bound()
    {
        using var scheduler = Scheduler(models.Sheep, new() { MaxQueuedRequests = 2, MaxEncodeRunPoints = 2000 });
        var taken = scheduler.EncodeAsync([Scribble(2000, 1)], Deadline.None, Ct); // the encoder lane takes it at once
        while (scheduler.QueuedRequests > 0) await Task.Delay(1, Ct);
        var waiting = new[] { scheduler.EncodeAsync([Scribble(2000, 2)], Deadline.None, Ct), scheduler.EncodeAsync([Scribble(2000, 3)], Deadline.None, Ct) };
        var zero = new float[models.Sheep.Manifest.LatentSize];
        // Rows are free, but a draw that first needs its encoding waits in the same queue, which is full.
        if (scheduler.QueuedRequests == 2)
            Assert.Throws<AdmissionRejectedException>(() => scheduler.Draw(new DecodeOptions { Temperature = 0.5f, Prefix = Scribble(10, 4), ZFromPrefix = true }, Deadline.None, cancellationToken: Ct));
        // A draw with its z given can start at once: refusing it would gain nothing.
        await scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5, Z = [zero] }, Deadline.None, cancellationToken: Ct).Result;
        await Task.WhenAll([taken, .. waiting]);
    }

    /// <summary>A VAE that never ends by itself (pen end logit far below the others, never pushed for).</summary>
    private static TestModels.Loaded EndlessVae() =>
        TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 5, up: 0, end: -20), vae: true), maxSeqLen: TestModels.NeverPushedToEnd);

    [Fact]
    public async Task A_draw_counts_against_the_queue_bound_while_its_z_is_being_found_too()
    {
        // The encoder lane takes a draw out of its queue to encode the prefix: it must still count as waiting, or a
        // request arriving meanwhile passes a full queue.
        using var vae = EndlessVae();
        using var scheduler = Scheduler(vae.Model, new() { MaxLiveRows = 1, MaxQueuedRequests = 1, MaxEncodeRunPoints = 100_000 });
        using var stop = new CancellationTokenSource();
        var zero = new float[vae.Model.Manifest.LatentSize];
        var holder = scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000, Z = [zero] }, Deadline.None, cancellationToken: stop.Token);
        while (scheduler.LiveRows == 0) await Task.Delay(1, Ct);
        var waiting = scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5, Prefix = Scribble(20_000, 6), ZFromPrefix = true }, Deadline.None, cancellationToken: stop.Token);
        var admitted = new List<DecodeRun>();
        int polls = 0;
        // Poll through the whole encoding, until the draw's z is found and it waits for the row.
        while (scheduler.EncoderRuns == 0 && !waiting.Result.IsCompleted)
        {
            polls++;
            Assert.Equal(1, scheduler.QueuedRequests);
            try { admitted.Add(scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 1, Z = [zero] }, Deadline.None, cancellationToken: stop.Token)); }
            catch (AdmissionRejectedException) { }
        }
        Assert.Empty(admitted);
        Assert.True(polls > 0);
        Assert.Equal(1, scheduler.QueuedRequests);
        stop.Cancel();
        foreach (var run in new[] { holder, waiting }) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Result);
    }

    [Fact]
    public async Task The_pending_gauge_counts_each_draw_once_however_many_share_an_encoder_run()
    {
        using var vae = EndlessVae();
        using var pending = new Measured("sketch.inference.pending_request_count", vae.Model.Id);
        using var scheduler = Scheduler(vae.Model, new() { MaxLiveRows = 2 });
        using var stop = new CancellationTokenSource();
        var zero = new float[vae.Model.Manifest.LatentSize];
        // Two rows held; six draws from their prefixes are encoded (in one run or a few) and then wait for rows.
        var holders = Enumerable.Range(0, 2).Select(_ => scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000, Z = [zero] }, Deadline.None, cancellationToken: stop.Token)).ToList();
        while (scheduler.LiveRows < 2) await Task.Delay(1, Ct);
        var draws = Enumerable.Range(0, 6).Select(i => scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5, Prefix = Scribble(30, 20 + i), ZFromPrefix = true }, Deadline.None, cancellationToken: Ct)).ToList();
        while (draws.Any(d => d.NeedsZ)) await Task.Delay(1, Ct);
        await Task.Delay(50, Ct); // time for a gauge that drifts to show it
        Assert.Equal(6, pending.Sum);
        Assert.Equal(6, scheduler.QueuedRequests);
        stop.Cancel(); // the rows free: the six take them, two at a time
        foreach (var run in holders) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Result);
        foreach (var run in draws) Assert.Equal(5, (await run.Result).Sketches[0].Steps);
        Assert.Equal(0, pending.Sum);
    }

    [Fact]
    public async Task A_run_that_draws_a_non_finite_point_fails_alone_counted_once_as_non_finite_before_it_is_seen()
    {
        var parameters = TestModels.ThreeComponents(down: 5, up: 0, end: -20);
        parameters[6] = parameters[7] = parameters[8] = float.NaN; // μx of every component
        using var broken = TestModels.Load(TestModels.ConstantOutput(parameters), maxSeqLen: TestModels.NeverPushedToEnd);
        using var failures = new Measured("sketch.inference.request_failure", broken.Model.Id);
        using var scheduler = Scheduler(broken.Model);
        // Each failure is counted before it can be seen: three runs failed by one step were once counted after the
        // first was seen, so a failure read at once was missing from the count in some runs.
        int seen = 0;
        for (int round = 0; round < 20; round++)
        {
            var runs = Enumerable.Range(0, 3).Select(_ => scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 10 }, Deadline.None, cancellationToken: Ct)).ToList();
            foreach (var run in runs)
            {
                await Assert.ThrowsAsync<NonFiniteOutputException>(() => run.Result);
                Assert.True(failures.Sum >= ++seen, $"{failures.Sum} failures counted after {seen} were seen");
            }
        }
        Assert.Equal(60, failures.Sum);
        Assert.Equal(["non_finite"], failures.Reasons.Distinct());
        Assert.Equal(0, scheduler.LiveRows);
    }

    [Fact]
    public async Task A_drain_counts_every_running_and_waiting_draw_it_ends_as_shutdown_before_it_is_seen()
    {
        // A model of its own, so that no other test's failures are counted: it never ends a drawing.
        using var endless = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 5, up: 0, end: -20)), maxSeqLen: TestModels.NeverPushedToEnd);
        using var failures = new Measured("sketch.inference.request_failure", endless.Model.Id);
        var scheduler = Scheduler(endless.Model, new() { MaxLiveRows = 1, MaxQueuedRequests = 5 });
        DecodeRun Endless() => scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 }, Deadline.None, cancellationToken: Ct);
        // The end of a drain: what runs and what waits fail at once.
        var running = Endless();
        var waiting = Endless();
        while (scheduler.LiveRows == 0) await Task.Delay(1, Ct);
        scheduler.StopAll(new ServiceDrainingException("stopped"));
        await Assert.ThrowsAsync<ServiceDrainingException>(() => waiting.Result);
        Assert.True(failures.Sum >= 1, "the waiting draw failed before it was counted");
        await Assert.ThrowsAsync<ServiceDrainingException>(() => running.Result);
        Assert.Equal(2, failures.Sum);

        // Disposed while a draw runs (the service stopping without a drain).
        using var another = Scheduler(endless.Model, new() { MaxLiveRows = 1 });
        var cut = another.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 }, Deadline.None, cancellationToken: Ct);
        while (another.LiveRows == 0) await Task.Delay(1, Ct);
        another.Dispose();
        await Assert.ThrowsAsync<ServiceDrainingException>(() => cut.Result);
        Assert.Equal(3, failures.Sum);
        Assert.Equal(["shutdown"], failures.Reasons.Distinct());
        Assert.Equal(0, another.LiveRows);
        scheduler.Dispose();
    }

    /// <summary>The sum of one scheduler instrument's measurements for one model, and the failure reasons seen.</summary>
    private sealed class Measured : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener listener = new();
        private long sum;

        public Measured(string instrument, string model)
        {
            listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == SchedulerMetrics.MeterName && i.Name == instrument) l.EnableMeasurementEvents(i);
            };
            listener.SetMeasurementEventCallback<int>((_, value, tags, _) => Add(value, tags, model));
            listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Add(value, tags, model));
            listener.Start();
        }

        public long Sum => Interlocked.Read(ref sum);
        public System.Collections.Concurrent.ConcurrentBag<string> Reasons { get; } = [];

        private void Add(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, string model)
        {
            string? of = null, reason = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "model") of = tag.Value as string;
                if (tag.Key == "reason") reason = tag.Value as string;
            }
            if (of != model) return;
            Interlocked.Add(ref sum, value);
            if (reason is not null) Reasons.Add(reason);
        }

        public void Dispose() => listener.Dispose();
    }

    [Fact]
    public async Task A_caller_holds_at_most_its_share_and_gets_it_back_when_its_work_is_over()
    {
        using var scheduler = Scheduler(models.Tiny, new() { MaxLiveRows = 8, MaxQueuedRequests = 8, MaxRowsPerCaller = 3, MaxRequestsPerCaller = 2 });
        using var stop = new CancellationTokenSource();
        var endless = new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 };
        var a = scheduler.Draw(endless with { Samples = 2 }, Deadline.None, cancellationToken: stop.Token, caller: "a");
        var rows = Assert.Throws<AdmissionRejectedException>(() => scheduler.Draw(endless with { Samples = 2 }, Deadline.None, cancellationToken: Ct, caller: "a"));
        Assert.Contains("2 row(s) of the 2 and 3", rows.Message);
        var a2 = scheduler.Draw(endless, Deadline.None, cancellationToken: stop.Token, caller: "a"); // a third row: still its share
        var full = Assert.Throws<AdmissionRejectedException>(() => scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 1 }, Deadline.None, cancellationToken: Ct, caller: "a"));
        Assert.Contains("2 request(s) and 3 row(s)", full.Message);
        var b = scheduler.Draw(endless with { Samples = 3 }, Deadline.None, cancellationToken: stop.Token, caller: "b"); // another caller is served
        stop.Cancel();
        foreach (var run in new[] { a, a2, b }) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Result);
        Assert.Equal(5, (await scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 5 }, Deadline.None, cancellationToken: Ct, caller: "a").Result).Sketches[0].Steps);
    }

    [Fact]
    public async Task Whoever_sees_a_result_may_ask_again_at_once_its_share_and_rows_are_already_given_back()
    {
        // A share of one request, no queue and one row: each next draw is admitted only if the last one's share and row
        // were given back before its result was seen.
        using var vae = EndlessVae();
        using var scheduler = Scheduler(vae.Model, new() { MaxLiveRows = 1, MaxQueuedRequests = 0, MaxRequestsPerCaller = 1, MaxRowsPerCaller = 1 });
        var zero = new float[vae.Model.Manifest.LatentSize];
        for (var i = 0; i < 200; i++)
        {
            var draw = await scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 1, Z = [zero] }, Deadline.None, cancellationToken: Ct, caller: "a").Result;
            Assert.Equal(1, draw.Sketches[0].Steps);
        }
        // A stopped run gives them back before its failure is seen, too.
        for (var i = 0; i < 50; i++)
        {
            using var leave = new CancellationTokenSource();
            var run = scheduler.Draw(new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000, Z = [zero] }, Deadline.None, cancellationToken: leave.Token, caller: "a");
            while (scheduler.LiveRows == 0) await Task.Yield();
            leave.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Result);
        }
        Assert.Equal(0, scheduler.LiveRows);

        // Encodings always pass through the queue: one place for them, and one request for the caller.
        using var encoder = Scheduler(vae.Model, new() { MaxQueuedRequests = 1, MaxRequestsPerCaller = 1, MaxRowsPerCaller = 1 });
        for (var i = 0; i < 200; i++) await encoder.EncodeAsync([Scribble(3, i)], Deadline.None, Ct, caller: "a");
    }

    [Fact]
    public async Task While_others_are_served_a_caller_that_holds_rows_grows_only_to_the_crowded_bound()
    {
        using var scheduler = Scheduler(models.Tiny, new() { MaxLiveRows = 16, MaxQueuedRequests = 8, MaxRowsPerCaller = 8, MaxRequestsPerCaller = 8, MaxRowsPerCallerWhenCrowded = 2 });
        using var stop = new CancellationTokenSource();
        var endless = new DecodeOptions { Temperature = 0.5f, MaxSteps = 100_000_000 };
        // Alone, "greedy" grows to its share.
        var g1 = scheduler.Draw(endless with { Samples = 3 }, Deadline.None, cancellationToken: stop.Token, caller: "greedy");
        var g2 = scheduler.Draw(endless, Deadline.None, cancellationToken: stop.Token, caller: "greedy");
        // Another caller holding nothing may start, even with more rows than the crowded bound.
        var p = scheduler.Draw(endless with { Samples = 3 }, Deadline.None, cancellationToken: stop.Token, caller: "polite");
        // Now crowded: greedy, holding 4 rows, may not grow; polite, holding 3, may not grow past 2 either.
        var e = Assert.Throws<AdmissionRejectedException>(() => scheduler.Draw(endless, Deadline.None, cancellationToken: Ct, caller: "greedy"));
        Assert.Contains("4 row(s) of the 8 and 2 one caller may hold while other callers are served too", e.Message);
        Assert.Throws<AdmissionRejectedException>(() => scheduler.Draw(endless, Deadline.None, cancellationToken: Ct, caller: "polite"));
        stop.Cancel();
        foreach (var run in new[] { g1, g2, p }) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Result);
        // Alone again: the whole share.
        using var again = new CancellationTokenSource();
        var a1 = scheduler.Draw(endless with { Samples = 4 }, Deadline.None, cancellationToken: again.Token, caller: "greedy");
        var a2 = scheduler.Draw(endless with { Samples = 4 }, Deadline.None, cancellationToken: again.Token, caller: "greedy");
        again.Cancel();
        foreach (var run in new[] { a1, a2 }) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.Result);
    }

    [Fact]
    public void A_request_costlier_than_the_limit_is_refused_before_any_work()
    {
        using var scheduler = new ModelScheduler(models.Sheep, new SchedulerOptions
        {
            MaxLiveRows = 8, MaxQueuedRequests = 8, MaxRequestCost = 1000, MaxEncodeBatch = 8, MaxEncodeRunPoints = 1000,
            MaxRequestsPerCaller = 8, MaxRowsPerCaller = 8, MaxRowsPerCallerWhenCrowded = 8,
        }, new SchedulerMetrics(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        scheduler.CheckCost(WorkCost.Encode([400]) + WorkCost.Draw(1, 100, 500)); // 400 + 600
        var e = Assert.Throws<CostLimitException>(() => scheduler.CheckCost(WorkCost.Encode([401]) + WorkCost.Draw(1, 100, 500)));
        Assert.Equal(1001, e.Cost.Total);
        Assert.Equal(0, scheduler.EncoderRuns);
    }
}
