using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SketchService.Client;

/// <summary>Settings of a <see cref="SketchClient"/>.</summary>
public sealed record SketchClientOptions
{
    /// <summary>The API key, sent as <c>Authorization: Bearer</c>, when the service needs one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>How many times a 429, or a 503 with Retry-After, is sent again after its Retry-After (default 3; 0 turns retries off).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The longest wait before a retry (default 10 s): a service that asks for longer is not retried, and the exception carries its Retry-After.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The service's HTTP API, one method per endpoint. Works over any <see cref="HttpClient"/> whose BaseAddress is the
/// service (including a typed client from <c>services.AddHttpClient&lt;SketchClient&gt;(…)</c>). Failures throw
/// <see cref="SketchServiceException"/> with the service's ProblemDetails; 429 and 503 are retried after their
/// Retry-After, within <see cref="SketchClientOptions.MaxRetries"/> and <see cref="SketchClientOptions.MaxRetryDelay"/>.
/// </summary>
/// <remarks>
/// Retries are done here rather than by Microsoft.Extensions.Http.Resilience: its standard pipeline's total and
/// per-attempt timeouts would cut streamed completions that legitimately run long, it would need the app to register
/// it on every HttpClient, and it brings the Microsoft.Extensions 11 graph into every app that takes this package.
/// Each request here is a small JSON body that is cheap to send again, and only whole answers are retried, never a
/// stream that has started.
/// </remarks>
public sealed class SketchClient : IDisposable
{
    /// <summary>How the service writes JSON: snake_case; members this client does not know are ignored.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _base; // the BaseAddress ending in '/', so that a path prefix (http://host/sketch) is kept
    private readonly SketchClientOptions _options;

    /// <summary>A client over <paramref name="http"/>, whose BaseAddress is the service (e.g. http://localhost:5080).</summary>
    public SketchClient(HttpClient http, SketchClientOptions? options = null)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        if (http.BaseAddress is null) throw new ArgumentException("the HttpClient needs a BaseAddress: the service's URL", nameof(http));
        _base = http.BaseAddress.AbsoluteUri.EndsWith('/') ? http.BaseAddress : new Uri(http.BaseAddress.AbsoluteUri + "/");
        _options = options ?? new SketchClientOptions();
        if (_options.MaxRetries < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxRetries must be 0 or more");
    }

    /// <summary>A client of the service at <paramref name="baseAddress"/>, with an HttpClient of its own (disposed with it): make one and keep it.</summary>
    public SketchClient(Uri baseAddress, SketchClientOptions? options = null) : this(new HttpClient { BaseAddress = baseAddress }, options) => _ownsHttp = true;

    /// <summary>Disposes the HttpClient this client made; one given to it stays its owner's.</summary>
    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }

    /// <summary>GET /models: the models served.</summary>
    public Task<ModelList> GetModelsAsync(CancellationToken cancellationToken = default) => Send<ModelList>(HttpMethod.Get, "models", null, cancellationToken);

    /// <summary>GET /models/{id}: a model's manifest and graphs.</summary>
    public Task<ModelDetails> GetModelAsync(string id, CancellationToken cancellationToken = default) =>
        Send<ModelDetails>(HttpMethod.Get, $"models/{Uri.EscapeDataString(id)}", null, cancellationToken);

    /// <summary>POST /encode: a sketch's latent code (VAE models).</summary>
    public Task<SketchEncoding> EncodeAsync(EncodeRequest request, CancellationToken cancellationToken = default) =>
        Send<SketchEncoding>(HttpMethod.Post, "encode", request, cancellationToken);

    /// <summary>POST /complete, answered whole: every sample's drawing once it is finished.</summary>
    public Task<Completion> CompleteAsync(CompleteRequest request, CancellationToken cancellationToken = default) =>
        Send<Completion>(HttpMethod.Post, "complete", request, cancellationToken);

    /// <summary>POST /decode: drawings from a z (VAE models).</summary>
    public Task<Drawings> DecodeAsync(DecodeRequest request, CancellationToken cancellationToken = default) =>
        Send<Drawings>(HttpMethod.Post, "decode", request, cancellationToken);

    /// <summary>POST /generate: new drawings from the model's prior.</summary>
    public Task<Drawings> GenerateAsync(GenerateRequest request, CancellationToken cancellationToken = default) =>
        Send<Drawings>(HttpMethod.Post, "generate", request, cancellationToken);

    /// <summary>POST /interpolate: frames between two sketches or z's (VAE models).</summary>
    public Task<Interpolation> InterpolateAsync(InterpolateRequest request, CancellationToken cancellationToken = default) =>
        Send<Interpolation>(HttpMethod.Post, "interpolate", request, cancellationToken);

