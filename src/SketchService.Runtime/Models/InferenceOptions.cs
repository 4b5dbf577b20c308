namespace SketchService.Runtime.Models;

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
