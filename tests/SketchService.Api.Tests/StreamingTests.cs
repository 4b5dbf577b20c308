using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace SketchService.Api.Tests;

/// <summary>POST /complete as Server-Sent Events over a real socket: events one by one, and a disconnect that stops decoding.</summary>
[Collection("Api")]
public sealed class StreamingTests(ApiFactory app)
{
    private static HttpRequestMessage Request(object body, string? accept = "text/event-stream") => Http.SseRequest(body, accept);

    private static Task<(string Event, string Data)?> NextEvent(StreamReader reader, CancellationToken ct) => Http.NextEvent(reader, ct);

    [Theory]
    [InlineData("text/event-stream")]
    [InlineData(null)]
    public async Task Complete_streams_step_events_then_done(string? accept)
    {
        using var client = app.Client();
        var ct = TestContext.Current.CancellationToken;
        using var response = await client.SendAsync(Request(new { model = "tiny", sketch = new { strokes = new[] { new[] { 10f, 0, 0 }, new[] { 0f, 10, 1 } } }, temperature = 0, max_steps = 7, samples = 2 }, accept),
            HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var steps = new List<StepEvent>();
        CompleteResponse? done = null;
        while (await NextEvent(reader, ct) is { } e)
        {
            if (e.Event == "step") { Assert.Null(done); steps.Add(JsonSerializer.Deserialize<StepEvent>(e.Data, app.Json)!); }
            else if (e.Event == "done") done = JsonSerializer.Deserialize<CompleteResponse>(e.Data, app.Json);
            else Assert.Fail($"unexpected event {e.Event}: {e.Data}");
        }
        Assert.Equal(14, steps.Count); // 7 steps × 2 samples
        Assert.All(steps, s => Assert.Equal("down", s.Pen));
        var first = steps.First(s => s.Sample == 0);
        Assert.Equal(5f, first.Dx, 4);
        Assert.Equal(10f + 5f, first.X, 4); // absolute: the prefix ends at (10, 10)
        Assert.NotNull(done);
        Assert.Equal(7, done.Stats.Steps);
        Assert.Equal(2, done.Sketches.Count);
        Assert.Equal(9, done.Sketches[1].Strokes.Length);
    }

    [Fact]
    public async Task Accept_json_gets_plain_json()
    {
        using var client = app.Client();
        using var response = await client.SendAsync(Request(new { model = "tiny", sketch = new { strokes = new[] { new[] { 10f, 0, 1 } } }, max_steps = 3 }, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Disconnecting_frees_the_row_at_the_next_tick()
    {
        var decoder = app.Scheduler("tiny");
        var ct = TestContext.Current.CancellationToken;
        var before = decoder.Ticks;
        // No draining: SocketsHttpHandler would otherwise read up to 1 MB of the rest of the response to reuse the connection.
        using (var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = app.BaseAddress })
        {
            // tiny never ends at τ = 0, so this would run 100 000 steps if nobody stopped it.
            using var response = await client.SendAsync(Request(new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, temperature = 0, max_steps = ApiFactory.MaxStepsCap }),
                HttpCompletionOption.ResponseHeadersRead, ct);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            for (var i = 0; i < 5; i++) Assert.Equal("step", (await NextEvent(reader, ct))!.Value.Event);
            Assert.Equal(1, decoder.LiveRows);
        } // disposing the response and client closes the connection

        var atDisconnect = decoder.Ticks;
        var clock = Stopwatch.StartNew();
        while (decoder.LiveRows > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(1, ct);
        var stoppedAfter = clock.ElapsedMilliseconds;
        Assert.Equal(0, decoder.LiveRows);
        var afterStop = decoder.Ticks;
        await Task.Delay(300, ct);
        Assert.Equal(afterStop, decoder.Ticks); // the batch is idle: no row left
        Assert.True(afterStop - before < ApiFactory.MaxStepsCap / 2, $"decoded {afterStop - before} steps in all; the client left after 5");
        TestContext.Current.SendDiagnosticMessage($"disconnect: {atDisconnect - before} steps decoded when the client left, {afterStop - atDisconnect} more after; the row left {stoppedAfter} ms after the client");
    }
}
