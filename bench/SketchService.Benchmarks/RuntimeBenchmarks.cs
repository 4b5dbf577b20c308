using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Export;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Benchmarks;

/// <summary>
/// The service's hot paths at the default sizes (encoder 256, decoder 512, z 128, M 20) on random weights, with the
/// ORT options the service uses (one intra-op thread). In-process and short so the whole run takes a few minutes.
/// </summary>
[Config(typeof(ShortConfig))]
[MemoryDiagnoser]
public class RuntimeBenchmarks
{
    private const int EncoderSize = 256, DecoderSize = 512, LatentSize = 128, Mixtures = 20, Points = 250;

    private string folder = "";
    private SketchModel model = null!;
    private float[] z = [];
    private StrokePoint[][] sketch = [];
    private DecoderState state = null!, state64 = null!;
    private SketchDecoder running = null!;
    private DecodeBatch batch64 = null!;
    private DecoderState scoring = null!;
    private LatentSelection.Choice[] choices = [];

    private sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
            AddColumn(StatisticColumn.P50, StatisticColumn.P95);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        folder = Directory.CreateTempSubdirectory("sketch-bench-").FullName;
        var rng = new Random(1);
        var weights = RandomWeights(rng);
        // Pen "end" made impossible, so a completion always runs the full 250 steps.
        weights.Output.Bias[2] = -100;
        ModelWriter.Write(folder, weights, new ModelManifest
        {
            Name = "bench", Kind = ModelKind.Vae, DecoderSize = DecoderSize, Mixtures = Mixtures, ScaleFactor = 1, MaxSeqLen = Points,
        });
        model = SketchModel.Load(folder, new InferenceOptions());
        z = [.. Enumerable.Range(0, LatentSize).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        sketch = [[.. Enumerable.Range(0, Points).Select(i => new StrokePoint((float)rng.NextDouble() - 0.5f, (float)rng.NextDouble() - 0.5f, i % 25 == 24))]];
        state = model.CreateDecoder(1, [z]);
        StrokeFormats.StartToken.CopyTo(state.Input);
        running = NewRun();
        state64 = model.CreateDecoder(64, [.. Enumerable.Repeat(z, 64)]);
        batch64 = new DecodeBatch(model, 64);
        // Four /complete requests' 5-point prefixes, 16 candidate z's each, as the encoder lane scores them.
        choices = [.. Enumerable.Range(0, 4).Select(_ => new LatentSelection.Choice(
            [.. Enumerable.Range(0, 5).Select(i => new StrokePoint((float)rng.NextDouble() - 0.5f, (float)rng.NextDouble() - 0.5f, i == 4))],
            [.. Enumerable.Range(0, LatentSelection.Candidates).Select(_ => Enumerable.Range(0, LatentSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray())]))];
        scoring = model.CreateDecoder(64, [.. choices.SelectMany(c => c.Candidates)]);
    }

    /// <summary>A lone run (batch of one row), restarted every 250 points: what one client's stream costs per point.</summary>
    private SketchDecoder NewRun() => new(model, new DecodeOptions { Temperature = 0.5f, Z = [z], MaxSteps = Points, Seed = 1 });

    [GlobalCleanup]
    public void Cleanup()
    {
        running.Dispose();
        batch64.Dispose();
        scoring.Dispose();
        state64.Dispose();
        state.Dispose();
        model.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>One decoder_step run at batch 1 (LSTM cell + output layer), no sampling.</summary>
    [Benchmark]
    public float DecoderStep() => state.Step()[0];

    /// <summary>
    /// One tick of a lone run in a <see cref="DecodeBatch"/>: decoder step, mixture sampling, the point fed back and
    /// collected. Against <see cref="DecoderStep"/>, what batching's bookkeeping costs a lone stream.
    /// </summary>
    [Benchmark]
    public int SampledStep()
    {
        if (running.IsFinished)
        {
            running.Dispose();
            running = NewRun();
        }
        return running.Next().Length;
    }

    /// <summary>One decoder_step run at batch 64, no sampling.</summary>
    [Benchmark]
    public float DecoderStep64() => state64.Step()[0];

    /// <summary>One tick of a batch of 64 one-sample runs: step, 64 samples, rows leaving and joining as runs end (250 points each).</summary>
    [Benchmark]
    public int BatchTick64()
    {
        while (batch64.FreeRows > 0) batch64.Add(new DecodeRun(model, new DecodeOptions { Temperature = 0.5f, Z = [z], MaxSteps = Points, Seed = batch64.FreeRows }));
        return batch64.Step().Count;
    }

    /// <summary>A whole request: decoder state from z, 250 sampled steps, the sketch collected.</summary>
    [Benchmark]
    public int Completion250Steps() =>
        SketchDecoder.Decode(model, new DecodeOptions { Z = [z], MaxSteps = Points, Temperature = 0.5f, Seed = 2 })[0].Points.Length;

    /// <summary>Scoring 4 prefixes of 5 points against 16 candidate z's each (64 rows) on the decoder state the encoder lane keeps.</summary>
    [Benchmark]
    public int? ScoreCandidates64() => LatentSelection.MostLikely(scoring, choices)[0];

    /// <summary>The same on a new decoder state each time, as before the lane kept one.</summary>
    [Benchmark]
    public int? ScoreCandidates64NewState() => LatentSelection.MostLikely(model, choices)[0];

    /// <summary>Encoding one 250-point sketch to (μ, σ).</summary>
    [Benchmark]
    public float Encode250Points() => model.Encode(sketch)[0].Mu[0];

    private static SketchRnnWeights RandomWeights(Random rng)
    {
        float[] Values(int n, float scale) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale)];
        LstmWeights Lstm(int input, int hidden) =>
            new(input, hidden, Values(4 * hidden * input, 0.1f), Values(4 * hidden * hidden, 0.05f), Values(4 * hidden, 0.1f), Values(4 * hidden, 0.1f));
        LinearWeights Linear(int input, int output) => new(input, output, Values(output * input, 0.05f), Values(output, 0.1f));
        return new SketchRnnWeights(
            new EncoderWeights(Lstm(5, EncoderSize), Lstm(5, EncoderSize), Linear(2 * EncoderSize, LatentSize), Linear(2 * EncoderSize, LatentSize)),
            Linear(LatentSize, 2 * DecoderSize),
            Lstm(5 + LatentSize, DecoderSize),
            Linear(DecoderSize, 6 * Mixtures + 3));
    }
}
