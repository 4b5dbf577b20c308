using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SketchService.Core.Latent;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Scheduling;

/// <summary>
/// Every unit of one model's work — encodings and draws alike — admitted, costed, queued, run and stopped in one place.
/// <list type="bullet">
/// <item>Cost: a request's whole work is checked against <see cref="SchedulerOptions.MaxRequestCost"/> before any of it
/// starts (<see cref="CheckCost"/>).</item>
/// <item>Admission: one queue bound for everything that waits, for the encoder or for decoder rows; past it, a request is
/// refused at once with <see cref="AdmissionRejectedException"/> (HTTP 429 with Retry-After).</item>
/// <item>Two lanes, each a thread that alone changes the state of the work it holds, as vLLM's scheduler does
/// (schedule → run → update): the encoder lane packs waiting sketches into runs of at most
/// <see cref="SchedulerOptions.MaxEncodeRunPoints"/> padded points, the oldest first and then the shortest, so that no
/// request holds the encoder for long, a short one is not stuck behind long ones, and a run's memory is bounded; the decoder lane steps every live row of every draw together (continuous batching, as
/// Orca and vLLM do). A draw whose z is found from its prefix — its encoding, or the candidate z under which the decoder
/// finds it most likely (scored on the encoder lane, the scorings of a run in one decoder batch) — passes from the first lane to the second
/// without leaving the scheduler. The lanes run side by side, so encodings never stall the rows being drawn.</item>
/// <item>Stopping: work whose client went away or whose <see cref="Deadline"/> passed leaves its queue or its rows at
/// the next step of its lane, failing with <see cref="OperationCanceledException"/> or <see cref="DeadlineExceededException"/>.</item>
/// </list>
/// </summary>
public sealed class ModelScheduler : IDisposable
{
    private readonly SchedulerOptions options;
    private readonly SchedulerMetrics metrics;
    private readonly ILogger logger;
    private readonly DecodeBatch batch; // the decoder lane's alone
    private DecoderState? scoring;      // the encoder lane's alone: the rows candidate z's are scored on, kept from run to run
    private readonly ManualResetEventSlim encoderWake = new(false), decoderWake = new(false);
    private readonly Thread? encoderLane;
    private readonly Thread decoderLane;

    // Guarded by gate: what callers and lanes share.
    private readonly object gate = new();
    private readonly LinkedList<EncodeWork> encodeQueue = [];
    private readonly LinkedList<DecodeRun> rowQueue = [];
    private int drawsInEncoder; // draws out of encodeQueue whose z the encoder lane is finding: they wait for rows next
    private int reservedRows; // rows of admitted draws that are not in the batch yet
    private readonly Dictionary<string, (int Requests, int Rows)> callers = []; // what each caller holds, admitted and not over
    private int liveRows;
    private bool stopping;
    private Exception? refusing;   // Refuse: new work is turned away with it
    private Exception? stopped;    // StopAll: all work fails with it
    private bool stopLive;         // StopAll: the decoder lane still has to fail its rows

    private long ticks, encoderRuns, scoringRuns;

    public ModelScheduler(SketchModel model, SchedulerOptions options, SchedulerMetrics metrics, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLiveRows, 1, nameof(options.MaxLiveRows));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxQueuedRequests, nameof(options.MaxQueuedRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEncodeBatch, 1, nameof(options.MaxEncodeBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEncodeRunPoints, 1, nameof(options.MaxEncodeRunPoints));
        Model = model;
        this.options = options;
        this.metrics = metrics;
        this.logger = logger;
        batch = new DecodeBatch(model, options.MaxLiveRows, freed => Count(-freed), why => metrics.Failure(Model.Id, StopReason(why)));
        decoderLane = new Thread(DecoderLoop) { IsBackground = true, Name = $"decode {model.Id}" };
        decoderLane.Start();
        if (model.Manifest.IsVae)
        {
            encoderLane = new Thread(EncoderLoop) { IsBackground = true, Name = $"encode {model.Id}" };
            encoderLane.Start();
        }
    }

    public SketchModel Model { get; }

    /// <summary>Rows in the batch now; a draw's rows are gone before its result is.</summary>
    public int LiveRows => batch.Rows;

    /// <summary>Requests waiting for the encoder or for rows, a draw whose z is being found included.</summary>
    public int QueuedRequests
    {
        get { lock (gate) return Waiting; }
    }

