using Microsoft.ML.OnnxRuntime;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// The decoder state of up to <see cref="Capacity"/> rows stepped together through decoder_step: one row per sample
/// being drawn, whatever request it belongs to. Rows [0, <see cref="Rows"/>) are live; rows join at the end
/// (<see cref="AddRows"/>) and leave by moving the last row into the freed one (<see cref="RemoveRow"/>), so the
/// live rows stay contiguous and one run covers them all. Every buffer (x, z_gates, h, c, params) is allocated once at
/// capacity; the IoBindings for each row count are made on first use and kept, so a step allocates no managed memory.
/// Steps alternate between two h/c buffer pairs (one read, the other written). Not thread-safe.
/// </summary>
public sealed class DecoderState : IDisposable
{
    private readonly SketchModel model;
    private readonly int hidden, latent, zGatesSize;
    private readonly float[] x, z, zGates, parameters; // z: decoder_init's input for the rows being added
    private readonly float[][] h, c;
    private readonly OrtIoBinding?[][] bindings; // [rows][pair]
    private readonly List<IDisposable> owned = [];
    private readonly RunOptions runOptions = new();
    private int current; // which h/c pair holds the current state

    internal DecoderState(SketchModel model, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var m = model.Manifest;
        this.model = model;
        Capacity = capacity;
        ParamsSize = m.ParamsSize;
        HasZ = m.IsVae;
        hidden = m.DecoderSize;
        latent = m.IsVae ? m.LatentSize : 0;
        zGatesSize = m.IsVae ? 4 * hidden : 0;
        x = new float[capacity * 5];
        z = new float[capacity * latent];
        zGates = new float[capacity * zGatesSize];
        parameters = new float[capacity * ParamsSize];
        h = [new float[capacity * hidden], new float[capacity * hidden]];
        c = [new float[capacity * hidden], new float[capacity * hidden]];
        bindings = [.. Enumerable.Range(0, capacity + 1).Select(_ => new OrtIoBinding?[2])];
    }

    public int Capacity { get; }

    /// <summary>Live rows: [0, Rows).</summary>
    public int Rows { get; private set; }

    /// <summary>Whether rows carry a latent code (VAE).</summary>
    public bool HasZ { get; }

    /// <summary>6M+3: the length of one row of <see cref="Params"/>.</summary>
    public int ParamsSize { get; }

    /// <summary>The next input of the live rows [Rows, 5] (stroke-5); write into it, then call <see cref="Step()"/>.</summary>
    public Span<float> Input => x.AsSpan(0, Rows * 5);

    /// <summary>The last step's raw parameters [Rows, 6M+3].</summary>
    public ReadOnlySpan<float> Params => parameters.AsSpan(0, Rows * ParamsSize);

    /// <summary>The current hidden and cell state [Rows, H].</summary>
    public ReadOnlySpan<float> H => h[current].AsSpan(0, Rows * hidden);
    public ReadOnlySpan<float> C => c[current].AsSpan(0, Rows * hidden);

    public Span<float> InputOf(int row) => x.AsSpan(row * 5, 5);

    public ReadOnlySpan<float> ParamsOf(int row) => parameters.AsSpan(row * ParamsSize, ParamsSize);

    /// <summary>
    /// Adds <paramref name="count"/> rows at the end, their input S0 and their state tanh(W z + b) and z_gates through
    /// decoder_init (VAE: one z per row, run as one batch) or zeros (decoder-only: z null). Returns the first new row.
    /// </summary>
    public int AddRows(int count, IReadOnlyList<float[]>? rowZ)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (Rows + count > Capacity) throw new InvalidOperationException($"{count} more rows do not fit: {Rows} of {Capacity} are live");
        if (HasZ != rowZ is not null)
            throw new ArgumentException(HasZ ? $"{model.Id} is a vae: give one z per sample" : $"{model.Id} is decoder-only: it takes no z", nameof(rowZ));
        if (rowZ is not null && (rowZ.Count != count || rowZ.Any(v => v.Length != latent)))
            throw new ArgumentException($"give {count} latent codes of size {latent}", nameof(rowZ));

