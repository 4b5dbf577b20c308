using SketchService.Inference.Strokes;

namespace SketchService.Inference.Runtime;

/// <summary>What to decode. Coordinates are in model space (pixels / scale_factor).</summary>
public sealed record DecodeOptions
{
    /// <summary>How many sketches to draw at once (one batch).</summary>
    public int Samples { get; init; } = 1;

    /// <summary>τ: 0 is greedy, 1 samples the model's own distribution, lower is tidier.</summary>
    public float Temperature { get; init; } = 0.5f;

    /// <summary>The most points to generate per sample (the prefix not counted); default the model's max_seq_len.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Same seed, model and options → same sketches. Null picks one at random (see <see cref="SketchDecoder.Seed"/>).</summary>
    public int? Seed { get; init; }

    /// <summary>One latent code per sample for a VAE (e.g. an encoding, or a draw from the prior); null for decoder-only.</summary>
    public IReadOnlyList<float[]>? Z { get; init; }

    /// <summary>A start to continue: fed through the decoder after S0 as given (teacher-forced), shared by all samples.</summary>
    public IReadOnlyList<StrokePoint>? Prefix { get; init; }
}

/// <summary>A new point of one sample. A point with <see cref="PenState.End"/> ends that sample and is not drawn.</summary>
public readonly record struct DecodedPoint(int Sample, float Dx, float Dy, PenState Pen);

/// <summary>All new points of one step; ended samples no longer appear.</summary>
public sealed record DecodeStep(int Index, DecodedPoint[] Points);

/// <summary>A finished sample: its generated points (prefix and end point excluded) and whether it ended by itself.</summary>
public sealed record DecodedSketch(StrokePoint[] Points, bool Ended);

/// <summary>
/// The sampling loop of one request. Construction primes the decoder: S0 and then the prefix points go in as inputs,
/// outputs unused. Each <see cref="Next"/> then runs one decoder step and samples a point for every still-running
/// sample, which becomes its next input. A sample ends when it draws pen state "end" (p3): that point is reported,
/// so a stream can say so, but is not part of the sketch, as in Magenta's to_normal_strokes. The run is over when
/// every sample has ended or <see cref="MaxSteps"/> points were generated. Steady-state steps allocate nothing.
/// </summary>
public sealed class SketchDecoder : IDisposable
{
    private readonly DecoderState state;
    private readonly MixtureSampler sampler;
    private readonly float temperature;
    private readonly bool[] ended;
    private readonly DecodedPoint[] points;
    private int running;

    public SketchDecoder(SketchModel model, DecodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Samples, 1, nameof(options.Samples));
        if (!(options.Temperature >= 0) || float.IsInfinity(options.Temperature))
            throw new ArgumentOutOfRangeException(nameof(options), options.Temperature, "temperature must be a finite number ≥ 0");
        MaxSteps = options.MaxSteps ?? model.Manifest.MaxSeqLen;
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSteps, 1, nameof(options.MaxSteps));

        Seed = options.Seed ?? Random.Shared.Next();
        sampler = new MixtureSampler(Seed);
        temperature = options.Temperature;
        ended = new bool[options.Samples];
        points = new DecodedPoint[options.Samples];
        running = options.Samples;
        state = model.CreateDecoder(options.Samples, options.Z);
        try
        {
            var start = StrokeFormats.StartToken;
            for (int s = 0; s < options.Samples; s++) start.CopyTo(state.Input.Slice(s * 5, 5));
            foreach (var p in options.Prefix ?? [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                state.Step();
                for (int s = 0; s < options.Samples; s++) PenPoint.From(p).WriteStroke5(state.Input.Slice(s * 5, 5));
            }
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    /// <summary>The seed in use: reported so a random run can be repeated.</summary>
    public int Seed { get; }

    public int Samples => ended.Length;

    public int MaxSteps { get; }

    /// <summary>Points generated so far per sample (the index of the next step).</summary>
    public int StepIndex { get; private set; }

    public bool IsFinished => running == 0 || StepIndex >= MaxSteps;

    public bool HasEnded(int sample) => ended[sample];

    /// <summary>
    /// Runs one step: the new point of every still-running sample, in sample order; empty once finished. The span is
    /// reused by the next call. Throws <see cref="OperationCanceledException"/> before stepping if cancelled.
    /// </summary>
    public ReadOnlySpan<DecodedPoint> Next(CancellationToken cancellationToken = default)
    {
        if (IsFinished) return [];
        cancellationToken.ThrowIfCancellationRequested();
        state.Step();
        int count = 0;
        for (int s = 0; s < ended.Length; s++)
        {
            if (ended[s]) continue;
            var p = sampler.Sample(state.ParamsOf(s), temperature);
            // Ended samples keep riding along in the batch; their rows are simply never read again.
            p.WriteStroke5(state.Input.Slice(s * 5, 5));
            if (p.Pen == PenState.End)
            {
                ended[s] = true;
                running--;
            }
            points[count++] = new DecodedPoint(s, p.Dx, p.Dy, p.Pen);
        }
        StepIndex++;
        return points.AsSpan(0, count);
    }

    /// <summary>The run step by step, for streaming; cancellation is checked before every step.</summary>
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
        var sketches = Enumerable.Range(0, options.Samples).Select(_ => new List<StrokePoint>()).ToArray();
        while (!decoder.IsFinished)
        {
            foreach (var p in decoder.Next(cancellationToken))
                if (p.Pen != PenState.End) sketches[p.Sample].Add(new StrokePoint(p.Dx, p.Dy, p.Pen == PenState.Up));
        }
        return [.. sketches.Select((points, s) => new DecodedSketch([.. points], decoder.HasEnded(s)))];
    }

    public void Dispose() => state.Dispose();
}