    /// <summary>
    /// Under the gate: what the queue bound counts. A draw in the encoder run counts, for it goes on to wait for rows;
    /// an encoding being run does not, for it is being served.
    /// </summary>
    private int Waiting => encodeQueue.Count + drawsInEncoder + rowQueue.Count;

    /// <summary>Decoder steps run so far.</summary>
    public long Ticks => Interlocked.Read(ref ticks);

    /// <summary>Encoder runs so far (each covers every sketch it packed).</summary>
    public long EncoderRuns => Interlocked.Read(ref encoderRuns);

    /// <summary>Scoring batches so far (each scores the candidates of every draw of its slice that chooses its z).</summary>
    public long ScoringRuns => Interlocked.Read(ref scoringRuns);

    /// <summary>Whether one request may take this much work.</summary>
    public bool Affords(WorkCost cost) => cost.Total <= options.MaxRequestCost;

    /// <summary>Refuses (<see cref="CostLimitException"/>, counted as cost_limit) a request whose whole work is more than one request may take.</summary>
    public void CheckCost(WorkCost cost)
    {
        if (Affords(cost)) return;
        metrics.Failure(Model.Id, "cost_limit");
        throw new CostLimitException(cost, options.MaxRequestCost);
    }

    /// <summary>
    /// Encodes sketches (stroke-3 in model space) together with whatever else waits for the encoder. Throws
    /// <see cref="AdmissionRejectedException"/> at once when the queue is full.
    /// </summary>
    /// <param name="caller">Who asks (an API key's or a client address's name), for the per-caller share; null: no share applies.</param>
    public Task<IReadOnlyList<LatentCode>> EncodeAsync(IReadOnlyList<StrokePoint[]> sketches, Deadline deadline, CancellationToken cancellationToken = default, string? caller = null)
    {
        if (!Model.Manifest.IsVae) throw new InvalidOperationException($"{Model.Id} is decoder-only: it has no encoder");
        if (sketches.Any(s => s.Length == 0)) throw new ArgumentException("cannot encode an empty sketch", nameof(sketches));
        if (sketches.Count == 0) return Task.FromResult<IReadOnlyList<LatentCode>>([]);
        var work = new EncodeWork([.. sketches], null, deadline, cancellationToken);
        lock (gate)
        {
            Admitting(fits: false, caller, rows: 0);
            work.Ending = GiveBack(caller, rows: 0);
            encodeQueue.AddLast(work);
        }
        metrics.Pending(Model.Id, 1);
        encoderWake.Set();
        return work.Completion!.Task;
    }

    /// <summary>
    /// Queues a draw; it takes rows at the next decoder step where they are free (after its encoding, when its z is its
    /// prefix's). Throws <see cref="AdmissionRejectedException"/> at once when rows are taken and the queue is full.
    /// </summary>
    /// <param name="caller">Who asks, for the per-caller share of rows and requests; null: no share applies.</param>
    public DecodeRun Draw(DecodeOptions decode, Deadline deadline, bool stream = false, CancellationToken cancellationToken = default, string? caller = null)
    {
        var run = new DecodeRun(Model, decode, stream, deadline, cancellationToken);
        if (run.Rows > options.MaxLiveRows)
            throw new ArgumentOutOfRangeException(nameof(decode), $"{run.Rows} samples: at most {options.MaxLiveRows} rows are decoded at once");
        lock (gate)
        {
            Admitting(fits: !run.NeedsZ && liveRows + reservedRows + run.Rows <= options.MaxLiveRows, caller, run.Rows);
            run.Ending = GiveBack(caller, run.Rows);
            reservedRows += run.Rows;
            if (run.NeedsZ) encodeQueue.AddLast(new EncodeWork([run.Prefix], run, deadline, cancellationToken));
            else rowQueue.AddLast(run);
        }
        metrics.Pending(Model.Id, 1);
        (run.NeedsZ ? encoderWake : decoderWake).Set();
        return run;
    }

    /// <summary>From now on, new work is refused with <paramref name="reason"/>; work already queued or running goes on (a drain).</summary>
    public void Refuse(Exception reason)
    {
        lock (gate) refusing = reason;
    }

