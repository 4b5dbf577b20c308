using Onnx;
using static SketchService.Export.GraphBuilder;
using DataType = Onnx.TensorProto.Types.DataType;
using SketchService.Core.Model;

namespace SketchService.Export;

/// <summary>
/// Builds the three ONNX graphs of a model folder (see <see cref="ModelFolder"/>) from weights in PyTorch layout.
/// </summary>
public static class SketchRnnOnnx
{
    /// <summary>
    /// encoder.onnx: strokes [T, B, 5], lengths [B] int32 → mu, presig [B, Z]. One bidirectional LSTM op with
    /// sequence_lens = lengths, so the backward direction starts at each item's own last point and padding never
    /// reaches either final state. With the partial flag's weights, partial [B] too: mu and presig are shifted by
    /// partial · shift.
    /// </summary>
    public static ModelProto BuildEncoder(SketchRnnWeights w)
    {
        w.Validate();
        var e = w.Encoder ?? throw new ArgumentException("a decoder-only model has no encoder");
        int size = e.Forward.HiddenSize, input = e.Forward.InputSize, latent = e.Mu.OutputSize;
        // One bidirectional op needs both directions the same shape, and the heads read [h_fwd, h_bwd].
        if (e.Backward.HiddenSize != size || e.Backward.InputSize != input)
            throw new ArgumentException("forward and backward encoder LSTMs must have the same sizes");
        if (e.Mu.InputSize != 2 * size || e.Presig.InputSize != 2 * size || e.Presig.OutputSize != latent)
            throw new ArgumentException($"mu and presig heads must map 2E = {2 * size} to the same Z");
        var g = new GraphBuilder("sketch_rnn_encoder");
        g.Input(ModelFolder.Encoder.Strokes, DataType.Float, "T", "B", input);
        g.Input(ModelFolder.Encoder.Lengths, DataType.Int32, "B");
        if (e.Partial is not null) g.Input(ModelFolder.Encoder.Partial, DataType.Float, "B");
        g.Output(ModelFolder.Encoder.Mu, DataType.Float, "B", latent);
        g.Output(ModelFolder.Encoder.Presig, DataType.Float, "B", latent);

        // ONNX stacks directions first and wants gates in i, o, f, c order with B = [Wb; Rb] per direction.
        var wx = g.Constant("lstm_W", [.. OnnxGateOrder(e.Forward.WeightIh), .. OnnxGateOrder(e.Backward.WeightIh)], 2, 4 * size, input);
        var wh = g.Constant("lstm_R", [.. OnnxGateOrder(e.Forward.WeightHh), .. OnnxGateOrder(e.Backward.WeightHh)], 2, 4 * size, size);
        var b = g.Constant("lstm_B",
            [.. OnnxGateOrder(e.Forward.BiasIh), .. OnnxGateOrder(e.Forward.BiasHh),
             .. OnnxGateOrder(e.Backward.BiasIh), .. OnnxGateOrder(e.Backward.BiasHh)],
            2, 8 * size);
        g.Node("LSTM", [ModelFolder.Encoder.Strokes, wx, wh, b, ModelFolder.Encoder.Lengths], ["", "last_h_dirs"],
            String("direction", "bidirectional"), Int("hidden_size", size));

        // Y_h [2, B, E] → [B, 2, E] → [B, 2E]: forward final state first, then backward, as Magenta concatenates them.
        g.Node("Transpose", "last_h_batch", ["last_h_dirs"], Ints("perm", 1, 0, 2));
        var last = g.Node("Reshape", "last_h", ["last_h_batch", g.Constant("last_h_shape", [0, 2L * size], 2)]);

        if (e.Partial is not { } shift)
        {
            g.Node("Gemm", ModelFolder.Encoder.Mu, [last, g.Constant("mu_W", e.Mu.Weight, latent, 2 * size), g.Constant("mu_b", e.Mu.Bias, latent)], Int("transB", 1));
            g.Node("Gemm", ModelFolder.Encoder.Presig, [last, g.Constant("presig_W", e.Presig.Weight, latent, 2 * size), g.Constant("presig_b", e.Presig.Bias, latent)], Int("transB", 1));
            return g.ToModel();
        }
        // partial [B] → [B, 1] · shift [2Z] → [B, 2Z], added to [mu, presig] as the trainer does.
        var heads = g.Node("Gemm", "heads", [last, g.Constant("heads_W", [.. e.Mu.Weight, .. e.Presig.Weight], 2 * latent, 2 * size),
            g.Constant("heads_b", [.. e.Mu.Bias, .. e.Presig.Bias], 2 * latent)], Int("transB", 1));
        var flag = g.Node("Reshape", "partial_column", [ModelFolder.Encoder.Partial, g.Constant("partial_shape", [-1L, 1], 2)]);
        var shifted = g.Node("Add", "shifted", [heads, g.Node("Mul", "partial_shift", [flag, g.Constant("partial_W", shift, 2 * latent)])]);
        g.Node("Split", [shifted, g.Constant("heads_split", [(long)latent, latent], 2)], [ModelFolder.Encoder.Mu, ModelFolder.Encoder.Presig], Int("axis", 1));
        return g.ToModel();
    }

