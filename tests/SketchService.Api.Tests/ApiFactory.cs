using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SketchService.Api.Serving;
using SketchService.Core.Model;
using SketchService.Export;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Tests;

/// <summary>
/// The one WebApplicationFactory of the HTTP tests: the real app on Kestrel at 127.0.0.1:{random port} (so Kestrel's
/// body-size limit, client disconnects and the browser test are real), serving a temporary models folder:
/// <list type="bullet">
/// <item><c>tiny</c>: a VAE with random encoder/LSTM weights and a zero output layer whose bias fixes every step's
/// mixture: component 0 (π logit 1 vs 0) has mean (0.5, −0.25) in model units, scale_factor 10, so greedy decoding
/// draws (5, −2.5) pixels per point, pen down, and never ends.</item>
/// <item><c>slow</c>: the same fixed output on a decoder-only 512-unit LSTM, so that each step costs what a real
/// model's does: a stream that never ends at τ 0 and still runs for seconds on a fast machine.</item>
/// <item><c>bird</c>: Google's pretrained decoder-only bird imported from $SKETCH_DATA/models/magenta/bird.gen.json, when
/// that is there (<see cref="HasBird"/>; a test that needs it asks <see cref="Bird"/>, which skips it otherwise).</item>
/// <item><c>sheep</c>: the repository's committed models/sheep, when present.</item>
/// <item><c>broken</c>: a folder with an unreadable model.json, which must be reported and skipped.</item>
/// </list>
/// The app logs nothing below Fatal here: the tests provoke failures on purpose (the broken folder, 503s, deadlines), and
/// their answers are what the tests check. <c>SKETCH_TEST_LOG_LEVEL=Information</c> shows the app's log again.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const int MaxStepsCap = 100_000;
    public const double TinyScale = 10;
    public static readonly (float X, float Y) TinyMean = (0.5f, -0.25f);

    private readonly TempFolder _models = new();
    public string ModelsPath => _models.Path;
    public bool HasSheep { get; }
    public bool HasBird { get; }
    public static string RepoRoot => SharedData.RepoRoot;
    private static readonly string[] BirdFile = ["models", "magenta", "bird.gen.json"];

    /// <summary>What answers 200 once the app has started and loaded its models.</summary>
    protected virtual string ReadyPath => "/health/ready";

    /// <summary>More SketchService settings for a factory of its own (e.g. small batching limits).</summary>
    protected virtual IEnumerable<(string Key, string Value)> Settings => [];

    public ApiFactory()
    {
        ModelWriter.Write(Path.Combine(ModelsPath, "tiny"), TinyWeights(), new ModelManifest
        {
            Name = "tiny", Kind = ModelKind.Vae, DecoderSize = 8, Mixtures = 2, ScaleFactor = TinyScale, MaxSeqLen = TestModels.NeverPushedToEnd, DrawingExtent = 100, Source = "test",
        });
        ModelWriter.Write(Path.Combine(ModelsPath, "slow"), FixedOutput(TestWeights.Random(seed: 6, vae: false, decoder: 512, mixtures: 2)), new ModelManifest
        {
            Name = "slow", Kind = ModelKind.DecoderOnly, DecoderSize = 512, Mixtures = 2, ScaleFactor = TinyScale, MaxSeqLen = TestModels.NeverPushedToEnd, DrawingExtent = 100, Source = "test",
        });
        if (SharedData.TryPath(BirdFile) is { } bird) // a fixture cannot skip: the tests that need the bird ask Bird()
        {
            MagentaModel.Import(bird, Path.Combine(ModelsPath, "bird"), "magenta:bird");
            HasBird = true;
        }
        var sheep = Path.Combine(SharedData.RepoRoot, "models", "sheep");
        if (File.Exists(Path.Combine(sheep, ModelFolder.ManifestFile)))
        {
            HasSheep = true;
            TempFolder.CopyFiles(sheep, Path.Combine(ModelsPath, "sheep"));
        }
        Directory.CreateDirectory(Path.Combine(ModelsPath, "broken"));
        File.WriteAllText(Path.Combine(ModelsPath, "broken", ModelFolder.ManifestFile), "{ not json");
        UseKestrel(); // on the "urls" setting below: a random port, and the management port when a factory adds one
    }

    /// <summary>The id of Google's bird model, for a test that needs it; skips the test (saying why) when it is not served.</summary>
    public string Bird()
    {
        if (!HasBird) SharedData.Path(BirdFile);
        return "bird";
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        var logLevel = Environment.GetEnvironmentVariable("SKETCH_TEST_LOG_LEVEL") ?? "Fatal";
        foreach (var key in new[] { "Default", "Override:Microsoft.AspNetCore", "Override:Microsoft.Hosting.Lifetime" })
            builder.UseSetting($"Serilog:MinimumLevel:{key}", logLevel);
        builder.UseSetting("SketchService:ModelsPath", ModelsPath);
        builder.UseSetting("SketchService:DefaultModel", "tiny");
        builder.UseSetting("SketchService:MaxSteps", MaxStepsCap.ToString());
        builder.UseSetting("SketchService:MaxRequestCost", (16 * (MaxStepsCap + 2000)).ToString());
        builder.UseSetting("SketchService:CallerShare", "1"); // the tests are one caller (127.0.0.1); FairShareTests give callers their share
        foreach (var (key, value) in Settings) builder.UseSetting($"SketchService:{key}", value);
        builder.UseSetting("urls", "http://127.0.0.1:0");
    }

    /// <summary>The scheduler of a served model: its live rows, queue and ticks show what it is doing.</summary>
    public ModelScheduler Scheduler(string model) => Services.GetRequiredService<ModelStore>().Models[model].Scheduler;

    /// <summary>The Kestrel address, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseAddress => new(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public HttpClient Client() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    private JsonSerializerOptions? json;

    /// <summary>
    /// How the tests read an answer into the API's response records: the app's own JSON options (snake_case, strict
    /// numbers; from its container, so they cannot drift from Program.cs), made strict for reading: every constructor
    /// parameter present, no null where the record says non-null, no member the record lacks. A test that reads a
    /// response this way still checks every field name.
    /// </summary>
    public JsonSerializerOptions Json => json ??= new(Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions)
    {
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public async ValueTask InitializeAsync()
    {
        StartServer();
        using var client = Client();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            using var r = await client.GetAsync(ReadyPath);
            if (r.IsSuccessStatusCode) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("models not ready: " + await r.Content.ReadAsStringAsync());
            await Task.Delay(100);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _models.Dispose();
    }

    /// <summary>Encoder and LSTM random; output layer zero with a bias that fixes the mixture (see the class summary).</summary>
    internal static SketchRnnWeights TinyWeights() => FixedOutput(TestWeights.Random(seed: 5, vae: true, encoder: 6, decoder: 8, latent: 4, mixtures: 2));

    private static SketchRnnWeights FixedOutput(SketchRnnWeights w)
    {
        const int M = 2;
        var bias = new float[6 * M + 3];
        bias[0] = 3; bias[1] = 0; bias[2] = -1;              // pen logits: down, up, end
        bias[3] = 1; bias[4] = 0;                            // π logits
        bias[3 + M] = TinyMean.X; bias[3 + M + 1] = 2;       // μx
        bias[3 + 2 * M] = TinyMean.Y; bias[3 + 2 * M + 1] = -2; // μy
        bias[3 + 3 * M] = -1; bias[3 + 3 * M + 1] = -1;      // log σx
        bias[3 + 4 * M] = -1; bias[3 + 4 * M + 1] = -1;      // log σy
        var output = new LinearWeights(w.Output.InputSize, w.Output.OutputSize, new float[w.Output.Weight.Length], bias);
        return w with { Output = output };
    }
}

