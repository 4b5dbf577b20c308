using System.ComponentModel.DataAnnotations;

namespace SketchService.Api;

/// <summary>
/// The "SketchService" configuration section (appsettings.json, or environment variables such as
/// <c>SketchService__ModelsPath</c>, <c>SketchService__UseCuda</c>): every setting of the service with its one default.
/// docs/configuration.md lists them (a test checks that it names every one).
/// </summary>
public sealed class SketchServiceOptions : IValidatableObject
{
    public const string Section = "SketchService";

    /// <summary>Folder holding one model folder per model id; relative paths are resolved against the content root
    /// (and, when that has no such folder, against the repository root above it, so <c>dotnet run</c> serves <c>models/</c>).</summary>
    public string ModelsPath { get; set; } = "models";

    /// <summary>Model used when a request names none; default: the first model id in ordinal order.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>ONNX Runtime intra-op threads per session (0 = ORT's default).</summary>
    [Range(0, 256)] public int OrtThreads { get; set; } = Runtime.Models.InferenceOptions.DefaultOrtThreads;

    /// <summary>Run on the CUDA execution provider (needs the build with -p:OnnxRuntimeGpu=true).</summary>
    public bool UseCuda { get; set; }

    /// <summary>Default for a request's <c>max_steps</c>.</summary>
    [Range(1, 10_000)] public int DefaultSteps { get; set; } = 250;

    /// <summary>Hard cap on a request's <c>max_steps</c>.</summary>
    [Range(1, 100_000_000)] public int MaxSteps { get; set; } = 1000;

    /// <summary>Most sketches one request may sample (<c>samples</c>, <c>n</c> of /interpolate).</summary>
    [Range(1, 1024)] public int MaxSamples { get; set; } = 16;

    /// <summary>Most points in one input sketch.</summary>
    [Range(1, 1_000_000)] public int MaxPoints { get; set; } = 2000;

    /// <summary>Largest absolute coordinate accepted in a sketch (stroke-3 dx, dy; polyline x, y), so sums of 2000 points stay finite.</summary>
    [Range(1, 1e9)] public double MaxCoordinate { get; set; } = 100_000;

    /// <summary>Largest request body in bytes (Kestrel's MaxRequestBodySize).</summary>
    [Range(1024, 1L << 30)] public long MaxBodyBytes { get; set; } = 1 << 20;

    /// <summary>Longest /arithmetic expression, in characters.</summary>
    [Range(1, 100_000)] public int MaxExpressionLength { get; set; } = 500;

    /// <summary>Temperature used when a request gives none.</summary>
    [Range(0, 5)] public double DefaultTemperature { get; set; } = 0.5;

    /// <summary>Highest temperature a request may ask for.</summary>
    [Range(0, 10)] public double MaxTemperature { get; set; } = 2.0;

    /// <summary>Most rows (sketches being drawn, over all requests) one model's decoder steps at once; more wait in its queue.</summary>
    [Range(1, 4096)] public int MaxLiveRows { get; set; } = 128;

    /// <summary>Most requests per model waiting, for the encoder or for rows; one more gets 429 at once.</summary>
    [Range(0, 100_000)] public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Deadline of a request's model work in seconds, waiting for the encoder or rows included: past it, 503 (or <c>event: error</c> in a stream). 0: none.</summary>
    [Range(0, 86_400)] public double RequestDeadlineSeconds { get; set; } = 30;

    /// <summary>
    /// Most work one request may ask for, in LSTM steps: the points of every sketch it encodes, plus samples × (prefix
    /// points + max_steps) decoder steps, plus 16 × prefix points where /complete scores candidate z's (condition prior).
    /// More is a 400 before any work starts.
    /// </summary>
    [Range(1, 1_000_000_000)] public int MaxRequestCost { get; set; } = 20_000;

    /// <summary>Most sketches encoded in one batched encoder run.</summary>
    [Range(1, 1024)] public int MaxEncodeBatch { get; set; } = 32;

    /// <summary>
    /// Most padded points (longest sketch × sketches) in one encoder run: a run cannot be stopped once started, so this
    /// bounds how long one request holds the encoder and the memory of one run.
    /// </summary>
    [Range(1, 1_000_000)] public int MaxEncodeRunPoints { get; set; } = 4096;

    /// <summary>Most named operands in one /arithmetic expression.</summary>
    [Range(1, 1000)] public int MaxOperands { get; set; } = 16;

    /// <summary>Most concurrent connections (Kestrel's MaxConcurrentConnections); more wait in the OS's accept queue.</summary>
    [Range(1, 1_000_000)] public long MaxConnections { get; set; } = 4096;

    /// <summary>
    /// Slowest accepted request body, in bytes per second after a 5 s grace (Kestrel's MinRequestBodyDataRate): a slower
    /// body is cut with 408, so a client trickling bytes cannot hold a connection for an hour.
    /// </summary>
    [Range(1, 1_000_000_000)] public double MinRequestBodyBytesPerSecond { get; set; } = 1024;

    /// <summary>
    /// How long an event stream waits after a write before the next one, in milliseconds (a first point after a pause goes
    /// at once): points that arrive meanwhile share a write. 0 writes every point on its own.
    /// </summary>
    [Range(0, 1000)] public double StreamFlushIntervalMs { get; set; } = 4;

