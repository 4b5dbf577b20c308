using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Export;
using SketchService.Runtime.Models;

namespace SketchService.Libraries.Tests.Import;

/// <summary>Models written back in Google's sketch-rnn-js format, for the browser world (demos, ml5).</summary>
public sealed class SketchRnnJsExportTests
{
    private const float QuantisationStep = 10f / 32767;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Export_then_import_keeps_every_weight_within_half_a_quantisation_step(bool vae)
    {
        var original = TestWeights.Random(seed: 4, vae, encoder: 16, decoder: 32, latent: 8, mixtures: 20);
        var back = RoundTrip(original, vae);

        Assert.Equal(original.Kind, back.Kind);
        var pairs = Flatten(original).Zip(Flatten(back)).ToList();
        Assert.Equal(Flatten(original).Count(), pairs.Count);
        var worst = pairs.Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst <= QuantisationStep / 2 + 1e-6f, $"a weight moved by {worst}, more than half of {QuantisationStep}");
        Assert.True(worst > 0, "nothing was quantised");
    }

    [Fact]
    public void The_imported_decoder_follows_the_original_over_50_steps_of_a_real_drawing()
    {
        var original = TestWeights.Random(seed: 8, vae: true, encoder: 16, decoder: 32, latent: 8, mixtures: 20);
        using var a = new TempFolder();
        using var b = new TempFolder();
        Write(a.Path, original);
        Write(b.Path, RoundTrip(original, vae: true));
        using var modelA = SketchModel.Load(a.Path);
        using var modelB = SketchModel.Load(b.Path);
        var inputs = QuickDrawSketch.Stroke5("sheep", 40, 50);
        var sketch = inputs.Skip(1).TakeWhile(x => x[4] == 0).Select(x => new StrokePoint(x[0], x[1], x[3] == 1)).ToArray();

        var zA = modelA.Encode([sketch])[0].Mu;
        var zB = modelB.Encode([sketch])[0].Mu;
        var zWorst = zA.Zip(zB).Max(p => Math.Abs(p.First - p.Second));
        using var stateA = modelA.CreateDecoder(1, [zA]);
        using var stateB = modelB.CreateDecoder(1, [zA]);
        float worst = 0;
        foreach (var x in inputs)
        {
            var pA = stateA.Step(x).ToArray();
            var pB = stateB.Step(x);
            for (int k = 0; k < pA.Length; k++) worst = Math.Max(worst, Math.Abs(pA[k] - pB[k]));
        }

        // Each weight is off by at most 1.5e-4; through ~40-wide sums of inputs and states below 1 that stays near 1e-3.
        Assert.True(zWorst < 5e-3f, $"μ differs by {zWorst}");
        Assert.True(worst < 5e-3f, $"decoder params differ by {worst} over 50 steps");
        Assert.True(worst > 0, "the two decoders are the same: nothing was quantised");
    }

    [Fact]
    public void Googles_own_file_is_written_back_blob_for_blob()
    {
        var path = SharedData.Path("models", "magenta", "bird.gen.json");
        using var json = new MemoryStream();
        MagentaModel.Load(path).Save(json);

        var original = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        var written = System.Text.Json.Nodes.JsonNode.Parse(json.ToArray())!.AsArray();
        Assert.Equal(original[1]!.ToJsonString(), written[1]!.ToJsonString());
        Assert.Equal(original[2]!.ToJsonString(), written[2]!.ToJsonString());
        Assert.Equal(original[0]!["name"]!.ToJsonString(), written[0]!["name"]!.ToJsonString());
    }

    [Fact]
    public void A_weight_beyond_the_formats_range_is_refused()
    {
        var w = TestWeights.Random(seed: 2, vae: false);
        w.Output.Bias[0] = 12;
        var e = Assert.Throws<InvalidDataException>(() => new MagentaModel(Info(false), w).Save(new MemoryStream()));
        Assert.Contains("±10", e.Message);
    }

    private static MagentaInfo Info(bool vae) => new("roundtrip", vae ? "0" : "2", 6, 250, 40);

    private static SketchRnnWeights RoundTrip(SketchRnnWeights weights, bool vae)
    {
        using var json = new MemoryStream();
        new MagentaModel(Info(vae), weights).Save(json);
        json.Position = 0;
        var back = MagentaModel.Load(json);
        Assert.Equal(Info(vae), back.Info);
        return back.Weights;
    }

    private static void Write(string folder, SketchRnnWeights w) => ModelWriter.Write(folder, w, new ModelManifest
    {
        Name = "roundtrip", Kind = w.Kind, DecoderSize = w.DecoderSize, Mixtures = w.Mixtures, ScaleFactor = 40, MaxSeqLen = 250,
    });

    /// <summary>Every weight in a fixed order; an LSTM's two biases count as their sum, since sketch-rnn-js keeps one.</summary>
    private static IEnumerable<float> Flatten(SketchRnnWeights w)
    {
        IEnumerable<float> Lstm(LstmWeights l) => [.. l.WeightIh, .. l.WeightHh, .. l.BiasIh.Zip(l.BiasHh, (x, y) => x + y)];
        IEnumerable<float> Linear(LinearWeights l) => [.. l.Weight, .. l.Bias];
        var encoder = w.Encoder is { } e ? [.. Lstm(e.Forward), .. Lstm(e.Backward), .. Linear(e.Mu), .. Linear(e.Presig), .. Linear(w.Init!)] : Enumerable.Empty<float>();
        return [.. encoder, .. Lstm(w.Decoder), .. Linear(w.Output)];
    }
}