    /// <summary>POST /arithmetic: the drawing of a latent expression (VAE models).</summary>
    public Task<ArithmeticResult> ArithmeticAsync(ArithmeticRequest request, CancellationToken cancellationToken = default) =>
        Send<ArithmeticResult>(HttpMethod.Post, "arithmetic", request, cancellationToken);

    /// <summary>POST /complete as a picture of every sample (the given strokes grey).</summary>
    public Task<SketchImage> CompleteImageAsync(CompleteRequest request, ImageFormat format, CancellationToken cancellationToken = default) =>
        Image("complete", request, format, cancellationToken);

    /// <summary>POST /decode as a picture.</summary>
    public Task<SketchImage> DecodeImageAsync(DecodeRequest request, ImageFormat format, CancellationToken cancellationToken = default) =>
        Image("decode", request, format, cancellationToken);

    /// <summary>POST /generate as a picture.</summary>
    public Task<SketchImage> GenerateImageAsync(GenerateRequest request, ImageFormat format, CancellationToken cancellationToken = default) =>
        Image("generate", request, format, cancellationToken);

    /// <summary>POST /interpolate as a picture of its frames.</summary>
    public Task<SketchImage> InterpolateImageAsync(InterpolateRequest request, ImageFormat format, CancellationToken cancellationToken = default) =>
        Image("interpolate", request, format, cancellationToken);

    /// <summary>POST /arithmetic as a picture.</summary>
    public Task<SketchImage> ArithmeticImageAsync(ArithmeticRequest request, ImageFormat format, CancellationToken cancellationToken = default) =>
        Image("arithmetic", request, format, cancellationToken);

    /// <summary>
    /// POST /complete as a stream: each point as the service samples it (the points of all samples, interleaved by
    /// step; a sample's last point has <see cref="Pen.End"/> when it ended by itself). Stopping the enumeration or
    /// cancelling <paramref name="cancellationToken"/> closes the connection, and the service stops decoding.
    /// </summary>
    public async IAsyncEnumerable<CompletionPoint> StreamCompletionAsync(CompleteRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await SendWithRetries(HttpMethod.Post, "complete", request, "text/event-stream", null, cancellationToken).ConfigureAwait(false);
        using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var parser = SseParser.Create(body, (type, data) => (Type: type, Data: data.ToArray()));
        await foreach (var item in parser.EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            switch (item.Data.Type)
            {
                case "step":
                    yield return JsonSerializer.Deserialize<CompletionPoint>(item.Data.Data, Json) ?? throw new JsonException("an empty step event");
                    break;
                case "done":
                    yield break;
                case "error":
                    throw SketchServiceException.From(500, System.Text.Encoding.UTF8.GetString(item.Data.Data), null);
            }
        }
        throw new SketchServiceException(502, "Stream cut short", "the completion stream ended before its done event", new Dictionary<string, string[]>(), null, null);
    }

    private async Task<SketchImage> Image(string path, object request, ImageFormat format, CancellationToken ct)
    {
        var (query, type) = format switch
        {
            ImageFormat.Svg => ("svg", "image/svg+xml"),
            ImageFormat.Png => ("png", "image/png"),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        using var response = await SendWithRetries(HttpMethod.Post, path, request, type, query, ct).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        return new SketchImage(response.Content.Headers.ContentType?.MediaType ?? type, bytes);
    }

    private async Task<T> Send<T>(HttpMethod method, string path, object? request, CancellationToken ct)
    {
        using var response = await SendWithRetries(method, path, request, "application/json", null, ct).ConfigureAwait(false);
        using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync<T>(body, Json, ct).ConfigureAwait(false)
               ?? throw new JsonException($"{path} answered null");
    }

    /// <summary>The answer once its headers are in, when it is a success; 429 and 503 are sent again after their Retry-After.</summary>
    private async Task<HttpResponseMessage> SendWithRetries(HttpMethod method, string path, object? request, string accept, string? format, CancellationToken ct)
    {
        var body = request is null ? null : JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), Json);
        for (var attempt = 0; ; attempt++)
        {
            using var message = new HttpRequestMessage(method, new Uri(_base, format is null ? path : $"{path}?format={format}"));
            message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            if (_options.ApiKey is { } key) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (body is not null)
            {
                message.Content = new ByteArrayContent(body);
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                var retryAfter = RetryAfter(response);
                var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                var error = SketchServiceException.From((int)response.StatusCode, text, retryAfter);
                // A 429 is always worth another try (after 1 s when it names no time); a 503 only when it says when to
                // come back (a draining server does), not one for a passed deadline, which would just spend the work again.
                var wait = retryAfter ?? TimeSpan.FromSeconds(1);
                var retry = (response.StatusCode == HttpStatusCode.TooManyRequests || response.StatusCode == HttpStatusCode.ServiceUnavailable && retryAfter is not null)
                            && attempt < _options.MaxRetries && wait <= _options.MaxRetryDelay;
                if (!retry) throw error;
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero,
        _ => null,
    };
}
