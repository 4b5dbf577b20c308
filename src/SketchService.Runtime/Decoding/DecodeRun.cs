using System.Diagnostics;
using System.Threading.Channels;
using SketchService.Core.Strokes;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// One request being decoded: its samples are rows of a <see cref="DecodeBatch"/>, all in step with each other.
/// The first ticks prime the rows with S0 and the prefix (teacher forcing: the next input is the given point, the
/// output is unused); every later tick samples a point per running sample, which becomes its next input. A sample
/// ends when it draws pen state "end" (reported, so a stream can say so, but not part of the sketch, as in Magenta's
/// to_normal_strokes; drawn more readily near the model's max_seq_len, <see cref="MixtureSampler.EndBias"/>) or after
/// <see cref="MaxSteps"/> points. The run has its own sampler, drawn from in sample order
/// every tick, so a seed gives the same sketches whatever else shares the batch.
/// </summary>
public sealed class DecodeRun
{
    private readonly StrokePoint[] prefix;
    private readonly MixtureSampler sampler;
    private readonly float temperature;
    private readonly int maxSeqLen;
    private readonly List<StrokePoint>[] points;
    private readonly int[] steps;
    private readonly bool[] ended;
    private readonly float[] penX, penY;
    private readonly DecodedPoint[] stepPoints;
    private readonly Channel<DecodeStep>? stream;
    private readonly TaskCompletionSource<DecodeResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int primed, running, lastCount;
    private long startedAt;

