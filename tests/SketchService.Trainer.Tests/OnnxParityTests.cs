using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Data;
using SketchService.Export;

namespace SketchService.Trainer.Tests;

/// <summary>ONNX Runtime on the exported graphs against TorchSharp on the same weights and real sketches.</summary>
public class OnnxParityTests
{
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void Exported_graphs_match_TorchSharp_on_real_sketches(bool decoderOnly, bool partialFlag)
    {
        torch.random.manual_seed(7);
        using var model = new SketchRnn(new HParams { EncoderSize = 24, DecoderSize = 32, LatentSize = 8, DecoderOnly = decoderOnly, PartialFlag = partialFlag });
        model.eval();
        if (partialFlag)
            using (torch.no_grad()) model.state_dict()[SketchRnn.PartialWeights[0]].copy_(torch.randn(16)); // not the zeros it starts at
        using var temp = new TempFolder();
        var folder = temp.Path;
        ModelWriter.Write(folder, model.ExportWeights(), new ModelManifest { Name = "parity", Kind = ModelKind.Vae, DecoderSize = 32, Mixtures = 20, ScaleFactor = 1, MaxSeqLen = 250 });
        var data = TrainingData.Load([SharedData.Path("data", "sketchrnn", "creativebirds_tiny.npz")], 250);
        var max = AssertParity(model, folder, data.Valid.Take(4).ToArray(), steps: 20);
        Assert.True(max <= Tolerance, $"max |Δ| {max:E2} > {Tolerance:E0}");
    }

    /// <summary>
    /// Compares encoder (μ, σ̂), initial state and <paramref name="steps"/> teacher-forced decoder steps; returns max |Δ|.
    /// A model with the partial flag is encoded with every other sketch marked partial.
    /// </summary>
    public static double AssertParity(SketchRnn model, string folder, StrokePoint[][] sketches, int steps)
    {
        // Autograd on, as in training and validation: libtorch's no-grad LSTM kernel is wrong at some sizes (ValidationTests).
        var batch = StrokeDataset.ToStroke5Batch(sketches);
        var (enc, dec, _, lens) = Batch.ToTensors(batch);
        int b = batch.BatchSize, t = batch.MaxLength, hSize = model.HParams.DecoderSize, z = model.HParams.LatentSize;
        double max = 0;
        void Compare(Tensor expected, float[] actual) =>
            max = Math.Max(max, expected.contiguous().data<float>().ToArray().Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max());

        Tensor? zT = null;
        float[]? zArr = null;
        if (!model.HParams.DecoderOnly)
        {
            float[] partial = [.. Enumerable.Range(0, b).Select(i => i % 2 == 1 ? 1f : 0f)];
            var (mu, presig) = model.Encode(enc, lens, model.HParams.PartialFlag ? torch.tensor(partial) : null);
            using var encoder = new InferenceSession(Path.Combine(folder, ModelFolder.EncoderFile));
            List<NamedOnnxValue> inputs = [
                NamedOnnxValue.CreateFromTensor(ModelFolder.Encoder.Strokes, new DenseTensor<float>(enc.contiguous().data<float>().ToArray(), [t, b, 5])),
                NamedOnnxValue.CreateFromTensor(ModelFolder.Encoder.Lengths, new DenseTensor<int>(batch.Lengths, [b]))];
            if (model.HParams.PartialFlag) inputs.Add(NamedOnnxValue.CreateFromTensor(ModelFolder.Encoder.Partial, new DenseTensor<float>(partial, [b])));
            using var r = encoder.Run(inputs);
            Compare(mu, r.First(x => x.Name == ModelFolder.Encoder.Mu).AsTensor<float>().ToArray());
            Compare(presig, r.First(x => x.Name == ModelFolder.Encoder.Presig).AsTensor<float>().ToArray());
            zT = mu;
            zArr = mu.data<float>().ToArray();
        }

        var (h0, c0) = model.InitialState(zT, b);
        float[] h = h0.data<float>().ToArray(), c = c0.data<float>().ToArray();
        float[]? zGates = null;
        if (zArr is not null)
        {
            using var init = new InferenceSession(Path.Combine(folder, ModelFolder.DecoderInitFile));
            using var r = init.Run([NamedOnnxValue.CreateFromTensor(ModelFolder.DecoderInit.Z, new DenseTensor<float>(zArr, [b, z]))]);
            Compare(h0, h = r.First(x => x.Name == ModelFolder.DecoderInit.H).AsTensor<float>().ToArray());
            Compare(c0, c = r.First(x => x.Name == ModelFolder.DecoderInit.C).AsTensor<float>().ToArray());
            zGates = r.First(x => x.Name == ModelFolder.DecoderInit.ZGates).AsTensor<float>().ToArray(); // checked through the steps' params
        }

        var expected = model.Decode(dec, zT); // [T, B, 6M+3]
        using var step = new InferenceSession(Path.Combine(folder, ModelFolder.DecoderStepFile));
        for (var i = 0; i < Math.Min(steps, t); i++)
        {
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor(ModelFolder.DecoderStep.X, new DenseTensor<float>(dec[i].contiguous().data<float>().ToArray(), [b, 5])),
                NamedOnnxValue.CreateFromTensor(ModelFolder.DecoderStep.H, new DenseTensor<float>(h, [b, hSize])),
                NamedOnnxValue.CreateFromTensor(ModelFolder.DecoderStep.C, new DenseTensor<float>(c, [b, hSize])),
            };
            if (zGates is not null) inputs.Add(NamedOnnxValue.CreateFromTensor(ModelFolder.DecoderStep.ZGates, new DenseTensor<float>(zGates, [b, 4 * hSize])));
            using var r = step.Run(inputs);
            Compare(expected[i], r.First(x => x.Name == ModelFolder.DecoderStep.Params).AsTensor<float>().ToArray());
            h = r.First(x => x.Name == ModelFolder.DecoderStep.HOut).AsTensor<float>().ToArray();
            c = r.First(x => x.Name == ModelFolder.DecoderStep.COut).AsTensor<float>().ToArray();
        }
        return max;
    }
}
