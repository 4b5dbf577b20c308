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