    /// <param name="stream">Whether every step is also written to <see cref="Steps"/> as it is decoded.</param>
    /// <param name="deadline">When the run must be over, waiting included.</param>
    public DecodeRun(SketchModel model, DecodeOptions options, bool stream = false, Deadline? deadline = null, CancellationToken cancellationToken = default)
    {
        // The model's own contract, whoever calls: the service's request policy has already said why in its terms.
        var m = model.Manifest;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Samples, 1, nameof(options.Samples));
        if (!(options.Temperature >= 0) || float.IsInfinity(options.Temperature))
            throw new ArgumentOutOfRangeException(nameof(options), options.Temperature, "temperature must be a finite number ≥ 0");
        MaxSteps = options.MaxSteps ?? m.MaxSeqLen;
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSteps, 1, nameof(options.MaxSteps));
        if (options.ZFromPrefix && (!m.IsVae || options.Z is not null || options.Prefix is not { Count: > 0 }))
            throw new ArgumentException("z from the prefix needs a vae, a prefix and no z given", nameof(options));
        if (options.ZCandidates is { } candidates
            && (!m.IsVae || options.Z is not null || options.ZFromPrefix || options.Prefix is not { Count: > 0 } || candidates.Count == 0 || candidates.Any(c => c.Length != m.LatentSize)))
            throw new ArgumentException($"z among candidates needs a vae, a prefix, no z given or encoded, and candidates of {m.LatentSize} numbers", nameof(options));
        if (m.IsVae != (options.Z is not null || options.ZFromPrefix || options.ZCandidates is not null))
            throw new ArgumentException(m.IsVae ? $"{model.Id} is a vae: give one z, or one per sample" : $"{model.Id} is decoder-only: it takes no z", nameof(options));
        if (options.Z is { } z)
        {
            if (z.Count != 1 && z.Count != options.Samples) throw new ArgumentException($"{z.Count} latent codes for {options.Samples} samples", nameof(options));
            if (z.Any(v => v.Length != m.LatentSize)) throw new ArgumentException($"latent codes have {m.LatentSize} numbers", nameof(options));
            RowZ = z.Count == options.Samples ? z : [.. Enumerable.Repeat(z[0], options.Samples)];
        }

        Options = options;
        Samples = options.Samples;
        Seed = options.Seed ?? Random.Shared.Next();
        CancellationToken = cancellationToken;
        SubmittedAt = Stopwatch.GetTimestamp();
        Deadline = deadline ?? Deadline.None;
        prefix = [.. options.Prefix ?? []];
        sampler = new MixtureSampler(Seed);
        temperature = options.Temperature;
        maxSeqLen = m.MaxSeqLen;
        // Room for a typical sketch up front, so sampling allocates nothing until a sketch outgrows it.
        points = [.. Enumerable.Range(0, Samples).Select(_ => new List<StrokePoint>(Math.Min(MaxSteps, 256)))];
        steps = new int[Samples];
        ended = new bool[Samples];
        float startX = 0, startY = 0;
        foreach (var p in prefix) { startX += p.Dx; startY += p.Dy; }
        penX = [.. Enumerable.Repeat(startX, Samples)];
        penY = [.. Enumerable.Repeat(startY, Samples)];
        stepPoints = new DecodedPoint[Samples];
        RowOf = [.. Enumerable.Repeat(-1, Samples)];
        running = Samples;
        if (stream) this.stream = Channel.CreateUnbounded<DecodeStep>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    }

    public DecodeOptions Options { get; }

    /// <summary>The seed in use: reported so a random run can be repeated.</summary>
    public int Seed { get; }

    public int Samples { get; }

    public int MaxSteps { get; }

    /// <summary>Points generated so far per sample (the index of the next step).</summary>
    public int StepIndex { get; private set; }

    /// <summary>Rows this run occupies while it runs: one per sample.</summary>
    public int Rows => Samples;

    public CancellationToken CancellationToken { get; }

    /// <summary>Every step as it is decoded (only for a run made with stream: true); completes when the run does.</summary>
    public ChannelReader<DecodeStep> Steps => stream?.Reader ?? throw new InvalidOperationException("this run was not made to stream its steps");

    /// <summary>The finished sketches; faults with <see cref="OperationCanceledException"/> (cancelled), <see cref="DeadlineExceededException"/> or the decoding error.</summary>
    public Task<DecodeResult> Result => completion.Task;

    public bool IsCompleted => completion.Task.IsCompleted;

    /// <summary>The points of the last sampling tick (reused by the next one).</summary>
    public ReadOnlySpan<DecodedPoint> LastStep => stepPoints.AsSpan(0, lastCount);

    internal long SubmittedAt { get; }

    public Deadline Deadline { get; }

    /// <summary>Whether the run still waits for its z (<see cref="DecodeOptions.ZFromPrefix"/>, <see cref="DecodeOptions.ZCandidates"/>).</summary>
    public bool NeedsZ => RowZ is null && (Options.ZFromPrefix || Options.ZCandidates is not null);

    /// <summary>The sketch z is found from (<see cref="DecodeOptions.ZFromPrefix"/>, <see cref="DecodeOptions.ZCandidates"/>).</summary>
    internal StrokePoint[] Prefix => prefix;

    /// <summary>Set when the first point is sampled: for time-to-first-point.</summary>
    internal long FirstPointAt { get; private set; }

    /// <summary>The batch row of each sample; -1 before it joins and after it leaves.</summary>
    internal int[] RowOf { get; }

    /// <summary>The z of each row (VAE) or null.</summary>
    internal IReadOnlyList<float[]>? RowZ { get; private set; }

    /// <summary>Sets every sample's z, found from the prefix (its encoding, or the candidate it makes most likely), before the run takes rows.</summary>
    internal void UseZ(float[] z) => RowZ = [.. Enumerable.Repeat(z, Samples)];

    /// <summary>Why the run must stop now (its client went away, or its deadline passed), or null.</summary>
    internal Exception? StoppedBy(long now) =>
        CancellationToken.IsCancellationRequested ? new OperationCanceledException(CancellationToken)
        : Deadline.HasPassed(now) ? new DeadlineExceededException(Deadline.Length!.Value)
        : null;

    internal void Started() => startedAt = Stopwatch.GetTimestamp();

    /// <summary>
    /// After a decoder step: primes the next prefix point, or samples a point for every running sample (in sample
    /// order) and writes it as that row's next input. Samples that end are appended to <paramref name="leaving"/>.
    /// Returns whether the run is finished.
    /// </summary>
    internal bool Advance(DecoderState state, List<(DecodeRun Run, int Sample)> leaving)
    {
        lastCount = 0;
        if (primed < prefix.Length)
        {
            var p = PenPoint.From(prefix[primed++]);
            foreach (var row in RowOf) p.WriteStroke5(state.InputOf(row));
            return false;
        }
        if (FirstPointAt == 0) FirstPointAt = Stopwatch.GetTimestamp();
        bool last = StepIndex + 1 >= MaxSteps;
        for (int s = 0; s < Samples; s++)
        {
            if (ended[s]) continue;
            int row = RowOf[s];
            var p = sampler.Sample(state.ParamsOf(row), temperature, MixtureSampler.EndBias(prefix.Length + points[s].Count, prefix.Length, maxSeqLen));
            if (!float.IsFinite(p.Dx) || !float.IsFinite(p.Dy))
                throw new NonFiniteOutputException($"the model produced a non-finite point at step {StepIndex} of sample {s}: its input (sketch or z) is out of the range it can continue");
            p.WriteStroke5(state.InputOf(row));
            steps[s]++;
            if (p.Pen == PenState.End)
            {
                ended[s] = true;
                running--;
                leaving.Add((this, s));
            }
            else
            {
                points[s].Add(p.ToStrokePoint());
                penX[s] += p.Dx;
                penY[s] += p.Dy;
                if (last) leaving.Add((this, s));
            }
            stepPoints[lastCount++] = new DecodedPoint(s, p.Dx, p.Dy, p.Pen, penX[s], penY[s]);
        }
        stream?.Writer.TryWrite(new DecodeStep(StepIndex, stepPoints[..lastCount]));
        StepIndex++;
        return running == 0 || last;
    }

    /// <summary>
    /// Run once, just before the run's end is seen (its stream or its result): its owner gives back what the run held
    /// there, so whoever awaits the end may ask again at once.
    /// </summary>
    internal Action? Ending;

    private void End() => Interlocked.Exchange(ref Ending, null)?.Invoke();

    internal void Complete()
    {
        End();
        var now = Stopwatch.GetTimestamp();
        var sketches = Enumerable.Range(0, Samples).Select(s => new DecodedSketch([.. points[s]], steps[s], ended[s])).ToArray();
        var queued = Stopwatch.GetElapsedTime(SubmittedAt, startedAt == 0 ? now : startedAt);
        var duration = startedAt == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(startedAt, now);
        stream?.Writer.TryComplete();
        completion.TrySetResult(new DecodeResult(Seed, sketches, RowZ, queued, duration));
    }

    internal void Fail(Exception error)
    {
        End();
        stream?.Writer.TryComplete(error);
        completion.TrySetException(error);
    }
}

/// <summary>The model's output went non-finite for this run's input (e.g. a z far outside the prior); the run is stopped.</summary>
public sealed class NonFiniteOutputException(string message) : Exception(message);
