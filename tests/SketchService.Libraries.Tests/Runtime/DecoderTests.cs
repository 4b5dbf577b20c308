using SketchService.Libraries.Tests.Onnx;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Libraries.Tests.Runtime;

public sealed class DecoderTests
{
    private const int E = 6, H = 7, Z = 4, M = 2, P = 6 * M + 3;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Stepping_matches_the_reference(bool vae)
    {
        var w = TestWeights.Random(11, vae, E, H, Z, M);
        using var loaded = TestModels.Load(w);
        var model = loaded.Model;
        const int batch = 3;
        var rng = new Random(12);
        float[][]? z = vae ? [.. Enumerable.Range(0, batch).Select(_ => TestWeights.Values(rng, Z, 2f))] : null;
        using var state = model.CreateDecoder(batch, z);

        var h = new float[batch][];
        var c = new float[batch][];
        for (int b = 0; b < batch; b++)
            (h[b], c[b]) = vae ? TorchReference.Init(w.Init!, z![b]) : (new float[H], new float[H]);
        var parity = new Parity($"decoder step ({(vae ? "vae" : "decoder-only")}, B={batch}, 20 steps)");
        for (int b = 0; b < batch; b++) parity.Add(h[b], Parity.Row(state.H.ToArray(), b, H)).Add(c[b], Parity.Row(state.C.ToArray(), b, H));

        for (int step = 0; step < 20; step++)
        {
            var x = Enumerable.Range(0, batch).Select(_ => TestWeights.Point(rng)).ToArray();
            var actual = state.Step([.. x.SelectMany(p => p)]).ToArray();
            for (int b = 0; b < batch; b++)
            {
                // The reference runs its own recurrence: any drift would compound and show.
                (var expected, h[b], c[b]) = TorchReference.Step(w, x[b], z?[b], h[b], c[b]);
                parity.Add(expected, Parity.Row(actual, b, P))
                    .Add(h[b], Parity.Row(state.H.ToArray(), b, H))
                    .Add(c[b], Parity.Row(state.C.ToArray(), b, H));
            }
        }
        parity.Check();
    }

    [Fact]
    public void Encode_matches_the_reference_with_sigma_from_presig()
    {
        var w = TestWeights.Random(13, vae: true, E, H, Z, M);
        using var loaded = TestModels.Load(w);
        var model = loaded.Model;
        var rng = new Random(14);
        var sketches = new[] { 9, 3, 1 }.Select(n => Enumerable.Range(0, n).Select(_ => new StrokePoint((float)rng.NextDouble() * 2 - 1, (float)rng.NextDouble(), rng.Next(3) == 0)).ToArray()).ToArray();

        var codes = model.Encode(sketches);
        var parity = new Parity("encode B=3");
        for (int b = 0; b < sketches.Length; b++)
        {
            var (mu, presig) = TorchReference.Encode(w.Encoder!, StrokeFormats.ToStroke5(sketches[b]));
            parity.Add(mu, codes[b].Mu).Add([.. presig.Select(p => MathF.Exp(p / 2))], codes[b].Sigma);
        }
        parity.Check();
        Assert.Throws<ArgumentException>(() => model.Encode([[]]));
    }

    [Fact]
    public void Stepping_allocates_no_managed_memory()
    {
        var w = TestWeights.Random(15, vae: true, E, H, Z, M);
        // The pen's "down" logit raised so that the run outlasts the windows: random weights end a sketch within a few steps.
        var bias = (float[])w.Output.Bias.Clone();
        bias[0] += 20;
        using var loaded = TestModels.Load(w with { Output = w.Output with { Bias = bias } });
        var model = loaded.Model;
        using var decoder = new SketchDecoder(model, new DecodeOptions { Samples = 2, Z = [new float[Z], new float[Z]], MaxSteps = 1000, Temperature = 0.2f, Seed = 1 }, Ct);
        for (int i = 0; i < 10; i++) decoder.Next(Ct);

        // Windows of 20 steps (all within the points' initial room of 256): the runtime's own one-off work (tiered JIT
        // promotion) can land in any one window, so steady state means a window that allocates nothing.
        var windows = new List<long>();
        for (int k = 0; k < 5 && !decoder.IsFinished; k++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) decoder.Next(Ct);
            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(windows.Count >= 2, $"the run finished after {windows.Count} windows");
        Assert.Equal(0, windows.Min());
    }

