namespace SketchService.Runtime.Scheduling;

/// <summary>Admission control and batching limits of one model's <see cref="DecodeBatcher"/> and <see cref="EncodeBatcher"/>.</summary>
public sealed record BatchingOptions
{
    /// <summary>Most rows (samples being drawn, of all requests) stepped together; a request waits for rows beyond this.</summary>
    public int MaxLiveRows { get; init; } = 128;

    /// <summary>Most requests waiting for rows; one more is refused at once (HTTP 429).</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>How long a request may take from submission, waiting included; past it, it is stopped. Null: no limit.</summary>
    public TimeSpan? RequestDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most sketches encoded in one encoder run.</summary>
    public int MaxEncodeBatch { get; init; } = 32;

    /// <summary>How long the encoder waits for more sketches after the first before it runs.</summary>
    public TimeSpan EncodeBatchWait { get; init; } = TimeSpan.FromMilliseconds(1);
}

/// <summary>A request refused without waiting because the model's queue is full; retry after <see cref="RetryAfter"/>.</summary>
public sealed class AdmissionRejectedException(string model, int queued, TimeSpan retryAfter)
    : Exception($"model '{model}' is at capacity: {queued} requests are already waiting for rows; retry after {retryAfter.TotalSeconds:0} s")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The service is shutting down: it takes no new work (503 with Retry-After), and ends what is still running when its drain time is up.</summary>
public sealed class ServiceDrainingException(string message) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);
}
