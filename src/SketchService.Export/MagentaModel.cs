using System.Buffers.Binary;
using System.Text.Json;
using SketchService.Core.Model;

namespace SketchService.Export;

/// <summary>The info object of a sketch-rnn-js file. Mode is kept as written (2 or "gen" mark a decoder-only model).</summary>
public sealed record MagentaInfo(string Name, string Mode, int Version, int MaxSeqLen, double ScaleFactor);

/// <summary>
/// A pretrained Sketch-RNN in Google's sketch-rnn-js JSON format <c>[info, dims, weights]</c>, converted to
/// PyTorch layout. sketch-rnn-js multiplies x·W with W [In, 4H] and gates in order i, j, f, o, and adds a
/// forget bias of 1.0 that is not stored.
/// </summary>
public sealed record MagentaModel(MagentaInfo Info, SketchRnnWeights Weights)
{
    private const int GenBlobs = 5;
    private const int VaeBlobs = 17;
    private const float ForgetBias = 1.0f;

    public static MagentaModel Load(string jsonPath)
    {
        using var stream = File.OpenRead(jsonPath);
        return Load(stream);
    }

    public static MagentaModel Load(Stream json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() != 3)
            throw new InvalidDataException("a sketch-rnn-js model is a JSON array [info, dims, weights]");
        var info = ReadInfo(root[0]);
        var dims = root[1].EnumerateArray().Select(d => d.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        var blobs = root[2].EnumerateArray().Select(b => b.GetString() ?? throw new InvalidDataException("weight blob is not a string")).ToArray();
        if (dims.Length != blobs.Length) throw new InvalidDataException($"{dims.Length} dims but {blobs.Length} weight blobs");
        var weights = new Blob[blobs.Length];
        for (int k = 0; k < blobs.Length; k++) weights[k] = Blob.Decode(k, dims[k], blobs[k]);

        return new MagentaModel(info, weights.Length switch
        {
            GenBlobs => ConvertGen(weights),
            VaeBlobs => ConvertVae(weights),
            _ => throw new InvalidDataException($"{weights.Length} weight blobs: expected {GenBlobs} (decoder-only) or {VaeBlobs} (VAE)"),
        });
    }

    /// <summary>Imports a sketch-rnn-js file into a model folder. <paramref name="source"/> records where it came from.</summary>
    public static ModelManifest Import(string jsonPath, string outFolder, string source) => Load(jsonPath).WriteFolder(outFolder, source);

    public static ModelManifest Import(Stream json, string outFolder, string source) => Load(json).WriteFolder(outFolder, source);

    public ModelManifest WriteFolder(string outFolder, string source) => ModelWriter.Write(outFolder, Weights, new ModelManifest
    {
        Name = Info.Name,
        Kind = Weights.Kind,
        DecoderSize = Weights.DecoderSize,
        Mixtures = Weights.Mixtures,
        ScaleFactor = Info.ScaleFactor,
        MaxSeqLen = Info.MaxSeqLen,
        Source = source,
    });