    /// <summary>
    /// decoder_init.onnx: z [B, Z] → s = tanh(z Wᵀ + b); c = s[:, 0:H], h = s[:, H:2H] (c first, as Magenta); and
    /// z_gates = z W_zᵀ, the columns of the LSTM's input weights that read z. z is the same at every step of a row, so its
    /// third of the step's multiply-adds (Z of 5 + Z + H inputs) is done once per row here instead of at every step.
    /// </summary>
    public static ModelProto BuildDecoderInit(SketchRnnWeights w)
    {
        w.Validate();
        var init = w.Init ?? throw new ArgumentException("a decoder-only model has no decoder_init");
        int size = w.DecoderSize, latent = init.InputSize;
        var g = new GraphBuilder("sketch_rnn_decoder_init");
        g.Input(ModelFolder.DecoderInit.Z, DataType.Float, "B", latent);
        g.Output(ModelFolder.DecoderInit.H, DataType.Float, "B", size);
        g.Output(ModelFolder.DecoderInit.C, DataType.Float, "B", size);
        g.Output(ModelFolder.DecoderInit.ZGates, DataType.Float, "B", 4 * size);

        g.Node("Gemm", ModelFolder.DecoderInit.ZGates,
            [ModelFolder.DecoderInit.Z, g.Constant("z_W", Columns(w.Decoder.WeightIh, 4 * size, w.Decoder.InputSize, 5, latent), 4 * size, latent)], Int("transB", 1));
        g.Node("Gemm", "init_linear", [ModelFolder.DecoderInit.Z, g.Constant("init_W", init.Weight, 2 * size, latent), g.Constant("init_b", init.Bias, 2 * size)], Int("transB", 1));
        g.Node("Tanh", "init_state", ["init_linear"]);
        g.Node("Split", ["init_state", g.Constant("init_split", [size, size], 2)], [ModelFolder.DecoderInit.C, ModelFolder.DecoderInit.H], Int("axis", 1));
        return g.ToModel();
    }

