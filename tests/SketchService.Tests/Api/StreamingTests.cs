using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace SketchService.Tests.Api;

/// <summary>POST /complete as Server-Sent Events over a real socket: events one by one, and a disconnect that stops decoding.</summary>
[Collection("Api")]
public sealed class StreamingTests(ApiFactory app)
{
    private static HttpRequestMessage Request(object body, string? accept = "text/event-stream")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/complete") { Content = System.Net.Http.Json.JsonContent.Create(body) };
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return request;
    }

    /// <summary>Reads one SSE event (event name + data) from the stream; null at its end.</summary>
    private static async Task<(string Event, string Data)?> NextEvent(StreamReader reader, CancellationToken ct)
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
        var steps = new List<JsonNode>();
        JsonNode? done = null;
        while (await NextEvent(reader, ct) is { } e)
        {
            var node = JsonNode.Parse(e.Data)!;
            if (e.Event == "step") { Assert.Null(done); steps.Add(node); }
            else if (e.Event == "done") done = node;
            else Assert.Fail($"unexpected event {e.Event}: {e.Data}");
        }
        Assert.Equal(14, steps.Count); // 7 steps × 2 samples
        Assert.All(steps, s => Assert.Equal("down", (string?)s["pen"]));
        var first = steps.First(s => (int)s["sample"]! == 0);
        Assert.Equal(5f, (float)first["dx"]!, 4);
        Assert.Equal(10f + 5f, (float)first["x"]!, 4); // absolute: the prefix ends at (10, 10)
        Assert.NotNull(done);
        Assert.Equal(7, (int)done!["stats"]!["steps"]!);
        Assert.Equal(2, done["sketches"]!.AsArray().Count);
        Assert.Equal(9, done["sketches"]![1]!["strokes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Accept_json_gets_plain_json()
    {
        using var client = app.Client();
        using var response = await client.SendAsync(Request(new { model = "tiny", sketch = new { strokes = new[] { new[] { 10f, 0, 1 } } }, max_steps = 3 }, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Disconnecting_stops_decoding_within_a_step()
    {
        var engine = app.Engine;
        var ct = TestContext.Current.CancellationToken;
        var before = engine.StepsDecoded;
        // No draining: SocketsHttpHandler would otherwise read up to 1 MB of the rest of the response to reuse the connection.
        using (var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = app.BaseAddress })
        {
            // tiny never ends at τ = 0, so this would run 100 000 steps (seconds) if nobody stopped it.
            using var response = await client.SendAsync(Request(new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, temperature = 0, max_steps = ApiFactory.MaxStepsCap }),
                HttpCompletionOption.ResponseHeadersRead, ct);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            for (var i = 0; i < 5; i++) Assert.Equal("step", (await NextEvent(reader, ct))!.Value.Event);
            Assert.Equal(1, engine.ActiveDecodes);
        } // disposing the response and client closes the connection

        var atDisconnect = engine.StepsDecoded;
        var clock = Stopwatch.StartNew();
        while (engine.ActiveDecodes > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(1, ct);
        var stoppedAfter = clock.ElapsedMilliseconds;
        Assert.Equal(0, engine.ActiveDecodes);
        var afterStop = engine.StepsDecoded;
        await Task.Delay(300, ct);
        Assert.Equal(afterStop, engine.StepsDecoded); // no longer growing
        // Decoding runs ahead of the client only as far as the bounded channel and socket buffers allow; it must not
        // get anywhere near the 100 000 steps asked for.
        Assert.True(afterStop - before < 5000, $"decoded {afterStop - before} steps in all; the client left after 5");
        TestContext.Current.SendDiagnosticMessage($"disconnect: {atDisconnect - before} steps decoded when the client left, {afterStop - atDisconnect} more after; decoding ended {stoppedAfter} ms after the client left");
    }
}