    /// <summary>
    /// Writes the model as sketch-rnn-js JSON, the inverse of <see cref="Load(Stream)"/>: the browser world's format
    /// (Google's demos, ml5). Weights are quantised to int16 steps of 10/32767; a weight beyond ±10 cannot be stored.
    /// </summary>
    public void Save(Stream json)
    {
        var w = Weights;
        Blob[] blobs = w.Encoder is { } e
            ?
            [
                .. MagentaLstm(e.Forward), .. MagentaLstm(e.Backward),
                .. MagentaLinear(e.Mu), .. MagentaLinear(e.Presig), .. MagentaLinear(w.Init!),
                .. MagentaLinear(w.Output), .. MagentaLstm(w.Decoder),
            ]
            : [.. MagentaLinear(w.Output), .. MagentaLstm(w.Decoder)];
        using var writer = new Utf8JsonWriter(json);
        writer.WriteStartArray();
        writer.WriteStartObject();
        writer.WriteString("name", Info.Name);
        if (int.TryParse(Info.Mode, out var mode)) writer.WriteNumber("mode", mode); else writer.WriteString("mode", Info.Mode);
        writer.WriteNumber("version", Info.Version);
        writer.WriteNumber("max_seq_len", Info.MaxSeqLen);
        writer.WriteNumber("scale_factor", Info.ScaleFactor);
        writer.WriteEndObject();
        writer.WriteStartArray();
        foreach (var b in blobs)
        {
            writer.WriteStartArray();
            if (b.IsMatrix) writer.WriteNumberValue(b.Rows);
            writer.WriteNumberValue(b.Cols);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteStartArray();
        for (int k = 0; k < blobs.Length; k++) writer.WriteStringValue(blobs[k].Encode(k));
        writer.WriteEndArray();
        writer.WriteEndArray();
    }

    public void Save(string jsonPath)
    {
        using var file = File.Create(jsonPath);
        Save(file);
    }

    /// <summary>PyTorch's [Out, In] weight and bias → x·W with W [In, Out], and the bias.</summary>
    private static Blob[] MagentaLinear(LinearWeights l) =>
        [new Blob(0, l.InputSize, l.OutputSize, Transpose(l.Weight, l.OutputSize, l.InputSize), IsMatrix: true), Blob.Vector(l.Bias)];

    /// <summary>The inverse of <see cref="Lstm"/>: one bias (ih + hh) without the forget bias, gates back to i, j, f, o.</summary>
    private static Blob[] MagentaLstm(LstmWeights l)
    {
        int size = l.HiddenSize;
        var bias = l.BiasIh.Zip(l.BiasHh, (a, b) => a + b).ToArray();
        for (int r = 0; r < size; r++) bias[size + r] -= ForgetBias;
        // The gate permutation (swap of blocks 1 and 2) is its own inverse.
        return
        [
            new Blob(0, l.InputSize, 4 * size, Transpose(PyTorchGateOrder(l.WeightIh, size, l.InputSize), 4 * size, l.InputSize), IsMatrix: true),
            new Blob(0, size, 4 * size, Transpose(PyTorchGateOrder(l.WeightHh, size, size), 4 * size, size), IsMatrix: true),
            Blob.Vector(PyTorchGateOrder(bias, size, 1)),
        ];
    }

    private static MagentaInfo ReadInfo(JsonElement info)
    {
        JsonElement Get(string name) => info.TryGetProperty(name, out var v) ? v : throw new InvalidDataException($"info has no '{name}'");
        var mode = Get("mode");
        return new MagentaInfo(
            Name: Get("name").GetString() ?? "",
            Mode: mode.ValueKind == JsonValueKind.String ? mode.GetString()! : mode.GetRawText(),
            Version: info.TryGetProperty("version", out var v) ? v.GetInt32() : 0,
            MaxSeqLen: Get("max_seq_len").GetInt32(),
            ScaleFactor: Get("scale_factor").GetDouble());
    }

    // Gen blob order: output_w [H,P], output_b [P], W_xh [5,4H], W_hh [H,4H], bias [4H].
    private static SketchRnnWeights ConvertGen(Blob[] b)
    {
        int size = b[0].Rows;
        var w = new SketchRnnWeights(null, null, Lstm(b[2], b[3], b[4], size), Linear(b[0], b[1]));
        Validate(w);
        return w;
    }

    // VAE blob order: encoder fwd (W_xh, W_hh, bias), encoder bwd (same), mu_w, mu_b, sigma_w, sigma_b,
    // enc_w [Z,2H], enc_b, output_w, output_b, decoder W_xh [5+Z,4H], W_hh, bias.
    private static SketchRnnWeights ConvertVae(Blob[] b)
    {
        int encoderSize = b[1].Rows, size = b[15].Rows;
        var encoder = new EncoderWeights(
            Lstm(b[0], b[1], b[2], encoderSize),
            Lstm(b[3], b[4], b[5], encoderSize),
            Linear(b[6], b[7]),
            Linear(b[8], b[9]));
        var w = new SketchRnnWeights(encoder, Linear(b[10], b[11]), Lstm(b[14], b[15], b[16], size), Linear(b[12], b[13]));
        Validate(w);
        return w;
    }

    private static void Validate(SketchRnnWeights w)
    {
        try { w.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException("inconsistent sketch-rnn-js dims: " + e.Message, e); }
    }

    /// <summary>x·W with W [In, Out] → PyTorch W [Out, In].</summary>
    private static LinearWeights Linear(Blob w, Blob b)
    {
        b.ExpectLength(w.Cols);
        return new LinearWeights(w.Rows, w.Cols, Transpose(w.Values, w.Rows, w.Cols), b.Values);
    }

    /// <summary>
    /// W_xh [In, 4H], W_hh [H, 4H], bias [4H] with gates i, j, f, o → PyTorch [4H, In], [4H, H] with gates i, f, g, o;
    /// the forget bias goes into bias_ih, and bias_hh stays zero since Magenta has a single bias.
    /// </summary>
    private static LstmWeights Lstm(Blob wxh, Blob whh, Blob bias, int size)
    {
        if (wxh.Cols != 4 * size || whh.Rows != size || whh.Cols != 4 * size)
            throw new InvalidDataException($"LSTM blobs {wxh.Index}, {whh.Index} do not match hidden size {size}");
        bias.ExpectLength(4 * size);
        var b = PyTorchGateOrder(bias.Values, size, 1);
        for (int r = 0; r < size; r++) b[size + r] += ForgetBias;
        return new LstmWeights(wxh.Rows, size,
            PyTorchGateOrder(Transpose(wxh.Values, wxh.Rows, wxh.Cols), size, wxh.Rows),
            PyTorchGateOrder(Transpose(whh.Values, whh.Rows, whh.Cols), size, size),
            b, new float[4 * size]);
    }

    /// <summary>Reorders the four H-row gate blocks of a [4H, cols] tensor from Magenta's i, j, f, o to PyTorch's i, f, g(=j), o.</summary>
    private static float[] PyTorchGateOrder(float[] a, int size, int cols)
    {
        int block = size * cols;
        var result = new float[a.Length];
        ReadOnlySpan<int> fromMagenta = [0, 2, 1, 3];
        for (int k = 0; k < 4; k++)
            a.AsSpan(fromMagenta[k] * block, block).CopyTo(result.AsSpan(k * block));
        return result;
    }

    private static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /// <summary>One de-quantised weight blob; a vector [n] is treated as one row.</summary>
    private sealed record Blob(int Index, int Rows, int Cols, float[] Values, bool IsMatrix = false)
    {
        private const double Range = 10.0;

        public static Blob Vector(float[] values) => new(0, 1, values.Length, values);

        public string Encode(int index)
        {
            var bytes = new byte[2 * Values.Length];
            for (int k = 0; k < Values.Length; k++)
            {
                var v = Values[k];
                if (!(Math.Abs(v) <= Range)) throw new InvalidDataException($"weight {k} of blob {index} is {v}: sketch-rnn-js stores weights within ±{Range}");
                BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * k), (short)Math.Round(v / Range * 32767.0));
            }
            return Convert.ToBase64String(bytes);
        }

        public static Blob Decode(int index, int[] dims, string base64)
        {
            if (dims.Length is < 1 or > 2 || dims.Any(d => d <= 0)) throw new InvalidDataException($"blob {index} has dims [{string.Join(",", dims)}]");
            int rows = dims.Length == 2 ? dims[0] : 1, cols = dims[^1];
            var bytes = Convert.FromBase64String(base64);
            if (bytes.Length != 2L * rows * cols)
                throw new InvalidDataException($"blob {index} has {bytes.Length} bytes, dims [{string.Join(",", dims)}] need {2L * rows * cols}");
            var values = new float[rows * cols];
            // sketch-rnn-js stores int16 = round(w / 10 * 32767), little-endian.
            for (int k = 0; k < values.Length; k++)
                values[k] = (float)(BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * k)) / 32767.0 * Range);
            return new Blob(index, rows, cols, values, dims.Length == 2);
        }

        public void ExpectLength(int n)
        {
            if (Rows != 1 || Cols != n) throw new InvalidDataException($"blob {Index} should be a vector of {n}, has [{Rows},{Cols}]");
        }
    }
}