        int first = Rows;
        for (int r = first; r < first + count; r++) StrokeFormats.StartToken.CopyTo(x.AsSpan(r * 5, 5));
        if (rowZ is null)
        {
            h[current].AsSpan(first * hidden, count * hidden).Clear();
            c[current].AsSpan(first * hidden, count * hidden).Clear();
        }
        else
        {
            for (int k = 0; k < count; k++) rowZ[k].CopyTo(z, k * latent);
            using var zValue = Slice(z, 0, count, latent);
            using var hValue = Slice(h[current], first, count, hidden);
            using var cValue = Slice(c[current], first, count, hidden);
            using var gatesValue = Slice(zGates, first, count, zGatesSize);
            // [c, h] = tanh(W z + b) and z_gates, written straight into the new rows.
            model.DecoderInit.Run(runOptions, [ModelFolder.DecoderInit.Z], [zValue],
                [ModelFolder.DecoderInit.H, ModelFolder.DecoderInit.C, ModelFolder.DecoderInit.ZGates], [hValue, cValue, gatesValue]);
        }
        Rows += count;
        return first;
    }

    /// <summary>Removes a live row by moving the last live row into it; returns the index that moved (or -1 when the row was the last).</summary>
    public int RemoveRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Rows, nameof(row));
        int last = --Rows;
        if (row == last) return -1;
        Array.Copy(x, last * 5, x, row * 5, 5);
        Array.Copy(zGates, last * zGatesSize, zGates, row * zGatesSize, zGatesSize);
        Array.Copy(h[current], last * hidden, h[current], row * hidden, hidden);
        Array.Copy(c[current], last * hidden, c[current], row * hidden, hidden);
        return last;
    }

    /// <summary>Removes every row.</summary>
    public void Clear() => Rows = 0;

    /// <summary>Copies <paramref name="input"/> [Rows, 5] into <see cref="Input"/> and steps.</summary>
    public ReadOnlySpan<float> Step(ReadOnlySpan<float> input)
    {
        input.CopyTo(Input);
        return Step();
    }

    /// <summary>Runs one step over the live rows on <see cref="Input"/>; returns params [Rows, 6M+3], valid until the next step.</summary>
    public ReadOnlySpan<float> Step()
    {
        if (Rows == 0) return [];
        model.DecoderStep.RunWithBinding(runOptions, Binding(Rows, current));
        current = 1 - current;
        return Params;
    }

    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
        owned.Clear();
        runOptions.Dispose();
    }

    /// <summary>The binding that reads pair <paramref name="pair"/> and writes the other, over the first <paramref name="rows"/> rows.</summary>
    private OrtIoBinding Binding(int rows, int pair)
    {
        if (bindings[rows][pair] is { } made) return made;
        var binding = model.DecoderStep.CreateIoBinding();
        owned.Add(binding);
        binding.BindInput(ModelFolder.DecoderStep.X, Keep(Slice(x, 0, rows, 5)));
        if (HasZ) binding.BindInput(ModelFolder.DecoderStep.ZGates, Keep(Slice(zGates, 0, rows, zGatesSize)));
        binding.BindInput(ModelFolder.DecoderStep.H, Keep(Slice(h[pair], 0, rows, hidden)));
        binding.BindInput(ModelFolder.DecoderStep.C, Keep(Slice(c[pair], 0, rows, hidden)));
        binding.BindOutput(ModelFolder.DecoderStep.Params, Keep(Slice(parameters, 0, rows, ParamsSize)));
        binding.BindOutput(ModelFolder.DecoderStep.HOut, Keep(Slice(h[1 - pair], 0, rows, hidden)));
        binding.BindOutput(ModelFolder.DecoderStep.COut, Keep(Slice(c[1 - pair], 0, rows, hidden)));
        return bindings[rows][pair] = binding;
    }

    private OrtValue Keep(OrtValue value)
    {
        owned.Add(value);
        return value;
    }

    /// <summary>A [rows, cols] tensor over rows [first, first + rows) of a row-major buffer, without copying.</summary>
    private static OrtValue Slice(float[] data, int first, int rows, int cols) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(first * cols, rows * cols), [rows, cols]);
}
