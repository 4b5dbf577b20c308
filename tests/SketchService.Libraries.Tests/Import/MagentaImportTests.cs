using System.Text;
using System.Text.Json;
using SketchService.Libraries.Tests.Onnx;
using static SketchService.Libraries.Tests.Onnx.OrtGraph;
using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Libraries.Tests.Import;

public sealed class MagentaImportTests
{
    public static TheoryData<string> PretrainedClasses => ["bicycle", "bird", "dog", "hedgehog", "monkey", "rabbit", "sheep", "tiger"];

    [Theory]
    [MemberData(nameof(PretrainedClasses))]
    public void Pretrained_decoder_imports_and_matches_the_readme_equations_over_50_steps(string className)
    {
        var path = SharedData.Path("models", "magenta", className + ".gen.json");
        var reference = MagentaReference.Parse(File.ReadAllText(path));
        using var dir = new TempFolder();
        var written = MagentaModel.Import(path, dir.Path, "magenta:" + className);

        var manifest = ModelManifest.Read(dir.Path);
        Assert.Equal(written.Sha256, manifest.Sha256);
        Assert.Equal(ModelKind.DecoderOnly, manifest.Kind);
        Assert.Equal((0, 512, 0, 20), (manifest.EncoderSize, manifest.DecoderSize, manifest.LatentSize, manifest.Mixtures));
        Assert.Equal(className, manifest.Name);
        Assert.Equal("magenta:" + className, manifest.Source);
        Assert.Equal(reference.Info.GetProperty("scale_factor").GetDouble(), manifest.ScaleFactor);
        Assert.Equal(reference.Info.GetProperty("max_seq_len").GetInt32(), manifest.MaxSeqLen);
        Assert.Null(manifest.Dataset);
        Assert.Equal([ModelFolder.DecoderStepFile, ModelFolder.ManifestFile], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());

        var inputs = QuickDrawSketch.Stroke5(className, manifest.ScaleFactor, 50);
        using var step = new OrtGraph(Path.Combine(dir.Path, ModelFolder.DecoderStepFile));
        Assert.Equal([ModelFolder.DecoderStep.X, ModelFolder.DecoderStep.H, ModelFolder.DecoderStep.C], step.InputNames);
        // Per-step parity: the reference is fed ORT's state each step, so |Δ| is one step's error at real states.
        // Free-running: the reference also runs its own recurrence from zero; ORT's float32 rounding then compounds
        // over 50 steps through 512-wide products of weights up to ±10 (1.5e-5 seen), so that bound is 1e-4.
        var (h, c) = reference.InitialState(null);
        float[] ortH = new float[512], ortC = new float[512];
        var stepParity = new Parity($"magenta {className} per step params/h/c");
        var drift = new Parity($"magenta {className} free-running 50 steps params/h/c", 1e-4f);
        foreach (var x in inputs)
        {
            var outputs = step.Run(
                (ModelFolder.DecoderStep.X, Tensor(x, 1, 5)),
                (ModelFolder.DecoderStep.H, Tensor(ortH, 1, 512)),
                (ModelFolder.DecoderStep.C, Tensor(ortC, 1, 512)));
            var (oneP, oneH, oneC) = reference.Step(x, null, ortH, ortC);
            (var p, h, c) = reference.Step(x, null, h, c);
            (ortH, ortC) = (outputs[ModelFolder.DecoderStep.HOut].Data, outputs[ModelFolder.DecoderStep.COut].Data);
            var ortParams = outputs[ModelFolder.DecoderStep.Params].Data;
            stepParity.Add(oneP, ortParams).Add(oneH, ortH).Add(oneC, ortC);
            drift.Add(p, ortParams).Add(h, ortH).Add(c, ortC);
        }
        stepParity.Check();
        drift.Check();
    }

    [Fact]
    public void Pretrained_info_is_read_as_written()
    {
        var model = MagentaModel.Load(SharedData.Path("models", "magenta", "sheep.gen.json"));
        Assert.Equal(new MagentaInfo("sheep", "2", 6, 156, 63.0983), model.Info);
        Assert.Equal(ModelKind.DecoderOnly, model.Weights.Kind);
        Assert.All(model.Weights.Decoder.BiasHh, b => Assert.Equal(0f, b));
    }

