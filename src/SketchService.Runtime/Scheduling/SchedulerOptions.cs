namespace SketchService.Runtime.Scheduling;

/// <summary>
/// The limits of one model's <see cref="ModelScheduler"/>. No defaults here: the service's settings class holds the one
/// default of each (SketchServiceOptions), and tests say what they test.
/// </summary>
public sealed record SchedulerOptions
{
    /// <summary>Most rows (samples being drawn, of all requests) stepped together; a draw waits for rows beyond this.</summary>
    public required int MaxLiveRows { get; init; }

    /// <summary>Most requests waiting, for the encoder or for rows; one more is refused at once (HTTP 429).</summary>
    public required int MaxQueuedRequests { get; init; }

    /// <summary>Most requests (queued or running) one caller may hold at once.</summary>
    public required int MaxRequestsPerCaller { get; init; }

    /// <summary>Most decoder rows one caller's running and queued draws may hold at once.</summary>
    public required int MaxRowsPerCaller { get; init; }

    /// <summary>
    /// While other callers hold work too, the rows a caller that already holds some may grow to (at most
    /// <see cref="MaxRowsPerCaller"/>). Every row is stepped every tick, so one caller's many rows make everyone's ticks
    /// slower; a caller that holds nothing may always start up to <see cref="MaxRowsPerCaller"/>.
    /// </summary>
    public required int MaxRowsPerCallerWhenCrowded { get; init; }

    /// <summary>Most work one request may ask for, in LSTM steps (<see cref="WorkCost"/>); more is refused before any work starts.</summary>
    public required long MaxRequestCost { get; init; }

    /// <summary>Most sketches in one encoder run.</summary>
    public required int MaxEncodeBatch { get; init; }

    /// <summary>
    /// Most padded points (longest sketch × sketches) in one encoder run. An encoder run cannot be stopped once started,
    /// so this bounds both how long a cancelled request keeps the encoder and how much memory one run takes.
    /// </summary>
    public required int MaxEncodeRunPoints { get; init; }
}

/// <summary>A request refused without waiting because the model's queue is full; retry after <see cref="RetryAfter"/>.</summary>
public sealed class AdmissionRejectedException(TimeSpan retryAfter, string message) : Exception(message)
{
    public AdmissionRejectedException(string model, int queued, TimeSpan retryAfter)
        : this(retryAfter, $"model '{model}' is at capacity: {queued} requests are already waiting; retry after {retryAfter.TotalSeconds:0} s") { }

    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The service is shutting down: it takes no new work (503 with Retry-After), and ends what is still running when its drain time is up.</summary>
public sealed class ServiceDrainingException(string message) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = TimeSpan.FromSeconds(1);
}

/// <summary>A request asked for more work than one request may take; refused before any work started.</summary>
public sealed class CostLimitException(WorkCost cost, long limit)
    : Exception($"this request needs {cost.Total} LSTM steps ({cost.EncoderSteps} encoding + {cost.DecoderSteps} decoding); one request may take at most {limit}")
{
    public WorkCost Cost { get; } = cost;
    public long Limit { get; } = limit;
}
