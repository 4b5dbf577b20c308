using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SketchService.Core.Latent;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Decoding;

namespace SketchService.Runtime.Models;

/// <summary>
/// One loaded model folder: its manifest and one ORT session per graph. Sessions are shared by all requests
/// (InferenceSession.Run is thread-safe); per-request state lives in <see cref="DecoderState"/>.
/// </summary>
public sealed class SketchModel : IDisposable
{
    private readonly InferenceSession? encoder;
    private readonly InferenceSession? decoderInit;

    private SketchModel(string folder, ModelManifest manifest, InferenceSession? encoder, InferenceSession? decoderInit,
        InferenceSession decoderStep, bool usesCuda, IReadOnlyList<GraphDescription> graphs, LatentPrior? prior)
    {
        Prior = prior;
        Id = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        Manifest = manifest;
        this.encoder = encoder;
        ReadsPartial = encoder?.InputMetadata.ContainsKey(ModelFolder.Encoder.Partial) == true;
        this.decoderInit = decoderInit;
        DecoderStep = decoderStep;
        UsesCuda = usesCuda;
        Graphs = graphs;
    }

    /// <summary>The folder name: how the API addresses the model.</summary>
    public string Id { get; }
    public ModelManifest Manifest { get; }
    public bool UsesCuda { get; }
    public IReadOnlyList<GraphDescription> Graphs { get; }

    /// <summary>Whether the encoder is told which sketches are only the start of a drawing (a model trained with the partial flag).</summary>
    public bool ReadsPartial { get; }

    /// <summary>Where the training drawings encode (<see cref="ModelFolder.PriorFile"/>), or null: then z is sampled from N(0, I).</summary>
    public LatentPrior? Prior { get; }

    internal InferenceSession DecoderStep { get; }
    internal InferenceSession DecoderInit => decoderInit ?? throw new InvalidOperationException($"{Id} is decoder-only: it has no decoder_init");