[CollectionDefinition("Api")]
public sealed class ApiCollection : ICollectionFixture<ApiFactory>;

/// <summary>
/// HTTP helpers: <see cref="GetOk{T}"/> and <see cref="PostOk{T}"/> read a successful answer into the API's response
/// records (with <see cref="ApiFactory.Json"/>); <see cref="PostJson"/> gives any answer as a <see cref="JsonNode"/>, for
/// the tests whose point is the wire format itself (ProblemDetails and their extension members, malformed input).
/// </summary>
internal static class Http
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>GETs <paramref name="path"/>, asserts a 200 JSON answer and reads it as the API's <typeparamref name="T"/>.</summary>
    public static async Task<T> GetOk<T>(this HttpClient client, string path, JsonSerializerOptions json)
    {
        using var response = await client.GetAsync(path, Ct);
        return await ReadOk<T>(response, json);
    }

    /// <summary>POSTs <paramref name="body"/> asking for JSON, asserts a 200 JSON answer and reads it as the API's <typeparamref name="T"/>.</summary>
    public static async Task<T> PostOk<T>(this HttpClient client, string path, object body, JsonSerializerOptions json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await client.SendAsync(request, Ct);
        return await ReadOk<T>(response, json);
    }

    /// <summary>Asserts a 200 JSON answer (showing the body when it is not) and reads it as <typeparamref name="T"/>.</summary>
    public static async Task<T> ReadOk<T>(HttpResponseMessage response, JsonSerializerOptions json)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.RequestMessage?.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Assert.IsType<T>(JsonSerializer.Deserialize<T>(text, json));
    }

    public static async Task<(HttpResponseMessage Response, JsonNode? Body)> PostJson(this HttpClient client, string path, object body, string accept = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = body is string s ? new StringContent(s, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body),
        };
        request.Headers.Accept.ParseAdd(accept);
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        JsonNode? node = null;
        try { node = text.Length > 0 ? JsonNode.Parse(text) : null; } catch (JsonException) { }
        return (response, node);
    }

    public static float[] Floats(this JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<float>()).ToArray();

    public static float[][] Rows(this JsonNode? node) => node!.AsArray().Select(r => r.Floats()).ToArray();

    public static HttpRequestMessage SseRequest(object body, string? accept = "text/event-stream")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/complete") { Content = System.Net.Http.Json.JsonContent.Create(body) };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    /// <summary>Reads one SSE event (event name + data) from the stream; null at its end.</summary>
    public static async Task<(string Event, string Data)?> NextEvent(StreamReader reader, CancellationToken ct)
    {
        string? name = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (name is null && data.Length == 0) continue;
                return (name ?? "message", data.ToString());
            }
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
        }
        return null;
    }
}