    /// <summary>Fails every queued and running piece of work with <paramref name="reason"/> (the end of a drain); new work is refused with it.</summary>
    public void StopAll(Exception reason)
    {
        List<EncodeWork> works;
        List<DecodeRun> runs;
        lock (gate)
        {
            stopped = reason;
            stopLive = true;
            works = [.. encodeQueue];
            runs = [.. rowQueue];
            foreach (var w in works)
            {
                w.Over = true;
                Release(w);
            }
            foreach (var r in runs) reservedRows -= r.Rows;
            encodeQueue.Clear();
            rowQueue.Clear();
        }
        metrics.Pending(Model.Id, -(works.Count + runs.Count));
        foreach (var w in works)
        {
            metrics.Failure(Model.Id, StopReason(reason)); // counted before the failure can be seen
            w.Fail(reason);
        }
        foreach (var r in runs)
        {
            metrics.Failure(Model.Id, StopReason(reason));
            r.Fail(reason);
        }
        decoderWake.Set();
        encoderWake.Set();
    }

    public void Dispose()
    {
        lock (gate) stopping = true;
        decoderWake.Set();
        encoderWake.Set();
        encoderLane?.Join();
        decoderLane.Join();
        scoring?.Dispose();
        StopAll(new ServiceDrainingException("the service is shutting down"));
        batch.Dispose();
        decoderWake.Dispose();
        encoderWake.Dispose();
    }

    /// <summary>
    /// The one admission rule, under the gate: refused while stopping; past the caller's share of rows and requests
    /// (so one caller cannot take every row while others wait, and grows less while others are served); past the queue
    /// bound unless it can start at once.
    /// Counts the request against its caller when admitted.
    /// </summary>
    private void Admitting(bool fits, string? caller, int rows)
    {
        if (!SharesCallers) caller = null;
        if (stopping) throw new ServiceDrainingException("the service is shutting down");
        if ((stopped ?? refusing) is { } reason) throw reason;
        var use = caller is null ? default : callers.GetValueOrDefault(caller);
        // Crowded: others hold work too, and this caller already holds rows; then it may grow only to the smaller bound.
        bool crowded = caller is not null && use.Rows > 0 && callers.Count > 1;
        int rowLimit = crowded ? Math.Min(options.MaxRowsPerCallerWhenCrowded, options.MaxRowsPerCaller) : options.MaxRowsPerCaller;
        if (caller is not null && (use.Requests + 1 > options.MaxRequestsPerCaller || use.Rows + rows > rowLimit))
        {
            metrics.Failure(Model.Id, "caller_share");
            throw new AdmissionRejectedException(Retry.After,
                $"model '{Model.Id}': this caller already has {use.Requests} request(s) and {use.Rows} row(s) of the {options.MaxRequestsPerCaller} and {rowLimit} one caller may hold" +
                (crowded ? " while other callers are served too" : "") + $"; retry after {Retry.After.TotalSeconds:0} s");
        }
        int waiting = Waiting;
        if (!fits && waiting >= options.MaxQueuedRequests)
        {
            metrics.Failure(Model.Id, "queue_full");
            throw new AdmissionRejectedException(Model.Id, waiting, Retry.After);
        }
        if (caller is not null) callers[caller] = (use.Requests + 1, use.Rows + rows);
    }

    /// <summary>Whether callers have a share at all (not when both bounds are unlimited).</summary>
    private bool SharesCallers => options.MaxRequestsPerCaller != int.MaxValue || options.MaxRowsPerCaller != int.MaxValue;

    /// <summary>
    /// What gives a caller's request and rows back when its work ends, however it ends: run by the work just before its
    /// end is seen, so the caller may ask again as soon as it sees it.
    /// </summary>
    private Action? GiveBack(string? caller, int rows)
    {
        if (caller is null || !SharesCallers) return null;
        return () =>
        {
            lock (gate)
            {
                var use = callers[caller];
                if (use.Requests == 1) callers.Remove(caller);
                else callers[caller] = (use.Requests - 1, use.Rows - rows);
            }
        };
    }

    /// <summary>Under the gate: the rows a draw still waiting for its encoding had reserved.</summary>
    private void Release(EncodeWork work)
    {
        if (work.Draw is { } run) reservedRows -= run.Rows;
    }

    // ---- encoder lane ------------------------------------------------------------------------------------------------

    /// <summary>The sketches of one request still to encode or score: an encoding, or a draw whose z is found from its prefix.</summary>
    private sealed class EncodeWork(StrokePoint[][] sketches, DecodeRun? draw, Deadline deadline, CancellationToken token)
    {
        public StrokePoint[][] Sketches { get; } = sketches;
        public DecodeRun? Draw { get; } = draw;
        public LatentCode[] Codes { get; } = new LatentCode[sketches.Length];
        public TaskCompletionSource<IReadOnlyList<LatentCode>>? Completion { get; } =
            draw is null ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;
        public long SubmittedAt { get; } = Stopwatch.GetTimestamp();
        /// <summary>Which sketches were handed to encoder runs (not always in order), how many, and how many are encoded; the work leaves the queue once all are handed out.</summary>
        public bool[] Handed { get; } = new bool[sketches.Length];
        public int HandedCount, Encoded;
        public bool AllHanded => HandedCount == Sketches.Length;

