namespace SketchService.Runtime.Models;

/// <summary>How ONNX Runtime sessions are created for every model.</summary>
public sealed record InferenceOptions
{
    /// <summary>
    /// A decoder step at H = 512 measured 80–97 µs with one thread against ~200 µs with ORT's default on 2 cores, where
    /// the threads only fight each other; concurrency comes from requests.
    /// </summary>
    public const int DefaultOrtThreads = 1;

    /// <summary>Threads inside one operator (ORT's intra-op threads; 0 = ORT's default). The graphs are sequential chains, so operators never run side by side.</summary>
    public int OrtThreads { get; init; } = DefaultOrtThreads;

    /// <summary>Append ORT's CUDA execution provider (device 0); falls back to CPU (with a warning) where CUDA is unavailable.</summary>
    public bool UseCuda { get; init; }
}