    /// <summary>
    /// decoder_step.onnx: one LSTM step and the output layer. A hand-built cell: one Gemm on concat([x, h]) against
    /// pre-concatenated [W_x | W_hh]ᵀ with b_ih + b_hh folded, plus decoder_init's z_gates (VAE), then Split and the gate
    /// activations. The matrix product dominates the step: the LSTM op, or one Sigmoid shared by three gates, measured
    /// level with this plainest graph.
    /// </summary>
    public static ModelProto BuildDecoderStep(SketchRnnWeights w)
    {
        w.Validate();
        var d = w.Decoder;
        int size = d.HiddenSize, input = d.InputSize, outputs = w.Output.OutputSize;
        var g = new GraphBuilder("sketch_rnn_decoder_step");
        g.Input(ModelFolder.DecoderStep.X, DataType.Float, "B", 5);
        if (w.Kind == ModelKind.Vae) g.Input(ModelFolder.DecoderStep.ZGates, DataType.Float, "B", 4 * size);
        g.Input(ModelFolder.DecoderStep.H, DataType.Float, "B", size);
        g.Input(ModelFolder.DecoderStep.C, DataType.Float, "B", size);
        g.Output(ModelFolder.DecoderStep.Params, DataType.Float, "B", outputs);
        g.Output(ModelFolder.DecoderStep.HOut, DataType.Float, "B", size);
        g.Output(ModelFolder.DecoderStep.COut, DataType.Float, "B", size);

        g.Node("Concat", "cell_input", [ModelFolder.DecoderStep.X, ModelFolder.DecoderStep.H], Int("axis", 1));
        var weight = g.Constant("cell_W", StackTransposed(Columns(d.WeightIh, 4 * size, input, 0, 5), d.WeightHh, 4 * size, 5, size), 5 + size, 4 * size);
        var bias = g.Constant("cell_b", [.. d.BiasIh.Zip(d.BiasHh, (a, b) => a + b)], 4 * size);
        if (w.Kind == ModelKind.Vae)
            g.Node("Add", "gates", [g.Node("Gemm", "point_gates", ["cell_input", weight, bias]), ModelFolder.DecoderStep.ZGates]);
        else
            g.Node("Gemm", "gates", ["cell_input", weight, bias]);

        // PyTorch gate order i, f, g, o.
        g.Node("Split", ["gates", g.Constant("gate_split", [size, size, size, size], 4)], ["gate_i", "gate_f", "gate_g", "gate_o"], Int("axis", 1));
        var i = g.Node("Sigmoid", "i", ["gate_i"]);
        var f = g.Node("Sigmoid", "f", ["gate_f"]);
        var gg = g.Node("Tanh", "g", ["gate_g"]);
        var o = g.Node("Sigmoid", "o", ["gate_o"]);
        g.Node("Add", ModelFolder.DecoderStep.COut, [g.Node("Mul", "fc", [f, ModelFolder.DecoderStep.C]), g.Node("Mul", "ig", [i, gg])]);
        g.Node("Mul", ModelFolder.DecoderStep.HOut, [o, g.Node("Tanh", "c_tanh", [ModelFolder.DecoderStep.COut])]);

        g.Node("Gemm", ModelFolder.DecoderStep.Params,
            [ModelFolder.DecoderStep.HOut, g.Constant("output_W", w.Output.Weight, outputs, size), g.Constant("output_b", w.Output.Bias, outputs)],
            Int("transB", 1));
        return g.ToModel();
    }

    /// <summary>Reorders the four gate blocks of a [4H, …] PyTorch tensor (i, f, g, o) into ONNX's i, o, f, c.</summary>
    private static float[] OnnxGateOrder(float[] a)
    {
        int block = a.Length / 4;
        var result = new float[a.Length];
        ReadOnlySpan<int> fromPyTorch = [0, 3, 1, 2];
        for (int k = 0; k < 4; k++)
            a.AsSpan(fromPyTorch[k] * block, block).CopyTo(result.AsSpan(k * block));
        return result;
    }

    /// <summary>Columns [first, first + count) of a row-major [rows, cols] matrix, as a [rows, count] one.</summary>
    private static float[] Columns(float[] a, int rows, int cols, int first, int count)
    {
        var result = new float[rows * count];
        for (int r = 0; r < rows; r++) a.AsSpan(r * cols + first, count).CopyTo(result.AsSpan(r * count));
        return result;
    }

    /// <summary>[A | B]ᵀ for A [rows, colsA] and B [rows, colsB]: the [colsA + colsB, rows] matrix that x·W needs.</summary>
    private static float[] StackTransposed(float[] a, float[] b, int rows, int colsA, int colsB)
    {
        int cols = colsA + colsB;
        var result = new float[cols * rows];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < colsA; c++) result[c * rows + r] = a[r * colsA + c];
            for (int c = 0; c < colsB; c++) result[(colsA + c) * rows + r] = b[r * colsB + c];
        }
        return result;
    }
}