        public void Hand(int index)
        {
            Handed[index] = true;
            HandedCount++;
        }
        /// <summary>Failed or delivered: results of runs still in flight for it are dropped.</summary>
        public bool Over;

        public Exception? StoppedBy(long now) =>
            Draw?.StoppedBy(now)
            ?? (token.IsCancellationRequested ? new OperationCanceledException(token)
                : deadline.HasPassed(now) ? new DeadlineExceededException(deadline.Length!.Value) : null);

        /// <summary>An encoding's <see cref="DecodeRun.Ending"/>: run once, just before its result is set.</summary>
        public Action? Ending;

        private void End() => Interlocked.Exchange(ref Ending, null)?.Invoke();

        public void Deliver()
        {
            End();
            Completion!.TrySetResult(Codes);
        }

        public void Fail(Exception e)
        {
            if (Draw is { } run) run.Fail(e);
            else
            {
                End();
                Completion!.TrySetException(e);
            }
        }
    }

    private void EncoderLoop()
    {
        var slice = new List<(EncodeWork Work, int Index)>();
        var failed = new List<(EncodeWork Work, Exception Why)>();
        while (true)
        {
            // schedule: drop what was stopped, pack a run from the head of the queue
            slice.Clear();
            failed.Clear();
            lock (gate)
            {
                long now = Stopwatch.GetTimestamp();
                foreach (var work in encodeQueue)
                    if (work.StoppedBy(now) is { } why) failed.Add((work, why));
                Pack(slice, failed);
                if (slice.Count == 0 && failed.Count == 0)
                {
                    if (stopping) break;
                    encoderWake.Reset(); // a Set after this (new work) is not lost
                }
            }
            foreach (var (work, why) in failed) Stop(work, why);
            if (slice.Count == 0)
            {
                if (failed.Count == 0) encoderWake.Wait();
                continue;
            }

            // run: encode the sketches of the slice in one encoder run; a draw that chooses its z among candidates has
            // its prefix scored by the decoder instead
            var codes = new LatentCode[slice.Count];
            try
            {
                var encode = Enumerable.Range(0, slice.Count).Where(k => slice[k].Work.Draw?.Options.ZCandidates is null).ToList();
                if (encode.Count > 0)
                {
                    // A draw's prefix is the start of a drawing, to be completed; a sketch sent to be encoded is taken as whole.
                    var encoded = Model.Encode([.. encode.Select(k => slice[k].Work.Sketches[slice[k].Index])], [.. encode.Select(k => slice[k].Work.Draw is not null)]);
                    for (int e = 0; e < encode.Count; e++) codes[encode[e]] = encoded[e];
                    Interlocked.Increment(ref encoderRuns);
                    metrics.EncoderBatch(Model.Id, encode.Count);
                }
            }
            catch (Exception e)
            {
                logger.LogError(e, "Encoder run of {Model} failed over {Sketches} sketches", Model.Id, slice.Count);
                foreach (var work in slice.Select(s => s.Work).Distinct()) Stop(work, e, "error");
                continue;
            }

            // The draws of the slice that choose their z among candidates are scored together, stopping between decoder
            // steps for each whose client goes or whose deadline passes; a failed scoring fails only those draws.
            var scored = Enumerable.Range(0, slice.Count).Where(k => slice[k].Work.Draw?.Options.ZCandidates is not null).ToList();
            if (scored.Count > 0)
            {
                var choices = scored.Select(k => new LatentSelection.Choice(slice[k].Work.Sketches[slice[k].Index], slice[k].Work.Draw!.Options.ZCandidates!)).ToList();
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    // Packing keeps a run's candidate rows within the draw lane's live rows (or one draw's alone).
                    scoring ??= new DecoderState(Model, Math.Max(options.MaxLiveRows, LatentSelection.Candidates));
                    var best = LatentSelection.MostLikely(scoring, choices, g => slice[scored[g]].Work.StoppedBy(Stopwatch.GetTimestamp()) is not null);
                    Interlocked.Increment(ref scoringRuns);
                    // The chosen z is a point, not a posterior: σ 0.
                    for (int g = 0; g < scored.Count; g++)
                        if (best[g] is { } b) codes[scored[g]] = new LatentCode(choices[g].Candidates[b], new float[choices[g].Candidates[b].Length]);
                    metrics.Scoring(Model.Id, Stopwatch.GetElapsedTime(started).TotalSeconds);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Scoring candidate z of {Model} failed for {Draws} draws", Model.Id, scored.Count);
                    foreach (var k in scored) Stop(slice[k].Work, e, "error");
                }
            }

            // update: hand each code to its work; a finished encoding completes, a finished draw's prefix goes to the rows
            List<EncodeWork> done = [];
            bool toRows = false;
            lock (gate)
            {
                for (int k = 0; k < slice.Count; k++)
                {
                    var (work, index) = slice[k];
                    if (work.Over) continue;
                    if (codes[k] is null) // a scoring stopped early: the stop check below says why
                    {
                        failed.Add((work, work.StoppedBy(Stopwatch.GetTimestamp()) ?? new OperationCanceledException()));
                        continue;
                    }
                    work.Codes[index] = codes[k];
                    if (++work.Encoded < work.Sketches.Length) continue;
                    if ((stopped ?? work.StoppedBy(Stopwatch.GetTimestamp())) is { } why)
                    {
                        failed.Add((work, why)); // Stop below
                        continue;
                    }
                    work.Over = true;
                    if (work.Draw is { } run)
                    {
                        run.UseZ(work.Codes[0].Mu);
                        drawsInEncoder--;
                        rowQueue.AddLast(run);
                        toRows = true;
                    }
                    else done.Add(work);
                }
            }
            foreach (var work in done) work.Deliver();
            foreach (var (work, why) in failed) Stop(work, why);
            if (toRows) decoderWake.Set();
        }
    }

    /// <summary>
    /// Under the gate: the next encoder run. The oldest waiting sketch goes first, so nobody waits for ever; then the
    /// shortest waiting sketches of any request, while the run's padded points (longest × count) and sketch count allow,
    /// so a short prefix rides with the next run instead of queueing behind every long sketch before it, and while the
    /// scorings' candidate rows fit the live rows. Work that was
    /// stopped is left for <see cref="Stop"/>.
    /// </summary>
    private void Pack(List<(EncodeWork Work, int Index)> slice, List<(EncodeWork Work, Exception Why)> failed)
    {
        var waiting = encodeQueue.Where(w => !failed.Any(f => f.Work == w)).ToList();
        if (waiting.Count == 0) return;
        var oldest = waiting[0];
        var first = Array.IndexOf(oldest.Handed, false);
        oldest.Hand(first);
        slice.Add((oldest, first));
        int longest = oldest.Sketches[first].Length;
        var shortest = waiting.SelectMany(w => Enumerable.Range(0, w.Sketches.Length).Where(i => !w.Handed[i]).Select(i => (Work: w, Index: i)))
            .OrderBy(c => c.Work.Sketches[c.Index].Length);
        // Scorings step one decoder row per candidate: beside the oldest, a slice takes more only while their rows fit
        // the draw lane's live rows.
        static int Rows(EncodeWork w) => w.Draw?.Options.ZCandidates?.Count ?? 0;
        int scoreRows = Rows(oldest);
        foreach (var (work, index) in shortest)
        {
            if (slice.Count >= options.MaxEncodeBatch) break;
            if (Rows(work) > 0 && scoreRows + Rows(work) > options.MaxLiveRows) continue;
            int length = Math.Max(longest, work.Sketches[index].Length);
            if (length * (slice.Count + 1) > options.MaxEncodeRunPoints) break; // longer ones fit even less
            longest = length;
            scoreRows += Rows(work);
            work.Hand(index);
            slice.Add((work, index));
        }
        foreach (var work in waiting.Where(w => w.AllHanded))
        {
            encodeQueue.Remove(work);
            if (work.Draw is not null) drawsInEncoder++; // still pending: it waits for rows next
            else metrics.Pending(Model.Id, -1);
        }
    }

    /// <summary>Fails a piece of encoder work (out of the queue if it still waits there, its rows released), counting why.</summary>
    private void Stop(EncodeWork work, Exception why, string? reason = null)
    {
        bool queued;
        lock (gate)
        {
            if (work.Over) return;
            work.Over = true;
            queued = encodeQueue.Remove(work);
            if (!queued && work.Draw is not null) drawsInEncoder--; // it was in the encoder run
            Release(work);
        }
        if (queued || work.Draw is not null) metrics.Pending(Model.Id, -1); // a draw is pending until it takes rows
        metrics.Failure(Model.Id, reason ?? StopReason(why)); // counted before the failure can be seen
        work.Fail(why);
    }

    // ---- decoder lane ------------------------------------------------------------------------------------------------

    private void DecoderLoop()
    {
        while (true)
        {
            bool stopAll;
            lock (gate)
            {
                stopAll = stopLive;
                stopLive = false;
            }
            if (stopAll) batch.FailAll(stopped!);
            Admit();
            batch.RemoveStopped();
            if (batch.Rows == 0)
            {
                lock (gate)
                {
                    if (rowQueue.Count > 0 || stopLive) continue;
                    if (stopping) break;
                    decoderWake.Reset(); // a Set after this is not lost
                }
                decoderWake.Wait();
                continue;
            }
            Tick();
            lock (gate)
                if (stopping) break;
        }
        batch.FailAll(new ServiceDrainingException("the service is shutting down"));
    }


    /// <summary>
    /// Moves waiting draws into the batch, first come first served, while their rows fit (nobody overtakes a waiting
    /// draw), and drops every waiting draw that was cancelled or passed its deadline, wherever it waits.
    /// </summary>
    private void Admit()
    {
        List<DecodeRun> admitted = [];
        List<(DecodeRun Run, Exception Why)> dropped = [];
        lock (gate)
        {
            long now = Stopwatch.GetTimestamp();
            int free = batch.FreeRows;
            bool blocked = false;
            for (var node = rowQueue.First; node is not null;)
            {
                var next = node.Next;
                var run = node.Value;
                if (run.StoppedBy(now) is { } why)
                {
                    rowQueue.Remove(node);
                    reservedRows -= run.Rows;
                    dropped.Add((run, why));
                }
                else if (!blocked && run.Rows <= free)
                {
                    rowQueue.Remove(node);
                    free -= run.Rows;
                    reservedRows -= run.Rows;
                    liveRows += run.Rows; // counted as live in the same lock that stops counting them as reserved
                    admitted.Add(run);
                }
                else blocked = true;
                node = next;
            }
        }
        if (admitted.Count + dropped.Count > 0) metrics.Pending(Model.Id, -(admitted.Count + dropped.Count));
        foreach (var (run, why) in dropped)
        {
            metrics.Failure(Model.Id, StopReason(why));
            run.Fail(why);
        }
        foreach (var run in admitted)
        {
            try
            {
                batch.Add(run);
                metrics.LiveRows(Model.Id, run.Rows);
                metrics.Queued(Model.Id, Stopwatch.GetElapsedTime(run.SubmittedAt).TotalSeconds);
            }
            catch (Exception e)
            {
                lock (gate) liveRows -= run.Rows;
                logger.LogError(e, "Starting a decode on {Model} failed", Model.Id);
                metrics.Failure(Model.Id, "error");
                run.Fail(e);
            }
        }
    }

    private void Tick()
    {
        int rows = batch.Rows;
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<DecodeRun> finished;
        try
        {
            finished = batch.Step();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Decoder step of {Model} failed over {Rows} rows; their requests fail (the batch counts each)", Model.Id, rows);
            return;
        }
        Interlocked.Increment(ref ticks);
        metrics.Step(Model.Id, rows, Stopwatch.GetElapsedTime(start).TotalSeconds);
        int sampled = Record(batch.Runs) + Record(finished);
        if (sampled > 0) metrics.Points(Model.Id, sampled);
    }

    /// <summary>Points sampled by these draws this tick; time to first point for those that just sampled their first.</summary>
    private int Record(IReadOnlyList<DecodeRun> runs)
    {
        int sampled = 0;
        foreach (var run in runs)
        {
            sampled += run.LastStep.Length;
            if (run.StepIndex == 1 && run.LastStep.Length > 0)
                metrics.FirstResponse(Model.Id, Stopwatch.GetElapsedTime(run.SubmittedAt, run.FirstPointAt).TotalSeconds);
        }
        return sampled;
    }

    private void Count(int delta)
    {
        if (delta == 0) return;
        lock (gate) liveRows += delta;
        metrics.LiveRows(Model.Id, delta);
    }

    /// <summary>The failure metric's reason for work that was stopped or failed.</summary>
    private static string StopReason(Exception why) => why switch
    {
        DeadlineExceededException => "deadline",
        NonFiniteOutputException => "non_finite",
        OperationCanceledException => "canceled",
        ServiceDrainingException => "shutdown",
        _ => "error",
    };
}