    [Fact]
    public void Greedy_decoding_gives_the_most_likely_mean_and_pen_every_step()
    {
        using var loaded = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 1, up: 3, end: -2), vae: true), maxSeqLen: 12);
        var model = loaded.Model;
        var sketches = SketchDecoder.Decode(model, new DecodeOptions { Samples = 2, Temperature = 0, Z = [new float[4], new float[4]] }, Ct);
        foreach (var s in sketches)
        {
            Assert.False(s.Ended);
            Assert.Equal(12, s.Points.Length);
            Assert.All(s.Points, p => Assert.Equal(new StrokePoint(1.5f, -0.5f, true), p));
        }
    }

    [Fact]
    public void End_of_sketch_ends_a_sample_without_its_point()
    {
        using var loaded = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 0, up: 0, end: 5)));
        var model = loaded.Model;
        using var decoder = new SketchDecoder(model, new DecodeOptions { Samples = 2, Temperature = 0 }, Ct);
        var first = decoder.Next(Ct).ToArray();
        Assert.Equal([new DecodedPoint(0, 1.5f, -0.5f, PenState.End, 0, 0), new DecodedPoint(1, 1.5f, -0.5f, PenState.End, 0, 0)], first);
        Assert.True(decoder.IsFinished);
        Assert.True(decoder.Next(Ct).IsEmpty);

        var sketches = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0 }, Ct);
        Assert.True(sketches[0].Ended);
        Assert.Empty(sketches[0].Points);
    }

    [Fact]
    public void Ended_samples_stop_producing_while_others_run()
    {
        // Pen: end with probability ~1/2 at τ = 1, so samples end at different steps.
        using var loaded = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 0, up: -10, end: 0)), maxSeqLen: 200);
        var model = loaded.Model;
        using var decoder = new SketchDecoder(model, new DecodeOptions { Samples = 8, Temperature = 1, Seed = 5 }, Ct);
        var seen = new HashSet<int>();
        var ends = new List<int>();
        foreach (var step in decoder.Steps(Ct))
            foreach (var p in step.Points)
            {
                Assert.DoesNotContain(p.Sample, ends);
                if (p.Pen == PenState.End) ends.Add(p.Sample);
            }
        Assert.Equal(8, ends.Count);
        Assert.True(decoder.StepIndex > 1);
    }

    [Fact]
    public void Same_seed_same_sketches_different_seed_different()
    {
        using var loaded = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 3, up: 1, end: -8)), maxSeqLen: 30);
        var model = loaded.Model;
        IReadOnlyList<DecodedSketch> Run(int seed) => SketchDecoder.Decode(model, new DecodeOptions { Samples = 3, Temperature = 0.8f, Seed = seed }, Ct);
        var a = Run(1);
        var b = Run(1);
        var other = Run(2);
        for (int s = 0; s < 3; s++)
        {
            Assert.Equal(a[s].Points, b[s].Points);
            Assert.NotEqual(a[s].Points, other[s].Points);
        }
        Assert.NotEqual(a[0].Points, a[1].Points);

        using var random = new SketchDecoder(model, new DecodeOptions { Temperature = 0.5f });
        Assert.Equal(SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, Seed = random.Seed }, Ct)[0].Points, SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, Seed = random.Seed }, Ct)[0].Points);
    }

    [Fact]
    public void Prefix_priming_equals_stepping_through_it_with_the_reference()
    {
        var w = TestWeights.Random(16, vae: true, E, H, Z, M);
        using var loaded = TestModels.Load(w);
        var model = loaded.Model;
        var rng = new Random(17);
        var z = TestWeights.Values(rng, Z, 1.5f);
        var prefix = Enumerable.Range(0, 6).Select(i => new StrokePoint((float)rng.NextDouble() - 0.5f, (float)rng.NextDouble() - 0.5f, i == 2)).ToArray();
        var decoded = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0, Z = [z], Prefix = prefix, MaxSteps = 15 }, Ct)[0];

        // The reference: S0 and the prefix teacher-forced, then greedy choices fed back.
        var (h, c) = TorchReference.Init(w.Init!, z);
        float[] x = StrokeFormats.StartToken;
        foreach (var p in prefix)
        {
            (_, h, c) = TorchReference.Step(w, x, z, h, c);
            x = [p.Dx, p.Dy, p.PenLifted ? 0 : 1, p.PenLifted ? 1 : 0, 0];
        }
        var expected = new List<StrokePoint>();
        for (int step = 0; step < 15; step++)
        {
            (var y, h, c) = TorchReference.Step(w, x, z, h, c);
            int pen = ArgMax(y.AsSpan(0, 3)), k = ArgMax(y.AsSpan(3, M));
            if (pen == 2) break;
            expected.Add(new StrokePoint(y[3 + M + k], y[3 + 2 * M + k], pen == 1));
            x = [y[3 + M + k], y[3 + 2 * M + k], pen == 0 ? 1 : 0, pen == 1 ? 1 : 0, 0];
        }
        Assert.Equal(expected.Count, decoded.Points.Length);
        var parity = new Parity("greedy after a 6-point prefix vs reference", 1e-4f);
        parity.Add([.. expected.SelectMany(p => new[] { p.Dx, p.Dy })], [.. decoded.Points.SelectMany(p => new[] { p.Dx, p.Dy })]).Check();
        Assert.Equal(expected.Select(p => p.PenLifted), decoded.Points.Select(p => p.PenLifted));
    }

    [Fact]
    public void Prefix_priming_equals_stepping_through_it_manually_when_sampling()
    {
        var w = TestWeights.Random(18, vae: false, E, H, Z, M);
        using var loaded = TestModels.Load(w);
        var model = loaded.Model;
        StrokePoint[] prefix = [new(0.3f, -0.2f, false), new(0.1f, 0.4f, true), new(-0.5f, 0, false)];
        var decoded = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.7f, Prefix = prefix, MaxSteps = 10, Seed = 99 }, Ct)[0];

        using var state = model.CreateDecoder(1);
        var sampler = new MixtureSampler(99);
        float[] x = StrokeFormats.StartToken;
        foreach (var p in prefix)
        {
            state.Step(x);
            PenPoint.From(p).WriteStroke5(x);
        }
        var expected = new List<StrokePoint>();
        for (int step = 0; step < 10; step++)
        {
            var point = sampler.Sample(state.Step(x), 0.7f);
            if (point.Pen == PenState.End) break;
            expected.Add(point.ToStrokePoint());
            point.WriteStroke5(x);
        }
        Assert.Equal(expected, decoded.Points);
    }

    [Fact]
    public void A_drawing_that_would_never_end_ends_soon_after_nine_tenths_of_max_seq_len()
    {
        // End logit −20 against 5 for "down": unpushed, no run would ever draw the end.
        using var loaded = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 5, up: 0, end: -20)), maxSeqLen: 100);
        var model = loaded.Model;
        var pushed = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, Samples = 8, MaxSteps = 1000, Seed = 4 }, Ct);
        Assert.All(pushed, s => { Assert.True(s.Ended); Assert.InRange(s.Points.Length, 91, 140); });
        var cut = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, Samples = 8, MaxSteps = 90, Seed = 4 }, Ct);
        Assert.All(cut, s => { Assert.False(s.Ended); Assert.Equal(90, s.Points.Length); });

        // Given 120 points, past 0.9 × 100 already: the push starts from the given end, so the continuation still goes on
        // for a while (pushed from its first point, it would end within a point or two).
        StrokePoint[] given = [.. Enumerable.Range(0, 120).Select(i => new StrokePoint(1, 0, i % 10 == 9))];
        var continued = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, Samples = 8, MaxSteps = 1000, Seed = 4, Prefix = given }, Ct);
        Assert.All(continued, s => { Assert.True(s.Ended); Assert.InRange(s.Points.Length, 10, 60); });
    }

    [Fact]
    public void Cancellation_stops_the_loop_within_one_step()
    {
        using var loaded = TestModels.Load(TestModels.ConstantOutput(TestModels.ThreeComponents(down: 5, up: 0, end: -20)), maxSeqLen: 1000);
        var model = loaded.Model;
        using var cts = new CancellationTokenSource();
        using var decoder = new SketchDecoder(model, new DecodeOptions { Temperature = 0.5f, Samples = 2, Seed = 3 }, Ct);
        int steps = 0;
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var step in decoder.Steps(cts.Token))
                if (++steps == 3) cts.Cancel();
        });
        Assert.Equal(3, steps);
        Assert.Equal(3, decoder.StepIndex);

        Assert.Throws<OperationCanceledException>(() => SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0.5f, Prefix = [new(1, 1, false)] }, cts.Token));
    }

    [Fact]
    public void Options_are_checked()
    {
        var w = TestWeights.Random(19, vae: true, E, H, Z, M);
        using var loaded = TestModels.Load(w);
        var model = loaded.Model;
        Assert.Throws<ArgumentException>(() => model.CreateDecoder(1));
        Assert.Throws<ArgumentException>(() => model.CreateDecoder(2, [new float[Z]]));
        Assert.Throws<ArgumentException>(() => model.CreateDecoder(1, [new float[Z + 1]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SketchDecoder(model, new DecodeOptions { Z = [new float[Z]], Temperature = -1 }, Ct));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SketchDecoder(model, new DecodeOptions { Temperature = 0.5f, Samples = 0 }, Ct));
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