    /// <summary>
    /// On SIGTERM, how long running requests (live streams included) may go on before they are ended; new decoding is
    /// refused from the start. The process exits within this plus 5 s: keep a pod's terminationGracePeriodSeconds above it.
    /// </summary>
    [Range(0, 3600)] public double DrainSeconds { get; set; } = 20;

    /// <summary>
    /// Origins whose pages may call the API from a browser (CORS), comma-separated, e.g.
    /// <c>https://editor.p5js.org,https://example.com</c>; <c>*</c>: any.
    /// </summary>
    public string AllowedOrigins { get; set; } = "*";

    /// <summary>
    /// SHA-256 hashes (hex) of the API keys that may call the API, comma-separated; empty (and no file): no keys needed.
    /// <c>printf %s "$KEY" | sha256sum</c> gives a key's hash.
    /// </summary>
    public string ApiKeyHashes { get; set; } = "";

    /// <summary>A file of more key hashes, one per line (a mounted Kubernetes Secret); empty: none.</summary>
    public string ApiKeyHashesFile { get; set; } = "";

    /// <summary>
    /// The share of a model's rows (<see cref="MaxLiveRows"/>) and requests (rows + <see cref="MaxQueuedRequests"/>) one
    /// caller may hold at once; past it that caller gets 429 while others go on being served. 1: no per-caller share.
    /// </summary>
    [Range(0.01, 1)] public double CallerShare { get; set; } = 0.25;

    /// <summary>
    /// While other callers hold work too, the share of <see cref="MaxLiveRows"/> a caller that already holds rows may grow
    /// to (a caller holding nothing may still start up to <see cref="CallerShare"/>): every row is stepped every tick, so
    /// one caller's many rows slow everyone's points.
    /// </summary>
    [Range(0.01, 1)] public double CallerShareWhenCrowded { get; set; } = 0.03125;

    /// <summary>Requests a second one caller may send, in a token bucket of <see cref="CallerBurst"/>; 0: no rate limit.</summary>
    [Range(0, 100_000)] public double CallerRequestsPerSecond { get; set; }

    /// <summary>How many requests one caller may send at once before its rate applies.</summary>
    [Range(1, 1_000_000)] public int CallerBurst { get; set; } = 100;

    /// <summary>
    /// Addresses of the proxies (an ingress, a load balancer) whose <c>X-Forwarded-For</c> names the client, comma-separated;
    /// empty: the header is ignored and a caller is its connection's address.
    /// </summary>
    public string ForwardedProxies { get; set; } = "";

    /// <summary>
    /// URLs of a management port, semicolon-separated (<c>http://*:9090</c>): /metrics is served there only, with no
    /// key, and nothing else is. Empty: /metrics is on the API's port (behind the API key when keys are on).
    /// </summary>
    public string ManagementUrls { get; set; } = "";

    /// <summary>Write logs to the console as compact JSON (CLEF) instead of text.</summary>
    public bool JsonConsoleLogging { get; set; }

    /// <summary>The rows one caller may hold at once: <see cref="CallerShare"/> of <see cref="MaxLiveRows"/>, rounded up; unbounded at a share of 1.</summary>
    public int RowsPerCaller => Share(CallerShare, MaxLiveRows);

    /// <summary>The rows a caller that holds some may grow to while others are served (<see cref="CallerShareWhenCrowded"/>; the scheduler keeps it within <see cref="RowsPerCaller"/>).</summary>
    public int RowsPerCallerWhenCrowded => Share(CallerShareWhenCrowded, MaxLiveRows);

    /// <summary>The requests one caller may have running or waiting at once, by the same share.</summary>
    public int RequestsPerCaller => Share(CallerShare, MaxLiveRows + MaxQueuedRequests);

    /// <summary>
    /// Most rows (samples, or /interpolate frames) one request may ask for: within <see cref="MaxSamples"/>, the batch,
    /// and one caller's rows — a request that could never fit its caller's share is a 400, not a 429 to retry forever.
    /// </summary>
    public int MaxRowsPerRequest => Math.Min(MaxSamples, Math.Min(MaxLiveRows, RowsPerCaller));

    /// <summary>A share of a total, rounded up; no bound at all when callers have no share (<see cref="CallerShare"/> 1).</summary>
    private int Share(double share, int total) => CallerShare >= 1 ? int.MaxValue : Math.Max(1, (int)Math.Ceiling(share * total));

    /// <summary>How long a request's model work may take; null for none.</summary>
    public TimeSpan? RequestDeadline => RequestDeadlineSeconds > 0 ? TimeSpan.FromSeconds(RequestDeadlineSeconds) : null;

    /// <summary>Defaults that their own limits would refuse: checked at start, so that no request is refused for a field it left out.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (DefaultSteps > MaxSteps)
            yield return new($"DefaultSteps ({DefaultSteps}) must be at most MaxSteps ({MaxSteps})", [nameof(DefaultSteps)]);
        if (CallerRequestsPerSecond is > 0 and < 1.0 / 86_400)
            yield return new($"CallerRequestsPerSecond ({CallerRequestsPerSecond}) must be 0 (no limit) or at least one a day (1/86400)", [nameof(CallerRequestsPerSecond)]);
        if (DefaultTemperature > MaxTemperature)
            yield return new($"DefaultTemperature ({DefaultTemperature}) must be at most MaxTemperature ({MaxTemperature})", [nameof(DefaultTemperature)]);
    }
}