    /// <summary>
    /// Loads and checks a model folder: manifest format version and sizes, the files its kind needs, the sha256 of
    /// every ONNX file against the manifest, and every graph's input/output names, element types and fixed dims.
    /// <paramref name="withPrior"/> false leaves the data prior unread, for the trainer's fit-prior that replaces it.
    /// </summary>
    /// <exception cref="ModelLoadException">The folder cannot be served; the message says why.</exception>
    public static SketchModel Load(string folder, InferenceOptions? options = null, ILogger? logger = null, bool withPrior = true)
    {
        options ??= new InferenceOptions();
        logger ??= NullLogger.Instance;
        var manifest = ReadManifest(folder);
        var files = manifest.IsVae
            ? new[] { ModelFolder.EncoderFile, ModelFolder.DecoderInitFile, ModelFolder.DecoderStepFile }
            : [ModelFolder.DecoderStepFile];
        CheckFiles(folder, manifest, files);
        var prior = withPrior ? ReadPrior(folder, manifest) : null;

        using var sessionOptions = CreateSessionOptions(options, logger, out bool usesCuda);
        var sessions = new List<InferenceSession>();
        try
        {
            InferenceSession Open(string file)
            {
                try
                {
                    var session = new InferenceSession(Path.Combine(folder, file), sessionOptions);
                    sessions.Add(session);
                    Check(folder, file, session, ExpectedGraph(file, manifest, session.InputMetadata.ContainsKey(ModelFolder.Encoder.Partial)));
                    return session;
                }
                catch (OnnxRuntimeException e)
                {
                    throw new ModelLoadException(folder, $"{file} cannot be loaded by ONNX Runtime: {e.Message}", e);
                }
            }
            var enc = manifest.IsVae ? Open(ModelFolder.EncoderFile) : null;
            var init = manifest.IsVae ? Open(ModelFolder.DecoderInitFile) : null;
            var step = Open(ModelFolder.DecoderStepFile);
            var graphs = files.Zip(sessions, (file, s) => new GraphDescription(file, Describe(s.InputMetadata), Describe(s.OutputMetadata))).ToArray();
            return new SketchModel(folder, manifest, enc, init, step, usesCuda, graphs, prior);
        }
        catch
        {
            foreach (var s in sessions) s.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Encodes sketches (stroke-3 in model space, i.e. already divided by scale_factor) in one batched run: stroke-5,
    /// time-major [T, B, 5] without a start token, with each sketch's own length so padding never counts.
    /// <paramref name="partial"/> marks the sketches that are only the start of a drawing (null: none is); a model
    /// that does not read the flag encodes them as it encodes any sketch.
    /// </summary>
    public IReadOnlyList<LatentCode> Encode(IReadOnlyList<StrokePoint[]> sketches, IReadOnlyList<bool>? partial = null)
    {
        var session = encoder ?? throw new InvalidOperationException($"{Id} is decoder-only: it has no encoder");
        if (sketches.Count == 0) return [];
        if (sketches.FirstOrDefault(s => s.Length == 0) is not null) throw new ArgumentException("cannot encode an empty sketch", nameof(sketches));

        int batch = sketches.Count, steps = sketches.Max(s => s.Length), latent = Manifest.LatentSize;
        var strokes = new float[steps * batch * 5];
        var lengths = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            lengths[b] = sketches[b].Length;
            var rows = StrokeFormats.ToStroke5(sketches[b], steps);
            for (int t = 0; t < steps; t++) rows[t].CopyTo(strokes, (t * batch + b) * 5);
        }
        if (partial is not null && partial.Count != batch) throw new ArgumentException($"{partial.Count} partial flags for {batch} sketches", nameof(partial));
        float[] mu = new float[batch * latent], presig = new float[batch * latent];
        using (var strokesValue = OrtValue.CreateTensorValueFromMemory(strokes, [steps, batch, 5]))
        using (var lengthsValue = OrtValue.CreateTensorValueFromMemory(lengths, [batch]))
        using (var flagsValue = ReadsPartial ? OrtValue.CreateTensorValueFromMemory(partial?.Select(p => p ? 1f : 0f).ToArray() ?? new float[batch], [batch]) : null)
        using (var muValue = OrtValue.CreateTensorValueFromMemory(mu, [batch, latent]))
        using (var presigValue = OrtValue.CreateTensorValueFromMemory(presig, [batch, latent]))
        using (var runOptions = new RunOptions())
        {
            string[] names = flagsValue is null ? [ModelFolder.Encoder.Strokes, ModelFolder.Encoder.Lengths] : [ModelFolder.Encoder.Strokes, ModelFolder.Encoder.Lengths, ModelFolder.Encoder.Partial];
            OrtValue[] values = flagsValue is null ? [strokesValue, lengthsValue] : [strokesValue, lengthsValue, flagsValue];
            session.Run(runOptions, names, values, [ModelFolder.Encoder.Mu, ModelFolder.Encoder.Presig], [muValue, presigValue]);
        }
        var codes = new LatentCode[batch];
        for (int b = 0; b < batch; b++)
            codes[b] = new LatentCode(mu[(b * latent)..((b + 1) * latent)], [.. presig.AsSpan(b * latent, latent).ToArray().Select(p => MathF.Exp(p / 2))]);
        return codes;
    }

    /// <summary>
    /// A decoder for <paramref name="batch"/> samples, its state initialised from z (VAE: one code of size Z per
    /// sample, through decoder_init) or zeros (decoder-only: pass null). Dispose it when the request ends.
    /// </summary>
    public DecoderState CreateDecoder(int batch, IReadOnlyList<float[]>? z = null)
    {
        var state = new DecoderState(this, batch);
        try
        {
            state.AddRows(batch, z);
            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        encoder?.Dispose();
        decoderInit?.Dispose();
        DecoderStep.Dispose();
    }

    private static ModelManifest ReadManifest(string folder)
    {
        if (!File.Exists(Path.Combine(folder, ModelFolder.ManifestFile)))
            throw new ModelLoadException(folder, $"{ModelFolder.ManifestFile} is missing");
        ModelManifest m;
        try
        {
            m = ModelManifest.Read(folder);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            throw new ModelLoadException(folder, $"{ModelFolder.ManifestFile} is not a valid manifest: {e.Message}", e);
        }
        string? problem =
            // A decoder-only folder of format 1 has format 2's graph (format 2 changed only a VAE's decoder): served as it is.
            m.FormatVersion != ModelFolder.FormatVersion && !(m.FormatVersion == 1 && !m.IsVae) ? $"format_version {m.FormatVersion} is not supported (expected {ModelFolder.FormatVersion}): `sketch-trainer upgrade <folder>` rewrites it, weights unchanged"
            : m.DecoderSize <= 0 ? "decoder_size must be positive"
            : m.Mixtures <= 0 ? "mixtures must be positive"
            : !(m.ScaleFactor > 0) || !double.IsFinite(m.ScaleFactor) ? "scale_factor must be a positive number"
            : !(m.DrawingExtent > 0) || !double.IsFinite(m.DrawingExtent) ? "drawing_extent must be a positive number (polylines are resized to it)"
            : m.MaxSeqLen <= 0 ? "max_seq_len must be positive"
            : m.IsVae && (m.EncoderSize <= 0 || m.LatentSize <= 0) ? "a vae needs positive encoder_size and latent_size"
            : null;
        return problem is null ? m : throw new ModelLoadException(folder, $"{ModelFolder.ManifestFile}: {problem}");
    }

    /// <summary>The data prior when the folder has one: listed (so its sha256 was checked), for a VAE, and fitting its latent size.</summary>
    private static LatentPrior? ReadPrior(string folder, ModelManifest manifest)
    {
        if (!File.Exists(Path.Combine(folder, ModelFolder.PriorFile))) return null;
        if (!manifest.IsVae) throw new ModelLoadException(folder, $"{ModelFolder.PriorFile}: a decoder-only model has no latent space to sample");
        if (!manifest.Sha256.ContainsKey(ModelFolder.PriorFile)) throw new ModelLoadException(folder, $"{ModelFolder.ManifestFile} has no sha256 for {ModelFolder.PriorFile}");
        LatentPrior prior;
        try { prior = LatentPrior.Read(folder); }
        catch (Exception e) when (e is JsonException or InvalidDataException) { throw new ModelLoadException(folder, $"{ModelFolder.PriorFile} is not a valid prior ({e.Message}); sketch-trainer fit-prior writes it anew", e); }
        return prior.Problem(manifest.LatentSize) is { } problem ? throw new ModelLoadException(folder, $"{ModelFolder.PriorFile}: {problem}") : prior;
    }

    /// <summary>The files this kind needs exist, and every file the manifest lists matches its sha256.</summary>
    private static void CheckFiles(string folder, ModelManifest manifest, string[] required)
    {
        foreach (var file in required)
        {
            if (!File.Exists(Path.Combine(folder, file)))
                throw new ModelLoadException(folder, $"{file} is missing (a {(manifest.IsVae ? "vae" : "decoder-only")} model needs {string.Join(", ", required)})");
            if (!manifest.Sha256.ContainsKey(file))
                throw new ModelLoadException(folder, $"{ModelFolder.ManifestFile} has no sha256 for {file}");
        }
        foreach (var (file, expected) in manifest.Sha256)
        {
            var path = Path.Combine(folder, file);
            if (Path.GetFileName(file) != file || !File.Exists(path))
                throw new ModelLoadException(folder, $"{file} is listed in {ModelFolder.ManifestFile} but missing");
            var actual = FileHash.Sha256Hex(path);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new ModelLoadException(folder, $"{file} sha256 is {actual}, {ModelFolder.ManifestFile} says {expected}");
        }
    }

    private static SessionOptions CreateSessionOptions(InferenceOptions options, ILogger logger, out bool usesCuda)
    {
        var so = new SessionOptions
        {
            IntraOpNumThreads = options.OrtThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        usesCuda = false;
        if (options.UseCuda)
        {
            try
            {
                so.AppendExecutionProvider_CUDA(0);
                usesCuda = true;
            }
            catch (Exception e)
            {
                // The CPU-only ORT package, a missing GPU or missing CUDA libraries all end here: serve on CPU.
                logger.LogWarning("CUDA execution provider unavailable, using CPU: {Reason}", e.Message);
            }
        }
        return so;
    }

    /// <summary>A tensor the graph must have: dims of -1 are symbolic (batch, time), the rest must match exactly.</summary>
    private sealed record TensorSpec(string Name, TensorElementType Type, params long[] Dims);

    /// <param name="partial">Whether the graph takes the partial flag (only an encoder may: <see cref="ModelFolder.Encoder.Partial"/>).</param>
    private static (TensorSpec[] Inputs, TensorSpec[] Outputs) ExpectedGraph(string file, ModelManifest m, bool partial)
    {
        const long Any = -1;
        const TensorElementType F = TensorElementType.Float;
        long h = m.DecoderSize, z = m.LatentSize, p = m.ParamsSize;
        return file switch
        {
            ModelFolder.EncoderFile => (
                [new(ModelFolder.Encoder.Strokes, F, Any, Any, 5), new(ModelFolder.Encoder.Lengths, TensorElementType.Int32, Any),
                    .. partial ? [new TensorSpec(ModelFolder.Encoder.Partial, F, Any)] : Array.Empty<TensorSpec>()],
                [new(ModelFolder.Encoder.Mu, F, Any, z), new(ModelFolder.Encoder.Presig, F, Any, z)]),
            ModelFolder.DecoderInitFile => (
                [new(ModelFolder.DecoderInit.Z, F, Any, z)],
                [new(ModelFolder.DecoderInit.H, F, Any, h), new(ModelFolder.DecoderInit.C, F, Any, h), new(ModelFolder.DecoderInit.ZGates, F, Any, 4 * h)]),
            _ => (
                m.IsVae
                    ? [new(ModelFolder.DecoderStep.X, F, Any, 5), new(ModelFolder.DecoderStep.ZGates, F, Any, 4 * h), new(ModelFolder.DecoderStep.H, F, Any, h), new(ModelFolder.DecoderStep.C, F, Any, h)]
                    : [new(ModelFolder.DecoderStep.X, F, Any, 5), new(ModelFolder.DecoderStep.H, F, Any, h), new(ModelFolder.DecoderStep.C, F, Any, h)],
                [new(ModelFolder.DecoderStep.Params, F, Any, p), new(ModelFolder.DecoderStep.HOut, F, Any, h), new(ModelFolder.DecoderStep.COut, F, Any, h)]),
        };
    }

    private static void Check(string folder, string file, InferenceSession session, (TensorSpec[] Inputs, TensorSpec[] Outputs) expected)
    {
        void CheckSide(string side, IReadOnlyDictionary<string, NodeMetadata> actual, TensorSpec[] specs)
        {
            var names = specs.Select(s => s.Name).ToArray();
            if (!actual.Keys.Order().SequenceEqual(names.Order()))
                throw new ModelLoadException(folder, $"{file} has {side}s [{string.Join(", ", actual.Keys)}], expected [{string.Join(", ", names)}]");
            foreach (var spec in specs)
            {
                var meta = actual[spec.Name];
                if (!meta.IsTensor || meta.ElementDataType != spec.Type)
                    throw new ModelLoadException(folder, $"{file} {side} '{spec.Name}' is {meta.ElementDataType}, expected {spec.Type}");
                var dims = meta.Dimensions.Select(d => (long)d).ToArray();
                if (!dims.SequenceEqual(spec.Dims))
                    throw new ModelLoadException(folder, $"{file} {side} '{spec.Name}' has dims [{Dims(dims)}], expected [{Dims(spec.Dims)}] from {ModelFolder.ManifestFile}");
            }
        }
        CheckSide("input", session.InputMetadata, expected.Inputs);
        CheckSide("output", session.OutputMetadata, expected.Outputs);
    }

    private static string Dims(long[] dims) => string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString()));

    private static TensorDescription[] Describe(IReadOnlyDictionary<string, NodeMetadata> metadata) =>
    [
        .. metadata.Select(kv => new TensorDescription(
            kv.Key,
            kv.Value.ElementDataType.ToString().ToLowerInvariant(),
            [.. kv.Value.Dimensions.Select((d, i) => d >= 0 ? d.ToString() : NonEmpty(kv.Value.SymbolicDimensions[i]))])),
    ];

    private static string NonEmpty(string symbol) => symbol.Length > 0 ? symbol : "?";
}
