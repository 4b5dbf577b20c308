using Google.Protobuf;
using Onnx;
using SketchService.Core.Model;

namespace SketchService.Export;

/// <summary>Writes a complete model folder: the ONNX graphs and model.json with their hashes.</summary>
public static class ModelWriter
{
    /// <summary>
    /// Writes encoder.onnx and decoder_init.onnx (VAE only), decoder_step.onnx and model.json into
    /// <paramref name="folder"/>. Kind and sizes in the manifest are taken from the weights so they cannot disagree.
    /// Returns the manifest as written.
    /// </summary>
    public static ModelManifest Write(string folder, SketchRnnWeights w, ModelManifest manifest)
    {
        w.Validate();
        Directory.CreateDirectory(folder);
        var hashes = new Dictionary<string, string>();
        void WriteGraph(string file, ModelProto model)
        {
            var path = Path.Combine(folder, file);
            File.WriteAllBytes(path, model.ToByteArray());
            hashes[file] = FileHash.Sha256Hex(path);
        }

        if (w.Kind == ModelKind.Vae)
        {
            WriteGraph(ModelFolder.EncoderFile, SketchRnnOnnx.BuildEncoder(w));
            WriteGraph(ModelFolder.DecoderInitFile, SketchRnnOnnx.BuildDecoderInit(w));
        }
        else
        {
            // Overwriting a VAE folder with a decoder-only model must not leave its old graphs behind.
            File.Delete(Path.Combine(folder, ModelFolder.EncoderFile));
            File.Delete(Path.Combine(folder, ModelFolder.DecoderInitFile));
        }
        WriteGraph(ModelFolder.DecoderStepFile, SketchRnnOnnx.BuildDecoderStep(w));

        var written = manifest with
        {
            Kind = w.Kind,
            EncoderSize = w.Encoder?.Forward.HiddenSize ?? 0,
            DecoderSize = w.DecoderSize,
            LatentSize = w.LatentSize,
            Mixtures = w.Mixtures,
            Sha256 = hashes,
        };
        written.Write(folder);
        return written;
    }

    /// <summary>Writes the data prior (<see cref="ModelFolder.PriorFile"/>) into a model folder and lists its sha256 in model.json.</summary>
    public static ModelManifest WritePrior(string folder, Core.Latent.LatentPrior prior)
    {
        var manifest = ModelManifest.Read(folder);
        if (!manifest.IsVae) throw new ArgumentException($"{folder} is decoder-only: it has no latent space for a prior", nameof(folder));
        if (prior.Problem(manifest.LatentSize) is { } problem) throw new ArgumentException($"the prior does not fit {folder}: {problem}", nameof(prior));
        prior.Write(folder);
        var written = manifest with { Sha256 = new Dictionary<string, string>(manifest.Sha256) { [ModelFolder.PriorFile] = FileHash.Sha256Hex(Path.Combine(folder, ModelFolder.PriorFile)) } };
        written.Write(folder);
        return written;
    }
}
