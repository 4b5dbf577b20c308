using static SketchService.Libraries.Tests.Onnx.OrtGraph;
using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Libraries.Tests.Onnx;

public sealed class SketchRnnOnnxTests
{
    private const int E = 6, H = 7, Z = 4, M = 2, P = 6 * M + 3;

    [Fact]
    public void Encoder_matches_reference_and_ignores_padding()
    {
        var w = TestWeights.Random(1, vae: true, E, H, Z, M);
        var rng = new Random(2);
        int[] lengths = [9, 4, 1];
        int t = lengths.Max(), batch = lengths.Length;
        var sketches = lengths.Select(n => Enumerable.Range(0, n).Select(_ => TestWeights.Point(rng)).ToArray()).ToArray();

        // Time-major [T, B, 5]; padding is large garbage so any leak into the final states would show.
        var strokes = new float[t * batch * 5];
        for (int i = 0; i < t; i++)
            for (int b = 0; b < batch; b++)
            {
                var p = i < lengths[b] ? sketches[b][i] : [99, -99, 1, 1, 1];
                p.CopyTo(strokes, (i * batch + b) * 5);
            }

        using var encoder = new OrtGraph(SketchRnnOnnx.BuildEncoder(w));
        var outputs = encoder.Run(
            (ModelFolder.Encoder.Strokes, Tensor(strokes, t, batch, 5)),
            (ModelFolder.Encoder.Lengths, Tensor(lengths, batch)));
        Assert.Equal([batch, Z], outputs[ModelFolder.Encoder.Mu].Shape);
        Assert.Equal([batch, Z], outputs[ModelFolder.Encoder.Presig].Shape);

        for (int b = 0; b < batch; b++)
        {
            var (mu, presig) = TorchReference.Encode(w.Encoder!, sketches[b]);
            Parity.Check($"encoder B=3 mu[{b}]", mu, Parity.Row(outputs[ModelFolder.Encoder.Mu].Data, b, Z));
            Parity.Check($"encoder B=3 presig[{b}]", presig, Parity.Row(outputs[ModelFolder.Encoder.Presig].Data, b, Z));

            // The same sketch alone, unpadded, as a batch of one.
            var single = encoder.Run(
                (ModelFolder.Encoder.Strokes, Tensor([.. sketches[b].SelectMany(p => p)], lengths[b], 1, 5)),
                (ModelFolder.Encoder.Lengths, Tensor([lengths[b]], 1)));
            Assert.Equal([1, Z], single[ModelFolder.Encoder.Mu].Shape);
            Parity.Check($"encoder B=1 mu[{b}]", mu, single[ModelFolder.Encoder.Mu].Data);
            Parity.Check($"encoder B=1 presig[{b}]", presig, single[ModelFolder.Encoder.Presig].Data);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void DecoderInit_matches_reference(int batch)
    {
        var w = TestWeights.Random(3, vae: true, E, H, Z, M);
        var z = TestWeights.Values(new Random(4), batch * Z, 2f);

        using var init = new OrtGraph(SketchRnnOnnx.BuildDecoderInit(w));
        var outputs = init.Run((ModelFolder.DecoderInit.Z, Tensor(z, batch, Z)));
        Assert.Equal([batch, H], outputs[ModelFolder.DecoderInit.H].Shape);
        Assert.Equal([batch, H], outputs[ModelFolder.DecoderInit.C].Shape);
        Assert.Equal([batch, 4 * H], outputs[ModelFolder.DecoderInit.ZGates].Shape); // checked by the step test, which adds it

        for (int b = 0; b < batch; b++)
        {
            var (h, c) = TorchReference.Init(w.Init!, Parity.Row(z, b, Z).ToArray());
            Parity.Check($"init B={batch} h[{b}]", h, Parity.Row(outputs[ModelFolder.DecoderInit.H].Data, b, H));
            Parity.Check($"init B={batch} c[{b}]", c, Parity.Row(outputs[ModelFolder.DecoderInit.C].Data, b, H));
        }
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    public void DecoderStep_matches_reference_over_several_steps(bool vae, int batch)
    {
        var w = TestWeights.Random(5, vae, E, H, Z, M);
        var rng = new Random(6);
        var z = vae ? TestWeights.Values(rng, batch * Z, 2f) : null;
        var h = TestWeights.Values(rng, batch * H);
        var c = TestWeights.Values(rng, batch * H);
        var refH = Enumerable.Range(0, batch).Select(b => Parity.Row(h, b, H).ToArray()).ToArray();
        var refC = Enumerable.Range(0, batch).Select(b => Parity.Row(c, b, H).ToArray()).ToArray();

        // z enters the step as decoder_init's z_gates, its part of the input projection.
        float[]? zGates = null;
        if (z is not null)
        {
            using var init = new OrtGraph(SketchRnnOnnx.BuildDecoderInit(w));
            zGates = init.Run((ModelFolder.DecoderInit.Z, Tensor(z, batch, Z)))[ModelFolder.DecoderInit.ZGates].Data;
        }
        using var step = new OrtGraph(SketchRnnOnnx.BuildDecoderStep(w));
        string[] expectedInputs = vae
            ? [ModelFolder.DecoderStep.X, ModelFolder.DecoderStep.ZGates, ModelFolder.DecoderStep.H, ModelFolder.DecoderStep.C]
            : [ModelFolder.DecoderStep.X, ModelFolder.DecoderStep.H, ModelFolder.DecoderStep.C];
        Assert.Equal(expectedInputs, step.InputNames);

        var parity = new Parity($"step vae={vae} B={batch} params/h/c");
        for (int i = 0; i < 5; i++)
        {
            var x = Enumerable.Range(0, batch).SelectMany(_ => TestWeights.Point(rng)).ToArray();
            var inputs = new List<(string, Microsoft.ML.OnnxRuntime.OrtValue)> { (ModelFolder.DecoderStep.X, Tensor(x, batch, 5)) };
            if (zGates is not null) inputs.Add((ModelFolder.DecoderStep.ZGates, Tensor(zGates, batch, 4 * H)));
            inputs.Add((ModelFolder.DecoderStep.H, Tensor(h, batch, H)));
            inputs.Add((ModelFolder.DecoderStep.C, Tensor(c, batch, H)));
            var outputs = step.Run([.. inputs]);
            Assert.Equal([batch, P], outputs[ModelFolder.DecoderStep.Params].Shape);

            for (int b = 0; b < batch; b++)
            {
                var (p, hb, cb) = TorchReference.Step(w, Parity.Row(x, b, 5).ToArray(), z is null ? null : Parity.Row(z, b, Z).ToArray(), refH[b], refC[b]);
                (refH[b], refC[b]) = (hb, cb);
                parity.Add(p, Parity.Row(outputs[ModelFolder.DecoderStep.Params].Data, b, P));
                parity.Add(hb, Parity.Row(outputs[ModelFolder.DecoderStep.HOut].Data, b, H));
                parity.Add(cb, Parity.Row(outputs[ModelFolder.DecoderStep.COut].Data, b, H));
            }
            // Feed ORT's own state back so the graph runs recurrently, as the service will.
            h = outputs[ModelFolder.DecoderStep.HOut].Data;
            c = outputs[ModelFolder.DecoderStep.COut].Data;
        }
        parity.Check();
    }

    [Fact]
    public void ModelWriter_writes_vae_folder_with_hashes_and_sizes()
    {
        var w = TestWeights.Random(7, vae: true, E, H, Z, M);
        using var dir = new TempFolder();
        var written = ModelWriter.Write(dir.Path, w, new ModelManifest
        {
            Name = "test", Kind = ModelKind.DecoderOnly, DecoderSize = 1, Mixtures = 1, ScaleFactor = 12.5, MaxSeqLen = 100,
        });

        var read = ModelManifest.Read(dir.Path);
        Assert.Equal(ModelKind.Vae, read.Kind);
        Assert.Equal((E, H, Z, M), (read.EncoderSize, read.DecoderSize, read.LatentSize, read.Mixtures));
        Assert.Equal((12.5, 100, "test"), (read.ScaleFactor, read.MaxSeqLen, read.Name));
        string[] files = [ModelFolder.EncoderFile, ModelFolder.DecoderInitFile, ModelFolder.DecoderStepFile];
        Assert.Equal(files.Order(), read.Sha256.Keys.Order());
        foreach (var file in files)
        {
            var hash = FileHash.Sha256Hex(Path.Combine(dir.Path, file));
            Assert.Matches("^[0-9a-f]{64}$", hash);
            Assert.Equal(hash, read.Sha256[file]);
            Assert.Equal(hash, written.Sha256[file]);
            using var _ = new OrtGraph(Path.Combine(dir.Path, file));
        }
    }

    [Fact]
    public void ModelWriter_decoder_only_writes_step_alone_and_removes_stale_graphs()
    {
        using var dir = new TempFolder();
        var manifest = new ModelManifest { Name = "test", Kind = ModelKind.Vae, DecoderSize = 1, Mixtures = 1, ScaleFactor = 1, MaxSeqLen = 10 };
        ModelWriter.Write(dir.Path, TestWeights.Random(8, vae: true, E, H, Z, M), manifest);
        ModelWriter.Write(dir.Path, TestWeights.Random(9, vae: false, E, H, Z, M), manifest);

        var read = ModelManifest.Read(dir.Path);
        Assert.Equal(ModelKind.DecoderOnly, read.Kind);
        Assert.Equal((0, H, 0, M), (read.EncoderSize, read.DecoderSize, read.LatentSize, read.Mixtures));
        Assert.Equal([ModelFolder.DecoderStepFile], read.Sha256.Keys);
        Assert.False(File.Exists(Path.Combine(dir.Path, ModelFolder.EncoderFile)));
        Assert.False(File.Exists(Path.Combine(dir.Path, ModelFolder.DecoderInitFile)));
    }
}
