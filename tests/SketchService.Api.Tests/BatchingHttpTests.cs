using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SketchService.Api.Tests;

/// <summary>The app with a two-row batch, one queue place, a 3 s deadline and a cost limit: admission control over HTTP.</summary>
public sealed class SmallBatchFactory : ApiFactory
{
    public const int Deadline = 3;

    protected override IEnumerable<(string Key, string Value)> Settings =>
    [
        ("MaxLiveRows", "2"), ("MaxQueuedRequests", "1"), ("RequestDeadlineSeconds", Deadline.ToString()),
        ("MaxSteps", "100000000"), ("MaxRequestCost", "200000000"),
    ];
}

/// <summary>
/// Continuous batching seen from HTTP: 429 when full, deadlines, the cost limit and /metrics. In the "Api" collection so
/// its host is never built while another is (Serilog's bootstrap logger is process-wide).
/// </summary>
[Collection("Api")]
public sealed class BatchingHttpTests(SmallBatchFactory app) : IClassFixture<SmallBatchFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>POST as JSON asking for a JSON answer (no Accept means a stream on /complete).</summary>
    private static Task<HttpResponseMessage> PostForJson(HttpClient client, string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Accept.ParseAdd("application/json");
        return client.SendAsync(request, Ct);
    }

    /// <summary>tiny never ends at τ = 0: this stream runs until its client leaves or its deadline passes.</summary>
    private static object Endless => new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, temperature = 0, max_steps = 100_000_000 };

    [Fact]
    public async Task A_full_model_answers_429_at_once_and_streams_past_their_deadline_end_with_an_error_event()
    {
        var decoder = app.Scheduler("tiny");
        using var client = app.Client();
        using var a = await client.SendAsync(Http.SseRequest(Endless), HttpCompletionOption.ResponseHeadersRead, Ct);
        using var b = await client.SendAsync(Http.SseRequest(Endless), HttpCompletionOption.ResponseHeadersRead, Ct);
        using var readerA = new StreamReader(await a.Content.ReadAsStreamAsync(Ct));
        using var readerB = new StreamReader(await b.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("step", (await Http.NextEvent(readerA, Ct))!.Value.Event);
        Assert.Equal("step", (await Http.NextEvent(readerB, Ct))!.Value.Event);
        Assert.Equal(2, decoder.LiveRows);

        // Both rows are taken: the next request waits in the queue, and the one after it is refused at once.
        var waiting = PostForJson(client, "/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, max_steps = 5, seed = 1 });
        while (decoder.QueuedRequests == 0) await Task.Delay(1, Ct);
        var clock = Stopwatch.StartNew();
        using var refused = await PostForJson(client, "/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, max_steps = 5 });
        var refusedAfter = clock.ElapsedMilliseconds;
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        var problem = await refused.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(Ct);
        Assert.Contains("at capacity", problem!.Detail);
        Assert.True(refusedAfter < 1000, $"the 429 took {refusedAfter} ms");

        // The streams hold their rows until their deadline, then end with event: error carrying a 503 ProblemDetails.
        (string Event, string Data)? last;
        do last = await Http.NextEvent(readerA, Ct); while (last?.Event == "step");
        Assert.Equal("error", last!.Value.Event);
        var error = JsonSerializer.Deserialize<Microsoft.AspNetCore.Mvc.ProblemDetails>(last.Value.Data, app.Json)!;
        Assert.Equal(503, error.Status);
        Assert.Contains($"{SmallBatchFactory.Deadline} s", error.Detail);

        // Their rows freed, the waiting request joins and completes.
        using var done = await waiting;
        var response = await Http.ReadOk<CompleteResponse>(done, app.Json);
        Assert.Equal(5, response.Stats.Steps);
        Assert.True(response.Stats.QueuedMs > 1000, $"queued {response.Stats.QueuedMs} ms");
    }

    [Fact]
    public async Task A_json_request_past_its_deadline_gets_503()
    {
        using var client = app.Client();
        var clock = Stopwatch.StartNew();
        using var response = await PostForJson(client, "/complete", Endless);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.InRange(clock.Elapsed.TotalSeconds, SmallBatchFactory.Deadline - 0.1, SmallBatchFactory.Deadline + 5);
        Assert.Equal(0, app.Scheduler("tiny").LiveRows);
    }

    [Fact]
    public async Task A_request_over_the_cost_limit_gets_400_naming_the_limit()
    {
        using var client = app.Client();
        var (response, body) = await client.PostJson("/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 }, new[] { 1f, 0, 1 } } }, samples = 2, max_steps = 100_000_000 });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(200_000_000, (int)body!["limit"]!);
        // 2 prefix points encoded + 2 samples × (2 prefix points + 100 000 000 steps)
        Assert.Contains("needs 200000006 LSTM steps (2 encoding + 200000004 decoding)", (string)body["detail"]!);
        Assert.NotNull(body["errors"]!["max_steps"]);
    }

    private const string CostLimitSeries = "sketch_inference_request_failure_total{otel_scope_name=\"SketchService\",model=\"tiny\",reason=\"cost_limit\"}";

    [Fact]
    public async Task Metrics_are_scraped_in_prometheus_format_with_the_batching_series()
    {
        using var client = app.Client();
        using (await PostForJson(client, "/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, max_steps = 3 })) { }
        using (await PostForJson(client, "/encode", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } } })) { }
        using (await PostForJson(client, "/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, samples = 2, max_steps = 100_000_000 })) { } // 2 × (1 + 100 000 000) is over the limit of 200 000 000

        string text = "";
        // The exporter caches a scrape for a moment; wait for one that holds this test's requests.
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(100, Ct))
        {
            text = await client.GetStringAsync("/metrics", Ct);
            if (text.Contains(CostLimitSeries) && text.Contains("sketch_inference_encoder_batch_size")) break;
        }
        string[] series =
        [
            "sketch_inference_pending_request_count{", "sketch_inference_live_rows{", "sketch_inference_batch_size_bucket{",
            "sketch_inference_compute_infer_duration_seconds_bucket{", "sketch_inference_first_response_seconds_bucket{",
            "sketch_inference_queue_duration_seconds_bucket{", "sketch_inference_points_total{", "sketch_inference_encoder_batch_size_bucket{",
            "http_server_request_duration_seconds_bucket{",
            // .NET's own, for whoever watches the service's memory: GC collections and pauses, bytes allocated.
            "dotnet_gc_collections_total{", "dotnet_gc_pause_time_seconds_total{", "dotnet_gc_heap_total_allocated_bytes_total{",
        ];
        foreach (var name in series) Assert.Contains(name, text);
        Assert.Contains(CostLimitSeries, text);
        Assert.Contains("http_route=\"/complete\"", text);
    }
}

/// <summary>The same seeded request gives the same sketch alone and among concurrent requests that share its batch.</summary>
[Collection("Api")]
public sealed class BatchDeterminismTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_seeded_request_draws_the_same_sketches_alone_and_in_a_shared_batch()
    {
        var model = app.HasSheep ? "sheep" : app.Bird();
        object Body(int seed, int samples, int steps) => new
        {
            model, sketch = new { strokes = new[] { new[] { 0f, 0, 0 }, new[] { 20f, 5, 0 }, new[] { 25f, -5, 0 }, new[] { 10f, 20, 1 } } },
            samples, temperature = 0.6, seed, max_steps = steps,
        };
        Task<CompleteResponse> Complete(HttpClient client, object body) => client.PostOk<CompleteResponse>("/complete", body, app.Json);

        using var client = app.Client();
        var target = Body(seed: 77, samples: 3, steps: 120);
        var alone = await Complete(client, target);
        var rng = new Random(5);
        var others = Enumerable.Range(0, 12).Select(i => Complete(client, Body(rng.Next(), rng.Next(1, 5), rng.Next(10, 250)))).ToList();
        var shared = await Complete(client, target);
        await Task.WhenAll(others);

        Assert.Equal(alone.Sketches.Count, shared.Sketches.Count);
        for (int s = 0; s < alone.Sketches.Count; s++)
            Assert.Equal(alone.Sketches[s].Strokes.SelectMany(r => r), shared.Sketches[s].Strokes.SelectMany(r => r));
    }
}
