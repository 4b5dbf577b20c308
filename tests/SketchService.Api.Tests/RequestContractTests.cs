using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SketchService.Api.Features.Decode;
using SketchService.Api.Infrastructure;

namespace SketchService.Api.Tests;

/// <summary>What the API promises about its input, one test per finding of a black-box probe of every endpoint.</summary>
[Collection("Api")]
public sealed class RequestContractTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] PostEndpoints = ["/encode", "/complete", "/decode", "/generate", "/interpolate", "/arithmetic"];

    private async Task<(HttpResponseMessage Response, JsonNode? Body)> Send(string path, string body, string contentType)
    {
        using var client = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.Accept.ParseAdd("application/json");
        var response = await client.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return (response, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    [Theory]
    [InlineData("application/json; charset=nope")]
    [InlineData("application/json; charset=utf-7")]
    [InlineData("application/json; charset=\"\"")]
    [InlineData("application/json; charset=iso-8859-1")] // decoded by ASP.NET Core, but not JSON as RFC 8259 sends it
    [InlineData("application/json; charset=utf-16")]
    public async Task A_charset_that_is_not_utf8_is_a_415_on_every_endpoint(string contentType)
    {
        // Once: ReadFromJsonAsync's InvalidOperationException for a charset it has no decoder for was a 500.
        foreach (var path in PostEndpoints)
        {
            var (response, body) = await Send(path, "{}", contentType);
            Assert.True(response.StatusCode == HttpStatusCode.UnsupportedMediaType, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Unsupported Media Type", (string)body!["title"]!);
            Assert.StartsWith("the body must be JSON in UTF-8, sent as Content-Type: application/json; got 'application/json; charset=", (string)body["detail"]!);
        }
    }

    [Fact]
    public async Task Every_415_says_the_same_and_echoes_at_most_100_characters()
    {
        // Once: the framework's own 415s (an empty or malformed Content-Type) were titled "Bad request" and echoed 1000 characters.
        foreach (var contentType in new[] { "text/plain", "", "application/json;;", "application/json, " + new string('x', 3000) })
        {
            var (response, body) = await Send("/generate", "{}", contentType);
            Assert.True(response.StatusCode == HttpStatusCode.UnsupportedMediaType, $"'{contentType[..Math.Min(30, contentType.Length)]}': {(int)response.StatusCode} {body}");
            Assert.Equal("Unsupported Media Type", (string)body!["title"]!);
            var detail = (string)body["detail"]!;
            Assert.StartsWith("the body must be JSON in UTF-8, sent as Content-Type: application/json; got '", detail);
            Assert.True(detail.Length < 250, detail);
        }
    }

    [Fact]
    public async Task A_seed_and_its_negative_draw_different_sketches_and_each_the_same_every_time()
    {
        // Once: Random(int) takes the seed's absolute value, so seed 5 and -5 drew the same sketches.
        using var client = app.Client();
        async Task<DecodeResponse> Generate(int seed) =>
            await client.PostOk<DecodeResponse>("/generate", new { model = "tiny", samples = 2, max_steps = 20, seed, prior = "standard" }, app.Json);
        foreach (var (a, b) in new[] { (5, -5), (1, -1), (0, int.MaxValue), (int.MinValue, int.MaxValue) })
        {
            var (first, second) = (await Generate(a), await Generate(b));
            Assert.NotEqual(first.Z[0], second.Z[0]);
            Assert.Equal(first.Z[0], (await Generate(a)).Z[0]);
            Assert.Equal(second.Z[0], (await Generate(b)).Z[0]);
        }
        // The sampler's stream as well as z's: one z, drawn with seed 5 and with -5.
        async Task<string> Decode(int seed) => JsonSerializer.Serialize((await client.PostOk<DecodeResponse>("/decode",
            new { model = "tiny", z = new[] { 0.5f, -1, 0.25f, 2 }, samples = 2, max_steps = 20, temperature = 1, seed }, app.Json)).Sketches);
        Assert.NotEqual(await Decode(5), await Decode(-5));
        Assert.Equal(await Decode(-5), await Decode(-5));
    }

    [Fact]
    public async Task The_generate_prior_a_decoder_only_model_cannot_take_is_a_422_and_none_is_what_it_takes()
    {
        using var client = app.Client();
        foreach (var prior in new[] { "data", "standard" })
        {
            var (refused, problem) = await client.PostJson("/generate", new { model = "slow", prior, max_steps = 2 });
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            Assert.Contains("decoder-only", (string)problem!["detail"]!);
        }
        var none = await client.PostOk<DecodeResponse>("/generate", new { model = "slow", prior = "none", max_steps = 2, seed = 1 }, app.Json);
        Assert.Equal("none", none.Prior); // what the response says can be sent back
        var (vae, vaeProblem) = await client.PostJson("/generate", new { model = "tiny", prior = "none", max_steps = 2 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, vae.StatusCode);
        Assert.Contains("use prior data or standard", (string)vaeProblem!["detail"]!);
        var (unknown, unknownProblem) = await client.PostJson("/generate", new { model = "tiny", prior = "gaussian", max_steps = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("must be data, standard or none; got 'gaussian'", (string)unknownProblem!["errors"]!["prior"]![0]!);
    }

    [Fact]
    public async Task A_frame_belongs_to_polylines_wherever_a_sketch_is_given()
    {
        using var client = app.Client();
        // Once: a frame beside strokes was ignored without a word, and an operand's polylines could not take one.
        var (strokes, problem) = await client.PostJson("/encode", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } }, frame = 10 } });
        Assert.Equal(HttpStatusCode.BadRequest, strokes.StatusCode);
        Assert.NotNull(problem!["errors"]!["sketch.frame"]);
        var (zFrame, zProblem) = await client.PostJson("/interpolate", new { model = "tiny", from = new { z = new float[4], frame = 10 }, to = new { z = new float[4] }, max_steps = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, zFrame.StatusCode);
        Assert.NotNull(zProblem!["errors"]!["from.frame"]);

        // The same small square, in a frame of its own size and in one 10× as large: a larger frame is a smaller drawing.
        var square = new[] { new[] { new[] { 0f, 10, 10, 0, 0 }, new[] { 0f, 0, 10, 10, 0 } } };
        async Task<JsonNode> Interpolate(double frame)
        {
            var (response, body) = await client.PostJson("/interpolate", new { model = "tiny", from = new { polylines = square, frame }, to = new { z = new float[4] }, n = 2, max_steps = 2, seed = 1 });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return body!["frames"]![0]!["z"]!;
        }
        Assert.NotEqual((await Interpolate(10)).ToJsonString(), (await Interpolate(100)).ToJsonString());
    }

    [Fact]
    public void A_client_that_left_is_logged_as_499_whatever_status_the_response_held()
    {
        // Once: the request log said 200 for a /complete whose client had gone, while Kestrel's own line said 499.
        using var gone = new CancellationTokenSource();
        gone.Cancel();
        Assert.Equal(499, Logging.StatusOf(new DefaultHttpContext { RequestAborted = gone.Token }, 200));
        Assert.Equal(200, Logging.StatusOf(new DefaultHttpContext(), 200));
        // A client that read its answer and closed at once had it: what was sent is what is logged.
        var delivered = new DefaultHttpContext { RequestAborted = gone.Token };
        delivered.Features.Set<IHttpResponseFeature>(new StartedResponse());
        Assert.Equal(200, Logging.StatusOf(delivered, 200));
    }

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}

/// <summary>A request over the cost limit is told what to change: max_steps where steps are left, else which sketches.</summary>
[Collection("Api")]
public sealed class CostHintTests
{
    private static object Long(int points) => new { strokes = Enumerable.Range(0, points).Select(i => new[] { 2f, i % 2 == 0 ? 1f : -1f, i % 40 == 39 ? 1f : 0f }).ToArray() };

    [Fact]
    public async Task Each_endpoint_names_what_uses_up_the_limit()
    {
        await using var limited = new SettingsFactory(("MaxRequestCost", "1000"));
        await limited.InitializeAsync();
        using var client = limited.Client();
        async Task<(string Field, string Hint)> Refused(string path, object request)
        {
            var (response, problem) = await client.PostJson(path, request);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {problem}");
            Assert.Equal(1000, (int)problem!["limit"]!);
            var (field, hints) = Assert.Single(problem["errors"]!.AsObject());
            return (field, (string)hints![0]!);
        }

        // Once: /arithmetic's operands were blamed on "0 prefix points", and the fix offered was max_steps.
        Assert.Equal(("operands", "1200 points to encode leave no steps to draw under the limit of 1000: send shorter sketches"),
            await Refused("/arithmetic", new { model = "tiny", expression = "a + b", operands = new { a = Long(600), b = Long(600) } }));
        Assert.Equal(("sketch", "1200 points to encode are over the limit of 1000: send a shorter sketch"),
            await Refused("/encode", new { model = "tiny", sketch = Long(1200) }));
        // Once: fewer samples, which would fit, went unsaid.
        Assert.Equal(("samples", "samples 4 of 300 prefix points each, 300 points to encode leave no steps to draw under the limit of 1000: samples can be at most 2"),
            await Refused("/complete", new { model = "tiny", sketch = Long(300), samples = 4, condition = "encoding" }));
        Assert.Equal(("sketch", "samples 1 of 999 prefix points each, 999 points to encode leave no steps to draw under the limit of 1000: send shorter sketches"),
            await Refused("/complete", new { model = "tiny", sketch = Long(999), samples = 1, condition = "encoding" }));
        Assert.Equal(("max_steps", "with samples 1 of 10 prefix points each, 10 points to encode, max_steps can be at most 980"),
            await Refused("/complete", new { model = "tiny", sketch = Long(10), samples = 1, condition = "encoding", max_steps = 1000 }));
        // Once: with nothing to encode the hint began "with , " and left out the samples it divides by.
        Assert.Equal(("max_steps", "with samples 4, max_steps can be at most 250"),
            await Refused("/generate", new { model = "tiny", samples = 4, max_steps = 300 }));
        Assert.Equal(("max_steps", "with samples 2, max_steps can be at most 500"),
            await Refused("/decode", new { model = "tiny", z = new float[4], samples = 2, max_steps = 600 }));
        // The longest sketch is the one to shorten, and /interpolate's rows are its frames, n.
        Assert.Equal(("max_steps", "with n 2, 600 points to encode, max_steps can be at most 200"),
            await Refused("/interpolate", new { model = "tiny", from = new { z = new float[4] }, to = Long(600), n = 2, max_steps = 300 }));
        Assert.Equal(("to", "n 2, 1000 points to encode leave no steps to draw under the limit of 1000: send shorter sketches"),
            await Refused("/interpolate", new { model = "tiny", from = Long(400), to = Long(600), n = 2, max_steps = 300 }));
    }
}
