using System.Diagnostics;

namespace SketchService.Runtime;

/// <summary>
/// When a request's model work must be over, fixed once when the request arrives (the service's RequestDeadlineSeconds):
/// every job of the request (its encoding, its decoding) is stopped past it with <see cref="DeadlineExceededException"/>.
/// </summary>
public readonly record struct Deadline(long Timestamp, TimeSpan? Length)
{
    public static readonly Deadline None = new(long.MaxValue, null);

    /// <summary><paramref name="length"/> from now; null: none.</summary>
    public static Deadline After(TimeSpan? length) =>
        length is { } l ? new(Stopwatch.GetTimestamp() + (long)(l.TotalSeconds * Stopwatch.Frequency), l) : None;

    public bool HasPassed(long now) => now > Timestamp;
}

/// <summary>A request went past its <see cref="Deadline"/> (waiting included) and its work was stopped.</summary>
public sealed class DeadlineExceededException(TimeSpan deadline)
    : TimeoutException($"the request did not finish within its deadline of {deadline.TotalSeconds:0.###} s")
{
    public TimeSpan Deadline { get; } = deadline;
}
