using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SketchService.Core.Rendering;
using SketchService.Core.Strokes;

namespace SketchService.Api.Tests;

/// <summary>One regression test per finding of the hostile-input review (issue 9), next to the fuzz suite.</summary>
[Collection("Api")]
public sealed class HardeningTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(HttpResponseMessage Response, JsonNode? Body, string Text)> Send(HttpMethod method, string path, string? body, string accept = "application/json", string contentType = "application/json")
    {
        using var client = app.Client();
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        request.Headers.TryAddWithoutValidation("Accept", accept);
        request.Headers.ExpectContinue = body?.Length > 1_000_000; // a 413 instead of a broken pipe mid-upload
        var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        JsonNode? node = null;
        try { node = JsonNode.Parse(text); } catch (System.Text.Json.JsonException) { }
        return (response, node, text);
    }

    private static void AssertProblem(HttpResponseMessage response, JsonNode? body, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace((string?)body?["detail"]), "a detail");
    }

    // 1. Drawing is a denial of service.
    [Fact]
    public async Task A_png_of_a_long_zigzag_is_drawn_and_answered()
    {
        var zigzag = string.Join(",", Enumerable.Range(0, 1000).Select(_ => "[239,239,0],[-239,-239,0]"));
        var (response, _, _) = await Send(HttpMethod.Post, "/complete?format=png", $"{{\"model\":\"tiny\",\"sketch\":{{\"strokes\":[{zigzag}]}},\"samples\":16,\"max_steps\":1,\"seed\":1}}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void The_rasteriser_visits_only_pixels_near_a_segment_and_draws_what_the_whole_box_scan_drew()
    {
        var rng = new Random(4);
        for (int k = 0; k < 40; k++)
        {
            StrokePoint[] sketch = [.. Enumerable.Range(0, 12).Select(i => new StrokePoint((float)(rng.NextDouble() * 200 - 100), (float)(rng.NextDouble() * 200 - 100), i % 5 == 4))];
            var fast = SketchPng.Pixels([sketch], 1, 128, 2f, Ct);
            var box = BoxScan(sketch, 128, 2f);
            Assert.Equal(box, fast);
        }
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => SketchPng.Grid([[new StrokePoint(1, 1, false), new StrokePoint(50, 50, false)]], 1, cancellationToken: cancelled.Token));
    }

    /// <summary>The rasteriser before the fix: every pixel of each segment's bounding box.</summary>
    private static float[] BoxScan(StrokePoint[] sketch, int cell, float width)
    {
        var px = Enumerable.Repeat(1f, cell * cell).ToArray();
        float half = width / 2, reach = half + 1, margin = cell * 0.08f;
        var lines = StrokeFormats.ToPolylines(sketch).Where(l => l.Count > 0).ToList();
        var b = StrokeFormats.Bounds(lines);
        var scale = (cell - 2 * margin) / Math.Max(1e-6f, Math.Max(b.Width, b.Height));
        var ox = margin + ((cell - 2 * margin) - b.Width * scale) / 2 - b.MinX * scale;
        var oy = margin + ((cell - 2 * margin) - b.Height * scale) / 2 - b.MinY * scale;
        foreach (var l in lines)
            for (var i = l.Count == 1 ? 0 : 1; i < l.Count; i++)
            {
                int j = l.Count == 1 ? 0 : i - 1;
                float ax = ox + l.X[j] * scale, ay = oy + l.Y[j] * scale, bx = ox + l.X[i] * scale, by = oy + l.Y[i] * scale;
                float dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
                for (var y = Math.Max(0, (int)MathF.Floor(MathF.Min(ay, by) - reach)); y <= Math.Min(cell - 1, (int)MathF.Ceiling(MathF.Max(ay, by) + reach)); y++)
                    for (var x = Math.Max(0, (int)MathF.Floor(MathF.Min(ax, bx) - reach)); x <= Math.Min(cell - 1, (int)MathF.Ceiling(MathF.Max(ax, bx) + reach)); x++)
                    {
                        float cx = x + 0.5f - ax, cy = y + 0.5f - ay;
                        var t = len2 > 0 ? Math.Clamp((cx * dx + cy * dy) / len2, 0, 1) : 0;
                        float ex = cx - t * dx, ey = cy - t * dy;
                        px[y * cell + x] = MathF.Min(px[y * cell + x], 1 - Math.Clamp(half + 0.5f - MathF.Sqrt(ex * ex + ey * ey), 0, 1));
                    }
            }
        return px;
    }

    // 2. Finite input, infinite output.
    [Theory]
    [InlineData("/complete", "{\"model\":\"tiny\",\"sketch\":{\"strokes\":[[3e38,0,0],[3e38,0,0]]},\"max_steps\":3}", "sketch.strokes[0]")]
    [InlineData("/complete", "{\"model\":\"tiny\",\"sketch\":{\"polylines\":[[[1.7e38,-1.7e38],[0,0]]]},\"max_steps\":3}", "sketch.polylines[0]")]
    [InlineData("/encode", "{\"model\":\"tiny\",\"sketch\":{\"polylines\":[[[1.7e38,-1.7e38],[0,0]]]}}", "sketch.polylines[0]")]
    public async Task Coordinates_beyond_the_limit_are_a_400_naming_the_field_and_the_limit(string path, string body, string field)
    {
        foreach (var accept in new[] { "application/json", "text/event-stream" })
        {
            var (response, json, _) = await Send(HttpMethod.Post, path, body, accept);
            AssertProblem(response, json, HttpStatusCode.BadRequest);
            Assert.NotNull(json!["errors"]![field]);
            Assert.Contains("100000", (string)json["detail"]!);
        }
    }

    [Fact]
    public async Task A_latent_far_outside_the_prior_is_a_400()
    {
        var (response, body, _) = await Send(HttpMethod.Post, "/decode", "{\"model\":\"tiny\",\"z\":[1e38,0,0,0],\"max_steps\":5}");
        AssertProblem(response, body, HttpStatusCode.BadRequest);
        Assert.NotNull(body!["errors"]!["z[0]"]);
    }

    // 3. Content negotiation breaks errors.
    [Theory]
    [InlineData("text/event-stream")]
    [InlineData("image/png")]
    [InlineData("text/html")]
    public async Task Errors_are_problem_json_whatever_the_accept_header(string accept)
    {
        var (notFound, body404, _) = await Send(HttpMethod.Get, "/no-such-route", null, accept);
        AssertProblem(notFound, body404, HttpStatusCode.NotFound);
        var (badRequest, body400, _) = await Send(HttpMethod.Post, "/complete", "{\"model\":\"tiny\",\"sketch\":{\"strokes\":[[1,2,2]]}}", accept);
        AssertProblem(badRequest, body400, HttpStatusCode.BadRequest);
        var (unprocessable, body422, _) = await Send(HttpMethod.Post, "/encode", "{\"model\":\"slow\",\"sketch\":{\"strokes\":[[1,2,0]]}}", accept);
        AssertProblem(unprocessable, body422, HttpStatusCode.UnprocessableEntity);
        var (unknownModel, bodyModel, _) = await Send(HttpMethod.Get, "/models/nope", null, accept);
        AssertProblem(unknownModel, bodyModel, HttpStatusCode.NotFound);
    }

    // 4. Thin errors.
    [Fact]
    public async Task Method_media_type_and_size_errors_say_what_is_wrong()
    {
        var (notAllowed, body405, _) = await Send(HttpMethod.Post, "/health/live", "{}");
        AssertProblem(notAllowed, body405, HttpStatusCode.MethodNotAllowed);
        Assert.Contains("GET", (string)body405!["detail"]!);

        var (unsupported, body415, _) = await Send(HttpMethod.Post, "/encode", "{}", contentType: "text/plain");
        AssertProblem(unsupported, body415, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", (string)body415!["detail"]!);

        var (tooLarge, body413, _) = await Send(HttpMethod.Post, "/encode", $"{{\"model\":\"{new string('x', 1_100_000)}\"}}");
        AssertProblem(tooLarge, body413, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1048576 bytes", (string)body413!["detail"]!);
    }

    [Fact]
    public async Task Errors_do_not_echo_input_without_bound()
    {
        var (notFound, body, text) = await Send(HttpMethod.Post, "/encode", $"{{\"model\":\"{new string('m', 900_000)}\",\"sketch\":{{\"strokes\":[[1,2,0]]}}}}");
        AssertProblem(notFound, body, HttpStatusCode.NotFound);
        Assert.True(text.Length < 2000, $"{text.Length} characters");

        var operands = string.Join(",", Enumerable.Range(0, 30_000).Select(i => $"\"n{i}\":{{\"z\":[0]}}"));
        var (unused, body400, text400) = await Send(HttpMethod.Post, "/arithmetic", $"{{\"model\":\"tiny\",\"expression\":\"a\",\"operands\":{{\"a\":{{\"z\":[0,0,0,0]}},{operands}}}}}");
        AssertProblem(unused, body400, HttpStatusCode.BadRequest);
        Assert.True(text400.Length < 2000, $"{text400.Length} characters");
        Assert.Equal("operands: has 30001 operands; the limit is 16", (string)body400!["detail"]!);

        var names = string.Join("+", Enumerable.Range(0, 30).Select(i => $"n{i}"));
        var (missing, body400b, _) = await Send(HttpMethod.Post, "/arithmetic", $"{{\"model\":\"tiny\",\"expression\":\"{names}\",\"operands\":{{}}}}");
        AssertProblem(missing, body400b, HttpStatusCode.BadRequest);
        Assert.Contains("and 25 more", (string)body400b!["detail"]!);
    }

    // 5. Lenient parsing.
    [Fact]
    public async Task Numbers_as_strings_unknown_formats_and_wrong_methods_are_refused()
    {
        var (asString, body, _) = await Send(HttpMethod.Post, "/generate", "{\"model\":\"tiny\",\"samples\":\"16\",\"max_steps\":3}");
        AssertProblem(asString, body, HttpStatusCode.BadRequest);
        var (format, bodyFormat, _) = await Send(HttpMethod.Post, "/encode?format=bogus", "{\"model\":\"tiny\",\"sketch\":{\"strokes\":[[1,2,0]]}}");
        AssertProblem(format, bodyFormat, HttpStatusCode.BadRequest);
        Assert.NotNull(bodyFormat!["errors"]!["format"]);
        var (post, bodyPost, _) = await Send(HttpMethod.Post, "/health/ready", "{}");
        AssertProblem(post, bodyPost, HttpStatusCode.MethodNotAllowed);
    }
}

/// <summary>A models folder where nothing loads: the app starts, but is never ready.</summary>
public sealed class NoModelsFactory : ApiFactory
{
    private readonly TempFolder empty = new();

    public NoModelsFactory()
    {
        Directory.CreateDirectory(Path.Combine(empty.Path, "broken"));
        File.WriteAllText(Path.Combine(empty.Path, "broken", SketchService.Core.Model.ModelFolder.ManifestFile), "{ not json");
    }

    protected override string ReadyPath => "/models";

    protected override IEnumerable<(string Key, string Value)> Settings => [("ModelsPath", empty.Path)];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        empty.Dispose();
    }
}

// 6. GET /models hides failures when nothing loaded.
[Collection("Api")]
public sealed class NoModelsTests(NoModelsFactory app) : IClassFixture<NoModelsFactory>
{
    [Fact]
    public async Task Models_lists_the_failures_when_nothing_loaded_and_readiness_stays_503()
    {
        using var client = app.Client();
        var ct = TestContext.Current.CancellationToken;
        var list = await client.GetOk<ModelList>("/models", app.Json);
        Assert.Empty(list.Models);
        Assert.Contains("model.json", Assert.Contains("broken", list.Failed));
        using var ready = await client.GetAsync("/health/ready", ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }
}
