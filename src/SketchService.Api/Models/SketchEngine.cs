using System.Diagnostics;
using System.Diagnostics.Metrics;
using SketchService.Inference.Latent;
using SketchService.Inference.Runtime;
using SketchService.Inference.Strokes;

namespace SketchService.Api.Models;

/// <summary>
/// What to decode, in model space: a prefix to prime over (shared by all samples), one z shared by all samples or
/// one per sample (VAE) or none (decoder-only), and the sampling settings.
/// </summary>
public sealed record DecodeJob(StrokePoint[]? Prefix, IReadOnlyList<float[]>? Z, int Samples, double Temperature, int Seed, int MaxSteps);

/// <summary>The generated points of every sample (prefix and end point excluded), steps run and whether each ended by itself.</summary>
public sealed record DecodeOutcome(StrokePoint[][] Generated, int[] Steps, bool[] Ended, TimeSpan Duration);

/// <summary>Extensions over a posterior.</summary>
public static class LatentCodeExtensions
{
    /// <summary>z = mu + sigma·ε with ε ~ N(0, I) drawn from <paramref name="seed"/>.</summary>
    public static float[] Sample(this LatentCode code, int seed)
    {
        var eps = LatentMath.SamplePrior(code.Mu.Length, new Random(seed));
        return [.. code.Mu.Select((m, i) => m + code.Sigma[i] * eps[i])];
    }
}

/// <summary>
/// The service's use of the runtime: batched encoding, and decoding on a worker thread with an optional per-step
/// callback (for Server-Sent Events). Counts decoder steps and running decodes (<see cref="StepsDecoded"/>,
/// <see cref="ActiveDecodes"/>; also as the "sketchservice" meter) so tests and operators can see a cancelled run stop.
/// </summary>
public sealed class SketchEngine
{
    public static readonly Meter Meter = new("SketchService");
    private static readonly Counter<long> StepCounter = Meter.CreateCounter<long>("sketchservice.decoder.steps", description: "Decoder steps run (one per batch step)");
    private long _steps;
    private int _active;

    public long StepsDecoded => Interlocked.Read(ref _steps);
    public int ActiveDecodes => Volatile.Read(ref _active);

    public IReadOnlyList<LatentCode> Encode(LoadedModel model, IReadOnlyList<StrokePoint[]> sketches) => model.Runtime.Encode(sketches);

    public Task<DecodeOutcome> DecodeAsync(LoadedModel model, DecodeJob job, Action<DecodeStep>? onStep, CancellationToken ct) =>
        Task.Factory.StartNew(() => Decode(model, job, onStep, ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public DecodeOutcome Decode(LoadedModel model, DecodeJob job, Action<DecodeStep>? onStep, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        Interlocked.Increment(ref _active);
        try
        {
            IReadOnlyList<float[]>? z = job.Z is null ? null
                : job.Z.Count == job.Samples ? job.Z
                : job.Z.Count == 1 ? [.. Enumerable.Repeat(job.Z[0], job.Samples)]
                : throw new ArgumentException($"{job.Z.Count} latent codes for {job.Samples} samples");
            using var decoder = new SketchDecoder(model.Runtime, new DecodeOptions
            {
                Samples = job.Samples,
                Temperature = (float)job.Temperature,
                MaxSteps = job.MaxSteps,
                Seed = job.Seed,
                Z = z,
                Prefix = job.Prefix,
            }, ct);
            var points = Enumerable.Range(0, job.Samples).Select(_ => new List<StrokePoint>()).ToArray();
            var steps = new int[job.Samples];
            while (!decoder.IsFinished)
            {
                var index = decoder.StepIndex;
                var step = decoder.Next(ct);
                Interlocked.Increment(ref _steps);
                StepCounter.Add(1);
                foreach (var p in step)
                {
                    steps[p.Sample]++;
                    if (p.Pen != PenState.End) points[p.Sample].Add(new StrokePoint(p.Dx, p.Dy, p.Pen == PenState.Up));
                }
                onStep?.Invoke(new DecodeStep(index, step.ToArray()));
            }
            return new DecodeOutcome([.. points.Select(p => p.ToArray())], steps,
                [.. Enumerable.Range(0, job.Samples).Select(decoder.HasEnded)], clock.Elapsed);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }
}
