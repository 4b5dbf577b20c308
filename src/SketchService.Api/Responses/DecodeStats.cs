using System.ComponentModel;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Responses;

/// <summary>How a decoding went; part of every response that draws (/complete, /decode, /generate, /interpolate, /arithmetic).</summary>
public sealed record DecodeStats(
    [property: Description("Decoder steps sampled for the batch (the longest sample).")] int Steps,
    [property: Description("Wall time from joining the decoder batch to the last point, in ms (priming included).")] double DurationMs,
    [property: Description("Time spent waiting for free decoder rows, in ms.")] double QueuedMs,
    [property: Description("How many samples ended by themselves before max_steps.")] int EndedByThemselves,
    int Samples)
{
    public static DecodeStats From(DecodeResult r) =>
        new(r.Steps, Math.Round(r.Duration.TotalMilliseconds, 2),
            Math.Round(r.Queued.TotalMilliseconds, 2), r.Sketches.Count(s => s.Ended), r.Sketches.Count);
}
