using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using SketchService.Core.Latent;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Scheduling;

/// <summary>
/// Batches concurrent encoder calls of one model: one thread takes the first waiting request, gathers more for at
/// most <see cref="BatchingOptions.EncodeBatchWait"/> (up to <see cref="BatchingOptions.MaxEncodeBatch"/> sketches),
/// and encodes them all in one run. Each sketch keeps its own length, so padding does not change its code.
/// </summary>
public sealed class EncodeBatcher : IDisposable
{
    private sealed record Request(IReadOnlyList<StrokePoint[]> Sketches, TaskCompletionSource<IReadOnlyList<LatentCode>> Done, CancellationToken Token);

    private readonly BlockingCollection<Request> requests = new(new ConcurrentQueue<Request>());
    private readonly BatchingOptions options;
    private readonly BatchMetrics metrics;
    private readonly ILogger logger;
    private readonly Thread thread;
    private long runs;

    public EncodeBatcher(SketchModel model, BatchingOptions options, BatchMetrics metrics, ILogger logger)
    {
        if (!model.Manifest.IsVae) throw new ArgumentException($"{model.Id} is decoder-only: it has no encoder", nameof(model));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEncodeBatch, 1, nameof(options.MaxEncodeBatch));
        Model = model;
        this.options = options;
        this.metrics = metrics;
        this.logger = logger;
        thread = new Thread(Loop) { IsBackground = true, Name = $"encode {model.Id}" };
        thread.Start();
    }

    public SketchModel Model { get; }

    /// <summary>Encoder runs so far (each covers every request it gathered).</summary>
    public long Runs => Interlocked.Read(ref runs);

    /// <summary>Encodes sketches (stroke-3 in model space) together with whatever other requests are waiting.</summary>
    public Task<IReadOnlyList<LatentCode>> EncodeAsync(IReadOnlyList<StrokePoint[]> sketches, CancellationToken cancellationToken = default)
    {
        if (sketches.Count == 0) return Task.FromResult<IReadOnlyList<LatentCode>>([]);
        if (sketches.Any(s => s.Length == 0)) throw new ArgumentException("cannot encode an empty sketch", nameof(sketches));
        var request = new Request(sketches, new(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);
        try
        {
            requests.Add(request, cancellationToken);
        }
        catch (InvalidOperationException) // added after CompleteAdding: the service is stopping
        {
            throw new ServiceDrainingException("the service is shutting down");
        }
        return request.Done.Task;
    }

    public void Dispose()
    {
        requests.CompleteAdding();
        thread.Join();
        requests.Dispose();
    }

    private void Loop()
    {
        var batch = new List<Request>();
        while (requests.TryTake(out var first, Timeout.Infinite))
        {
            batch.Clear();
            batch.Add(first);
            int sketches = first.Sketches.Count;
            var until = DateTime.UtcNow + options.EncodeBatchWait;
            while (sketches < options.MaxEncodeBatch)
            {
                var left = until - DateTime.UtcNow;
                if (!requests.TryTake(out var next, left > TimeSpan.Zero ? left : TimeSpan.Zero)) break;
                batch.Add(next);
                sketches += next.Sketches.Count;
            }
            Encode(batch);
        }
    }

    private void Encode(List<Request> batch)
    {
        batch.RemoveAll(r =>
        {
            if (!r.Token.IsCancellationRequested) return false;
            r.Done.TrySetException(new OperationCanceledException(r.Token));
            return true;
        });
        if (batch.Count == 0) return;
        try
        {
            var codes = Model.Encode([.. batch.SelectMany(r => r.Sketches)]);
            Interlocked.Increment(ref runs);
            metrics.EncoderBatch(Model.Id, codes.Count);
            int k = 0;
            foreach (var r in batch)
            {
                r.Done.TrySetResult([.. codes.Skip(k).Take(r.Sketches.Count)]);
                k += r.Sketches.Count;
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Encoder run of {Model} failed over {Requests} requests", Model.Id, batch.Count);
            foreach (var r in batch) r.Done.TrySetException(e);
        }
    }
}
