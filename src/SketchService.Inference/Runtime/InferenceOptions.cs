namespace SketchService.Inference.Runtime;

/// <summary>How ONNX Runtime sessions are created for every model.</summary>
public sealed record InferenceOptions
{
    /// <summary>
    /// Threads inside one operator. 1 by default: a decoder step at H = 512 measured 80–97 µs with one thread against
    /// ~200 µs with ORT's default on 2 cores, where the threads only fight each other; concurrency comes from requests.
    /// </summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Threads across independent operators; the graphs are sequential chains, so 1.</summary>
    public int InterOpThreads { get; init; } = 1;

    /// <summary>Append ORT's CUDA execution provider; falls back to CPU (with a warning) where CUDA is unavailable.</summary>
    public bool UseCuda { get; init; }

    public int CudaDeviceId { get; init; }
}

/// <summary>A model folder that cannot be served; <see cref="Exception.Message"/> says why.</summary>
public sealed class ModelLoadException(string folder, string reason, Exception? inner = null)
    : Exception($"{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}: {reason}", inner)
{
    public string Folder { get; } = folder;
    public string Reason { get; } = reason;
}

/// <summary>One input or output of a graph, for GET /models/{id}: dims are symbolic names ("B", "T") or sizes ("512").</summary>
public sealed record TensorDescription(string Name, string ElementType, IReadOnlyList<string> Dims);

/// <summary>The inputs and outputs of one ONNX file of a model.</summary>
public sealed record GraphDescription(string File, IReadOnlyList<TensorDescription> Inputs, IReadOnlyList<TensorDescription> Outputs);

/// <summary>The encoder's posterior for one sketch: z ~ N(Mu, Sigma²), Sigma = exp(presig / 2).</summary>
public sealed record LatentCode(float[] Mu, float[] Sigma)
{
    /// <summary>z = mu + sigma·ε with ε ~ N(0, I) drawn from <paramref name="seed"/>.</summary>
    public float[] Sample(int seed)
    {
        var eps = Latent.LatentMath.SamplePrior(Mu.Length, new Random(seed));
        return [.. Mu.Select((m, i) => m + Sigma[i] * eps[i])];
    }
}
