using System.Diagnostics;
using Microsoft.Extensions.Logging;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Scheduling;

/// <summary>
/// Continuous batching for one model, as Triton's sequence batcher and Orca/vLLM's iteration-level scheduling do it:
/// one thread owns a <see cref="DecodeBatch"/> and runs one decoder step per tick over every live sample of every
/// request. Requests join at the next tick (first come, first served, while rows are free) and leave as soon as they
/// end, are cancelled or pass their deadline. Admission control: at most <see cref="BatchingOptions.MaxLiveRows"/>
/// rows; beyond them at most <see cref="BatchingOptions.MaxQueuedRequests"/> requests wait, and one more is refused
/// at once with <see cref="AdmissionRejectedException"/>.
/// </summary>
public sealed class DecodeBatcher : IDisposable
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly DecodeBatch batch;
    private readonly BatchingOptions options;
    private readonly BatchMetrics metrics;
    private readonly ILogger logger;
    private readonly LinkedList<DecodeRun> queue = []; // guarded by itself
    private readonly ManualResetEventSlim wake = new(false);
    private readonly Thread thread;
    private int queuedRows, liveRows;
    private long ticks;
    private bool stopping;
    private Exception? refusing;             // set by Refuse: new runs are turned away with it
    private volatile Exception? stopRunning; // set by StopAll: the loop fails every run with it

    public DecodeBatcher(SketchModel model, BatchingOptions options, BatchMetrics metrics, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLiveRows, 1, nameof(options.MaxLiveRows));
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxQueuedRequests, nameof(options.MaxQueuedRequests));
        Model = model;
        this.options = options;
        this.metrics = metrics;
        this.logger = logger;
        batch = new DecodeBatch(model, options.MaxLiveRows);
        thread = new Thread(Loop) { IsBackground = true, Name = $"decode {model.Id}" };
        thread.Start();
    }

    public SketchModel Model { get; }

    /// <summary>Rows in the batch now; a run's rows are gone before its result is.</summary>
    public int LiveRows => batch.Rows;

    /// <summary>Decoder steps run so far.</summary>
    public long Ticks => Interlocked.Read(ref ticks);

    /// <summary>Requests submitted and not yet admitted into the batch.</summary>
    public int QueuedRequests
    {
        get { lock (queue) return queue.Count; }
    }

    /// <summary>
    /// Queues a run; it joins the batch at the next tick where its rows are free. Throws
    /// <see cref="AdmissionRejectedException"/> at once when the rows are taken and the queue is full, and
    /// <see cref="ArgumentException"/> for options the model cannot run (or more samples than the batch holds).
    /// </summary>
    public DecodeRun Submit(DecodeOptions decode, bool stream = false, CancellationToken cancellationToken = default)
    {
        var run = new DecodeRun(Model, decode, stream, options.RequestDeadline, cancellationToken);
        if (run.Cost > options.MaxLiveRows)
            throw new ArgumentOutOfRangeException(nameof(decode), $"{run.Cost} samples: at most {options.MaxLiveRows} rows are decoded at once");
        lock (queue)
        {
            if (stopping) throw new ServiceDrainingException("the service is shutting down");
            if (refusing is not null) throw refusing;
            bool fits = liveRows + queuedRows + run.Cost <= options.MaxLiveRows;
            if (!fits && queue.Count >= options.MaxQueuedRequests)
            {
                metrics.Failure(Model.Id, "queue_full");
                throw new AdmissionRejectedException(Model.Id, queue.Count, RetryAfter);
            }
            queue.AddLast(run);
            queuedRows += run.Cost;
        }
        metrics.Pending(Model.Id, 1);
        wake.Set();
        return run;
    }

    /// <summary>From now on, <see cref="Submit"/> throws <paramref name="reason"/>; runs already queued or live go on (a drain).</summary>
    public void Refuse(Exception reason)
    {
        lock (queue) refusing = reason;
    }

    /// <summary>Fails every queued and live run with <paramref name="reason"/> at the next tick (the end of a drain).</summary>
    public void StopAll(Exception reason)
    {
        stopRunning = reason;
        wake.Set();
    }

    public void Dispose()
    {
        lock (queue) stopping = true;
        wake.Set();
        thread.Join();
        batch.Dispose();
        wake.Dispose();
    }

    private void Loop()
    {
        var stoppedBy = new ServiceDrainingException("the service is shutting down");
        while (true)
        {
            if (stopRunning is { } reason)
            {
                stopRunning = null;
                FailAll(reason);
            }
            Admit();
            int before = batch.Rows;
            foreach (var run in batch.RemoveStopped())
                metrics.Failure(Model.Id, StopReason(run.Result.Exception?.InnerException));
            Count(batch.Rows - before);
            if (batch.Rows == 0)
            {
                wake.Reset();
                lock (queue)
                {
                    if (queue.Count > 0 || stopRunning is not null) continue; // a Set before the Reset is not lost
                    if (stopping) break;
                }
                wake.Wait();
                continue;
            }
            Tick();
            lock (queue)
                if (stopping) break;
        }
        FailAll(stoppedBy);
    }

    private void FailAll(Exception reason)
    {
        lock (queue)
        {
            while (queue.First is { } node)
            {
                Dequeue(node);
                node.Value.Fail(reason);
            }
        }
        int rows = batch.Rows;
        var running = batch.Runs.ToList();
        batch.Clear();
        Count(-rows);
        foreach (var run in running) run.Fail(reason);
    }

    /// <summary>
    /// Moves queued runs into the batch, first come first served, while their rows fit (nobody overtakes a waiting
    /// run), and drops every queued run that was cancelled or passed its deadline, wherever it waits.
    /// </summary>
    private void Admit()
    {
        List<DecodeRun> admitted = [];
        lock (queue)
        {
            long now = Stopwatch.GetTimestamp();
            int free = batch.FreeRows;
            bool blocked = false;
            for (var node = queue.First; node is not null;)
            {
                var next = node.Next;
                var run = node.Value;
                if (run.StoppedBy(now) is { } stopped)
                {
                    Dequeue(node);
                    run.Fail(stopped);
                    metrics.Failure(Model.Id, StopReason(stopped));
                }
                else if (!blocked && run.Cost <= free)
                {
                    Dequeue(node);
                    free -= run.Cost;
                    liveRows += run.Cost; // counted as live in the same lock that stops counting them as queued
                    admitted.Add(run);
                }
                else blocked = true;
                node = next;
            }
        }
        foreach (var run in admitted)
        {
            try
            {
                batch.Add(run);
                metrics.LiveRows(Model.Id, run.Cost);
                metrics.Queued(Model.Id, Stopwatch.GetElapsedTime(run.SubmittedAt).TotalSeconds);
            }
            catch (Exception e)
            {
                lock (queue) liveRows -= run.Cost;
                logger.LogError(e, "Starting a decode on {Model} failed", Model.Id);
                metrics.Failure(Model.Id, "error");
                run.Fail(e);
            }
        }
    }

    /// <summary>The failure metric's reason for a run that was stopped.</summary>
    private static string StopReason(Exception? why) => why is DeadlineExceededException ? "deadline" : "canceled";

    private void Dequeue(LinkedListNode<DecodeRun> node)
    {
        queue.Remove(node);
        queuedRows -= node.Value.Cost;
        metrics.Pending(Model.Id, -1);
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
            logger.LogError(e, "Decoder step of {Model} failed over {Rows} rows; their requests fail", Model.Id, rows);
            metrics.Failure(Model.Id, "error");
            Count(-rows);
            return;
        }
        Interlocked.Increment(ref ticks);
        metrics.Step(Model.Id, rows, Stopwatch.GetElapsedTime(start).TotalSeconds);
        int sampled = Record(batch.Runs) + Record(finished);
        if (sampled > 0) metrics.Points(Model.Id, sampled);
        Count(batch.Rows - rows);
    }

    /// <summary>Points sampled by these runs this tick; time to first point for those that just sampled their first.</summary>
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
        lock (queue) liveRows += delta;
        metrics.LiveRows(Model.Id, delta);
    }
}
