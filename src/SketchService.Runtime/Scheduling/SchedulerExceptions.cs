namespace SketchService.Runtime.Scheduling;

/// <summary>How soon a refused request may try again (the Retry-After header): requests last tens of milliseconds, so a full queue, a caller's share or a load in progress frees within a second.</summary>
public static class Retry
{
    public static readonly TimeSpan After = TimeSpan.FromSeconds(1);
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
    public TimeSpan RetryAfter { get; } = Retry.After;
}

/// <summary>A request asked for more work than one request may take; refused before any work started.</summary>
public sealed class CostLimitException(WorkCost cost, long limit)
    : Exception($"this request needs {cost.Total} LSTM steps ({cost.EncoderSteps} encoding + {cost.DecoderSteps} decoding); one request may take at most {limit}")
{
    public WorkCost Cost { get; } = cost;
    public long Limit { get; } = limit;
}
