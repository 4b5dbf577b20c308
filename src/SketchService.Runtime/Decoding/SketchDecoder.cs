using SketchService.Runtime.Models;
namespace SketchService.Runtime.Decoding;

/// <summary>
/// One run decoded on the caller's thread: a <see cref="DecodeBatch"/> holding only it. For tools and tests (the
/// trainer's pictures, the warm-up, benchmarks); the service batches runs in its <see cref="Scheduling.ModelScheduler"/>.
/// Construction primes the decoder with S0 and the prefix; each <see cref="Next"/> then samples one point per
/// running sample. Produces exactly what the same run gives in a shared batch.
/// </summary>
public sealed class SketchDecoder : IDisposable
{
    private readonly DecodeBatch batch;
    private readonly DecodeRun run;

    public SketchDecoder(SketchModel model, DecodeOptions options, CancellationToken cancellationToken = default)
    {
        run = new DecodeRun(model, options);
        if (run.NeedsZ) // the start of a drawing, to be completed
            run.UseZ(options.ZCandidates is { } candidates ? candidates[LatentSelection.MostLikely(model, run.Prefix, candidates)!.Value] : model.Encode([run.Prefix], [true])[0].Mu);
        batch = new DecodeBatch(model, run.Samples);
        try
        {
            batch.Add(run);
            foreach (var _ in options.Prefix ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                batch.Step();
            }
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    /// <summary>The seed in use: reported so a random run can be repeated.</summary>
    public int Seed => run.Seed;

    /// <summary>Points generated so far per sample (the index of the next step).</summary>
    public int StepIndex => run.StepIndex;

    public bool IsFinished => run.IsCompleted;

    /// <summary>
    /// Runs one step: the new point of every still-running sample, in sample order; empty once finished. The span is
    /// reused by the next call. Throws <see cref="OperationCanceledException"/> before stepping if cancelled.
    /// </summary>
    public ReadOnlySpan<DecodedPoint> Next(CancellationToken cancellationToken = default)
    {
        if (IsFinished) return [];
        cancellationToken.ThrowIfCancellationRequested();
        batch.Step();
        if (run.Result.IsFaulted) run.Result.GetAwaiter().GetResult(); // the run failed alone (e.g. a non-finite point): say so
        return run.LastStep;
    }

    /// <summary>The run step by step; cancellation is checked before every step.</summary>
    public IEnumerable<DecodeStep> Steps(CancellationToken cancellationToken = default)
    {
        while (!IsFinished)
        {
            int index = StepIndex;
            var step = Next(cancellationToken).ToArray();
            yield return new DecodeStep(index, step);
        }
    }

    /// <summary>Decodes whole sketches: one per sample, in order.</summary>
    public static IReadOnlyList<DecodedSketch> Decode(SketchModel model, DecodeOptions options, CancellationToken cancellationToken = default)
    {
        using var decoder = new SketchDecoder(model, options, cancellationToken);
        while (!decoder.IsFinished) decoder.Next(cancellationToken);
        return decoder.run.Result.GetAwaiter().GetResult().Sketches;
    }

    public void Dispose() => batch.Dispose();
}
