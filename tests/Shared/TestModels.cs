using SketchService.Core.Model;
using SketchService.Export;
using SketchService.Runtime.Models;

namespace SketchService.Tests;

/// <summary>Model folders written by <see cref="ModelWriter"/> for runtime tests.</summary>
internal static class TestModels
{
    /// <summary>Weights written to a temporary model folder and loaded; disposing unloads the model and deletes the folder.</summary>
    public sealed class Loaded(SketchModel model, TempFolder folder) : IDisposable
    {
        public SketchModel Model { get; } = model;

        public void Dispose()
        {
            Model.Dispose();
            folder.Dispose();
        }
    }

    /// <summary>
    /// A max_seq_len no run nears, for test models whose drawings must end only as their pen logits make them: the
    /// sampler pushes for the end past 0.9 of a model's max_seq_len (MixtureSampler.EndBias).
    /// </summary>
    public const int NeverPushedToEnd = int.MaxValue;

    public static Loaded Load(SketchRnnWeights weights, int maxSeqLen = 50)
    {
        var folder = new TempFolder();
        Write(folder.Path, weights, maxSeqLen);
        return new Loaded(SketchModel.Load(folder.Path), folder);
    }

    public static ModelManifest Write(string folder, SketchRnnWeights weights, int maxSeqLen = 50) =>
        ModelWriter.Write(folder, weights, new ModelManifest
        {
            Name = Path.GetFileName(folder),
            Kind = weights.Kind,
            DecoderSize = weights.DecoderSize,
            Mixtures = weights.Mixtures,
            ScaleFactor = 10,
            MaxSeqLen = maxSeqLen,
        });

    /// <summary>
    /// Weights whose output layer has zero weights, so every step's params are exactly <paramref name="parameters"/>
    /// whatever the LSTM state: pen logits, π logits, μx, μy, log σx, log σy, atanh ρ (blocks of M).
    /// </summary>
    public static SketchRnnWeights ConstantOutput(float[] parameters, bool vae = false)
    {
        int mixtures = (parameters.Length - 3) / 6;
        var random = TestWeights.Random(7, vae, mixtures: mixtures);
        return random with { Output = new LinearWeights(random.DecoderSize, parameters.Length, new float[parameters.Length * random.DecoderSize], parameters) };
    }

    /// <summary>Params for M = 3 where component 1 is the most likely, with the given pen logits (down, up, end).</summary>
    public static float[] ThreeComponents(float down, float up, float end) =>
    [
        down, up, end,
        0, 2, -1,            // π logits
        -3, 1.5f, 4,         // μx
        2, -0.5f, 1,         // μy
        0, -1, 0,            // log σx
        0, -0.5f, 0,         // log σy
        0, 0.3f, 0,          // atanh ρ
    ];
}