    [Fact]
    public void Synthetic_vae_file_imports_and_matches_the_readme_equations()
    {
        const int E = 6, H = 8, Z = 4, P = 123;
        var json = SynthesizeVae(seed: 21, E, H, Z, P);
        var reference = MagentaReference.Parse(json);
        using var dir = new TempFolder();
        var manifest = MagentaModel.Import(new MemoryStream(Encoding.UTF8.GetBytes(json)), dir.Path, "synthetic");

        Assert.Equal(ModelKind.Vae, manifest.Kind);
        Assert.Equal((E, H, Z, 20), (manifest.EncoderSize, manifest.DecoderSize, manifest.LatentSize, manifest.Mixtures));
        Assert.Equal((42.5, 250, "synthetic-vae"), (manifest.ScaleFactor, manifest.MaxSeqLen, manifest.Name));
        Assert.Equal(3, manifest.Sha256.Count);

        // Encoder: two sketches of different lengths in one padded batch.
        var rng = new Random(22);
        int[] lengths = [7, 3];
        var sketches = lengths.Select(n => Enumerable.Range(0, n).Select(_ => TestWeights.Point(rng)).ToArray()).ToArray();
        var strokes = new float[7 * 2 * 5];
        for (int t = 0; t < 7; t++)
            for (int b = 0; b < 2; b++)
                (t < lengths[b] ? sketches[b][t] : [50, -50, 1, 1, 1]).CopyTo(strokes, (t * 2 + b) * 5);
        using var encoder = new OrtGraph(Path.Combine(dir.Path, ModelFolder.EncoderFile));
        var encoded = encoder.Run((ModelFolder.Encoder.Strokes, Tensor(strokes, 7, 2, 5)), (ModelFolder.Encoder.Lengths, Tensor(lengths, 2)));
        var mu = encoded[ModelFolder.Encoder.Mu].Data;
        for (int b = 0; b < 2; b++)
        {
            var (refMu, refPresig) = reference.Encode(sketches[b]);
            Parity.Check($"synthetic vae encoder mu[{b}]", refMu, Parity.Row(mu, b, Z));
            Parity.Check($"synthetic vae encoder presig[{b}]", refPresig, Parity.Row(encoded[ModelFolder.Encoder.Presig].Data, b, Z));
        }

        // Init and steps conditioned on z = mu, batch of two.
        using var init = new OrtGraph(Path.Combine(dir.Path, ModelFolder.DecoderInitFile));
        var state = init.Run((ModelFolder.DecoderInit.Z, Tensor(mu, 2, Z)));
        var (ortH, ortC) = (state[ModelFolder.DecoderInit.H].Data, state[ModelFolder.DecoderInit.C].Data);
        var zGates = state[ModelFolder.DecoderInit.ZGates].Data;
        var refState = Enumerable.Range(0, 2).Select(b => reference.InitialState(Parity.Row(mu, b, Z).ToArray())).ToArray();
        for (int b = 0; b < 2; b++)
        {
            Parity.Check($"synthetic vae init h[{b}]", refState[b].H, Parity.Row(ortH, b, H));
            Parity.Check($"synthetic vae init c[{b}]", refState[b].C, Parity.Row(ortC, b, H));
        }

        using var step = new OrtGraph(Path.Combine(dir.Path, ModelFolder.DecoderStepFile));
        var parity = new Parity("synthetic vae 10 steps params/h/c");
        for (int i = 0; i < 10; i++)
        {
            var x = i == 0 ? [0, 0, 1, 0, 0, 0, 0, 1, 0, 0] : Enumerable.Range(0, 2).SelectMany(_ => TestWeights.Point(rng)).ToArray();
            var outputs = step.Run(
                (ModelFolder.DecoderStep.X, Tensor(x, 2, 5)),
                (ModelFolder.DecoderStep.ZGates, Tensor(zGates, 2, 4 * H)),
                (ModelFolder.DecoderStep.H, Tensor(ortH, 2, H)),
                (ModelFolder.DecoderStep.C, Tensor(ortC, 2, H)));
            (ortH, ortC) = (outputs[ModelFolder.DecoderStep.HOut].Data, outputs[ModelFolder.DecoderStep.COut].Data);
            for (int b = 0; b < 2; b++)
            {
                var (p, h, c) = reference.Step(Parity.Row(x, b, 5).ToArray(), Parity.Row(mu, b, Z).ToArray(), refState[b].H, refState[b].C);
                refState[b] = (h, c);
                parity.Add(p, Parity.Row(outputs[ModelFolder.DecoderStep.Params].Data, b, P));
                parity.Add(h, Parity.Row(ortH, b, H));
                parity.Add(c, Parity.Row(ortC, b, H));
            }
        }
        parity.Check();
    }

    [Fact]
    public void Wrong_blob_count_or_size_is_rejected()
    {
        var json = SynthesizeVae(seed: 1, 2, 3, 2, 123);
        var doc = JsonSerializer.Deserialize<JsonElement[]>(json)!;
        var dims = doc[1].Deserialize<int[][]>()!;
        var blobs = doc[2].Deserialize<string[]>()!;

        var sixBlobs = JsonSerializer.Serialize(new object[] { doc[0], dims[..6], blobs[..6] });
        Assert.Throws<InvalidDataException>(() => MagentaModel.Load(new MemoryStream(Encoding.UTF8.GetBytes(sixBlobs))));

        dims[0] = [5, 9];
        var badDims = JsonSerializer.Serialize(new object[] { doc[0], dims, blobs });
        Assert.Throws<InvalidDataException>(() => MagentaModel.Load(new MemoryStream(Encoding.UTF8.GetBytes(badDims))));
    }

    /// <summary>A sketch-rnn-js VAE file with random int16 weights (±~1 after de-quantising) and consistent dims.</summary>
    private static string SynthesizeVae(int seed, int e, int h, int z, int p)
    {
        var rng = new Random(seed);
        int[][] dims =
        [
            [5, 4 * e], [e, 4 * e], [4 * e],
            [5, 4 * e], [e, 4 * e], [4 * e],
            [2 * e, z], [z], [2 * e, z], [z],
            [z, 2 * h], [2 * h],
            [h, p], [p],
            [5 + z, 4 * h], [h, 4 * h], [4 * h],
        ];
        var blobs = dims.Select(d =>
        {
            var bytes = new byte[2 * d.Aggregate(1, (a, b) => a * b)];
            for (int k = 0; k < bytes.Length; k += 2) BitConverter.TryWriteBytes(bytes.AsSpan(k), (short)rng.Next(-3300, 3300));
            return Convert.ToBase64String(bytes);
        }).ToArray();
        var info = new Dictionary<string, object> { ["mode"] = 1, ["version"] = 6, ["max_seq_len"] = 250, ["name"] = "synthetic-vae", ["scale_factor"] = 42.5 };
        return JsonSerializer.Serialize(new object[] { info, dims, blobs });
    }
}
