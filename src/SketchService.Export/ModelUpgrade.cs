using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using SketchService.Core.Model;

namespace SketchService.Export;

/// <summary>
/// Rewrites a model folder of an earlier format_version in the current one, weights unchanged, so that folders whose
/// checkpoints are gone (an averaged model, one kept only in git history) stay loadable. Format 1's decoder_step read z
/// itself: its weights are read back from the graphs this project wrote and the decoder graphs built again.
/// </summary>
public static class ModelUpgrade
{
    /// <summary>Upgrades <paramref name="folder"/> in place; returns the manifest as written (unchanged when it is current).</summary>
    public static ModelManifest Upgrade(string folder)
    {
        var m = ModelManifest.Read(folder);
        if (m.FormatVersion == ModelFolder.FormatVersion) return m;
        if (m.FormatVersion != 1)
            throw new ArgumentException($"{folder} has format_version {m.FormatVersion}; this version reads {ModelFolder.FormatVersion} and upgrades 1");
        // Rewriting the hashes must not hide a damaged file.
        foreach (var (file, hash) in m.Sha256)
            if (!File.Exists(Path.Combine(folder, file)) || FileHash.Sha256Hex(Path.Combine(folder, file)) != hash)
                throw new InvalidDataException($"{file} in {folder} is missing or does not match its sha256 in {ModelFolder.ManifestFile}: not upgraded");
        // A decoder-only format-1 folder has the graphs of format 2: only the version changes.
        if (!m.IsVae) return Written(folder, m, []);

        int h = m.DecoderSize, z = m.LatentSize, input = 5 + z, rows = 4 * h;
        var step = Read(folder, ModelFolder.DecoderStepFile);
        var init = Read(folder, ModelFolder.DecoderInitFile);
        var cell = Initializer(step, "cell_W", (input + h) * rows); // [W_ih | W_hh]ᵀ, PyTorch gate order
        var weightIh = new float[rows * input];
        var weightHh = new float[rows * h];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < input; c++) weightIh[r * input + c] = cell[c * rows + r];
            for (int c = 0; c < h; c++) weightHh[r * h + c] = cell[(input + c) * rows + r];
        }
        // The two biases were stored summed: the sum is all the graphs need.
        var decoder = new LstmWeights(input, h, weightIh, weightHh, Initializer(step, "cell_b", rows), new float[rows]);
        var output = new LinearWeights(h, m.ParamsSize, Initializer(step, "output_W", m.ParamsSize * h), Initializer(step, "output_b", m.ParamsSize));
        var initial = new LinearWeights(z, 2 * h, Initializer(init, "init_W", 2 * h * z), Initializer(init, "init_b", 2 * h));
        // The graph builders validate whole models; the encoder's graph is kept as it is, so any encoder of these sizes serves.
        LstmWeights Lstm(int e) => new(5, e, new float[4 * e * 5], new float[4 * e * e], new float[4 * e], new float[4 * e]);
        LinearWeights Head(int e) => new(2 * e, z, new float[z * 2 * e], new float[z]);
        var w = new SketchRnnWeights(new EncoderWeights(Lstm(m.EncoderSize), Lstm(m.EncoderSize), Head(m.EncoderSize), Head(m.EncoderSize)), initial, decoder, output);
        return Written(folder, m, [(ModelFolder.DecoderInitFile, SketchRnnOnnx.BuildDecoderInit(w)), (ModelFolder.DecoderStepFile, SketchRnnOnnx.BuildDecoderStep(w))]);
    }

    /// <summary>
    /// Every new graph is written beside its old one first, and each replaces its old one only once all are written, so
    /// a failure while writing leaves the folder as it was; model.json goes last.
    /// </summary>
    private static ModelManifest Written(string folder, ModelManifest m, IReadOnlyList<(string File, ModelProto Graph)> graphs)
    {
        var hashes = new Dictionary<string, string>(m.Sha256);
        foreach (var (file, graph) in graphs)
        {
            var path = Path.Combine(folder, file + ".upgrade");
            File.WriteAllBytes(path, graph.ToByteArray());
            hashes[file] = FileHash.Sha256Hex(path);
        }
        foreach (var (file, _) in graphs) File.Move(Path.Combine(folder, file + ".upgrade"), Path.Combine(folder, file), overwrite: true);
        var written = m with { FormatVersion = ModelFolder.FormatVersion, Sha256 = hashes };
        written.Write(folder);
        return written;
    }

    private static ModelProto Read(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"{file} is missing from {folder}", path);
        return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
    }

    private static float[] Initializer(ModelProto model, string name, int size)
    {
        var t = model.Graph.Initializer.SingleOrDefault(i => i.Name == name)
                ?? throw new InvalidDataException($"{model.Graph.Name} has no initializer {name}: not a graph this project wrote");
        var values = MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        return values.Length == size ? values
            : throw new InvalidDataException($"{model.Graph.Name}'s {name} has {values.Length} values, expected {size} for the sizes in model.json");
    }
}
