using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Net.Http.Json;
using SketchService.Api.Infrastructure;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Tests;

/// <summary>Paths the rules were once not written for: each test is a defect found against the service, kept out.</summary>
[Collection("Api")]
public sealed class RulebookTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Sketch(int points) => new { strokes = Enumerable.Range(0, points).Select(i => new[] { 3f, i % 2 == 0 ? 2f : -2f, i % 25 == 24 ? 1f : 0f }).ToArray() };

    [Fact]
    public async Task Arithmetic_with_more_operands_than_the_limit_is_refused_before_anything_is_encoded()
    {
        // Once: 183 one-point operands and one of 2000 points padded into one encoder run took 1.5 GB and kept it.
        var operands = Enumerable.Range(0, 183).ToDictionary(i => $"o{i}", _ => Sketch(1));
        operands["big"] = Sketch(2000);
        using var client = app.Client();
        var runs = app.Scheduler("tiny").EncoderRuns;
        var (response, body) = await client.PostJson("/arithmetic", new { model = "tiny", expression = "big", operands, max_steps = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("operands: has 184 operands; the limit is 16", (string)body!["detail"]!);
        Assert.Equal(runs, app.Scheduler("tiny").EncoderRuns);
    }

    [Fact]
    public async Task Encoding_counts_in_the_cost_of_a_request()
    {
        using var client = app.Client();
        var operands = Enumerable.Range(0, 16).ToDictionary(i => $"o{i}", _ => Sketch(2000));
        var expression = string.Join("+", operands.Keys);
        var (response, _) = await client.PostJson("/arithmetic", new { model = "tiny", expression, operands, max_steps = 10 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // 16 operands of 2000 points: encoded in runs of bounded size
        // Decoding alone, 16 × (2000 + 100 000), is exactly the test's limit; encoding the 2000 points puts it over.
        var limit = 16 * (ApiFactory.MaxStepsCap + 2000);
        var (refused, problem) = await client.PostJson("/complete", new { model = "tiny", sketch = Sketch(2000), samples = 16, max_steps = ApiFactory.MaxStepsCap });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(limit, (int)problem!["limit"]!);
        Assert.Contains("2000 encoding", (string)problem["detail"]!);
    }

    [Fact]
    public async Task A_picture_never_exceeds_5_by_4_cells()
    {
        using var client = app.Client();
        using var response = await client.PostAsync("/generate?format=png",
            new StringContent("""{"model":"tiny","samples":16,"max_steps":5,"seed":1}""", Encoding.UTF8, "application/json"), Ct);
        var png = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (width, height) = (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.True(width <= 1280 && height <= 1024, $"{width} × {height}");
    }

    [Fact]
    public void A_picture_of_more_than_20_sketches_is_refused_before_any_work()
    {
        // Once: /arithmetic?format=png with 184 operands drew a 1280 × 9472 PNG. Operands are bounded now too, but a
        // deployment that raises MaxSamples or MaxOperands still gets pictures of at most 5 × 4 cells.
        RequestPolicy.Picture(OutputFormat.Png, 20);
        RequestPolicy.Picture(OutputFormat.Json, 1000);
        var refused = Assert.Throws<ApiProblem>(() => RequestPolicy.Picture(OutputFormat.Svg, 21));
        Assert.Equal(400, refused.Status);
        Assert.Contains("at most 20 sketches", refused.Message);
    }

    [Fact]
    public async Task Complete_answers_the_picture_its_accept_header_asks_for()
    {
        using var client = app.Client();
        var body = new { model = "tiny", sketch = Sketch(3), max_steps = 5, seed = 1 };
        var (png, _) = await client.PostJson("/complete", body, accept: "image/png");
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        var (svg, _) = await client.PostJson("/complete", body, accept: "image/svg+xml");
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        var (none, problem) = await client.PostJson("/complete", body, accept: "text/csv");
        Assert.Equal(HttpStatusCode.NotAcceptable, none.StatusCode);
        Assert.Contains("text/event-stream", (string)problem!["detail"]!);
    }

    [Theory]
    [InlineData("/decode")]
    [InlineData("/generate")]
    [InlineData("/complete")]
    public async Task The_temperature_echoed_is_the_one_sent(string path)
    {
        using var client = app.Client();
        object request = path switch
        {
            "/decode" => new { model = "tiny", z = new float[4], temperature = 0.3, max_steps = 3, seed = 1 },
            "/generate" => new { model = "tiny", temperature = 0.3, max_steps = 3, seed = 1 },
            _ => new { model = "tiny", sketch = Sketch(3), temperature = 0.3, max_steps = 3, seed = 1 },
        };
        var (response, body) = await client.PostJson(path, request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("0.3", body!["temperature"]!.ToJsonString());
    }

    [Fact]
    public async Task A_problem_for_a_client_that_has_gone_is_not_an_error()
    {
        // Once: a 429 to a client that had left was written with its RequestAborted token, threw, and was logged as a 500.
        var logger = new LevelLogger();
        var handler = new ApiProblemHandler(new NoProblems(), logger);
        using var gone = new CancellationTokenSource();
        gone.Cancel();
        var http = new DefaultHttpContext { RequestAborted = gone.Token };
        Assert.True(await handler.TryHandleAsync(http, new AdmissionRejectedException("tiny", 64, TimeSpan.FromSeconds(1)), Ct));
        Assert.Equal(499, http.Response.StatusCode);
        Assert.DoesNotContain(logger.Levels, l => l >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_body_that_trickles_in_is_cut_off()
    {
        // Once: 500 bodies at 300 B/s held 500 connections for as long as they liked.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(app.BaseAddress.Host, app.BaseAddress.Port, Ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /encode HTTP/1.1\r\nHost: {app.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"model\":\"tiny\","), Ct);
        var answer = new StringBuilder();
        var buffer = new byte[4096];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        var read = stream.ReadAsync(buffer, limit.Token).AsTask();
        while (!read.IsCompleted)
        {
            try { await stream.WriteAsync(" "u8.ToArray(), limit.Token); } // 10 bytes a second, far below the minimum rate
            catch (IOException) { break; }
            await Task.WhenAny(read, Task.Delay(100, limit.Token));
        }
        var n = await read;
        answer.Append(Encoding.ASCII.GetString(buffer, 0, n));
        Assert.StartsWith("HTTP/1.1 408", answer.ToString());
        Assert.Contains("application/problem+json", answer.ToString());
    }

    [Fact]
    public async Task An_unknown_member_is_a_400_naming_it_not_a_silent_default()
    {
        using var client = app.Client();
        var (response, body) = await client.PostJson("/complete", """{"model":"tiny","sketch":{"strokes":[[1,2,0]]},"maxSteps":5}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("is not a field of this request (fields are snake_case, e.g. max_steps)", (string)body!["errors"]!["maxSteps"]![0]!);
        // A snake_case name that this endpoint does not take: no hint about the spelling.
        (response, body) = await client.PostJson("/complete", """{"model":"tiny","sketch":{"strokes":[[1,2,0]]},"prior":"data"}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("is not a field of this request", (string)body!["errors"]!["prior"]![0]!);
    }

    [Fact]
    public async Task A_body_that_cannot_be_read_is_a_400_naming_the_field_in_the_apis_words()
    {
        using var client = app.Client();
        async Task<JsonNode> Refused(string path, string body)
        {
            using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            // Once: "could not be converted to System.Nullable`1[System.Int32]", "contained in type 'SketchService.Api…'".
            Assert.DoesNotContain("System.", text);
            Assert.DoesNotContain("SketchService.", text);
            return JsonNode.Parse(text)!;
        }
        static string Error(JsonNode problem, string field) => (string)problem["errors"]![field]![0]!;
        const string Integer = "must be a 32-bit integer: a JSON number without quotes, fraction or exponent"; // its range is the field's own, checked once it is read
        Assert.Equal(Integer, Error(await Refused("/generate", """{"model":"tiny","samples":"4"}"""), "samples"));
        Assert.Equal(Integer, Error(await Refused("/generate", """{"model":"tiny","samples":4.5}"""), "samples"));
        // Once: "4.0 must be a whole number", which it is; System.Text.Json reads an integer only as written without a fraction.
        Assert.Equal(Integer, Error(await Refused("/generate", """{"model":"tiny","seed":10000000000}"""), "seed"));
        Assert.Equal(Integer, Error(await Refused("/generate", """{"model":"tiny","samples":4.0}"""), "samples"));
        Assert.Equal(Integer, Error(await Refused("/generate", """{"model":"tiny","seed":1e30}"""), "seed"));
        Assert.Equal("must be a number", Error(await Refused("/complete", """{"model":"tiny","sketch":{"strokes":[["a",1,0]]}}"""), "sketch.strokes[0][0]"));
        Assert.Equal("must be an array", Error(await Refused("/complete", """{"model":"tiny","sketch":{"strokes":"abc"}}"""), "sketch.strokes"));
        // Names are matched as documented (snake_case), and once each.
        Assert.Contains("is not a field", Error(await Refused("/generate", """{"model":"tiny","MAX_STEPS":2}"""), "MAX_STEPS"));
        Assert.Equal("is given twice", Error(await Refused("/generate", """{"model":"tiny","max_steps":2,"max_steps":5}"""), "max_steps"));
        Assert.StartsWith("is not valid JSON", Error(await Refused("/generate", """{"model":"tiny","samples":}"""), "samples"));
        Assert.Equal("the request needs a JSON object as its body", (string)(await Refused("/generate", ""))["detail"]!);
    }

    [Theory]
    [InlineData("/complete", "application/*", "application/json")]
    [InlineData("/complete", "text/*", "text/event-stream")]
    [InlineData("/complete", "text/event-stream;q=0.5, application/json", "application/json")]
    [InlineData("/generate", "image/*", "image/svg+xml")]
    [InlineData("/generate", "image/png, image/*;q=0.1", "image/png")]
    [InlineData("/generate", "application/json; charset=utf-8", "application/json")]
    [InlineData("/generate", "application/json;q=0", null)]
    [InlineData("/generate", "*/*, application/json;q=0", "image/svg+xml")]
    public async Task The_accept_header_is_read_with_its_wildcards_and_q_values(string path, string accept, string? answered)
    {
        // Once: application/*, text/* and image/* were 406, and q=0 was ignored.
        using var client = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(path == "/generate" ? """{"model":"tiny","max_steps":2,"seed":1}"""
                : """{"model":"tiny","sketch":{"strokes":[[1,2,0]]},"max_steps":2,"seed":1}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await client.SendAsync(request, Ct);
        if (answered is null) Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        else Assert.Equal(answered, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_sketch_cut_at_max_steps_keeps_its_pen_down_in_both_forms()
    {
        using var client = app.Client();
        var (_, body) = await client.PostJson("/complete", new { model = "tiny", sketch = new { polylines = new[] { new[] { new[] { 0f, 10 }, new[] { 0f, 5 } } } }, max_steps = 5, seed = 1 });
        var sketch = body!["sketches"]![0]!;
        Assert.False((bool)sketch["ended_by_itself"]!);
        Assert.Equal(0f, sketch["strokes"]!.Rows()[^1][2]); // the tiny model never lifts its pen: the last stroke is unfinished
    }

    [Theory]
    [InlineData("/health/ready", 200, Serilog.Events.LogEventLevel.Verbose)]
    [InlineData("/health/ready", 503, Serilog.Events.LogEventLevel.Warning)]
    [InlineData("/complete", 503, Serilog.Events.LogEventLevel.Error)]
    [InlineData("/complete", 429, Serilog.Events.LogEventLevel.Information)]
    public void Readiness_while_loading_is_a_warning_not_an_error(string path, int status, Serilog.Events.LogEventLevel level)
    {
        var http = new DefaultHttpContext();
        http.Request.Path = path;
        http.Response.StatusCode = status;
        Assert.Equal(level, Logging.LevelOf(http, null));
    }

    [Fact]
    public async Task Generate_draws_z_from_the_data_prior_where_the_model_has_one()
    {
        using var client = app.Client();
        var prior = SketchService.Core.Latent.LatentPrior.Read(Path.Combine(app.ModelsPath, "sheep"));
        var data = await client.PostOk<DecodeResponse>("/generate", new { model = "sheep", samples = 16, seed = 3, max_steps = 5 }, app.Json);
        Assert.Equal("data", data.Prior);
        var standard = await client.PostOk<DecodeResponse>("/generate", new { model = "sheep", samples = 16, seed = 3, max_steps = 5, prior = "standard" }, app.Json);
        Assert.Equal("standard", standard.Prior);
        // The data prior's z gather around its mean; N(0, I)'s do not.
        static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());
        Assert.True(data.Z.Average(z => Distance(z!, prior.Mean)) < standard.Z.Average(z => Distance(z!, prior.Mean)));

        var tiny = await client.PostOk<DecodeResponse>("/generate", new { model = "tiny", max_steps = 3 }, app.Json);
        Assert.Equal("standard", tiny.Prior); // no prior.json: N(0, I)
        var (none, problem) = await client.PostJson("/generate", new { model = "tiny", prior = "data", max_steps = 3 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, none.StatusCode);
        Assert.Contains("has no data prior (its folder has no prior.json); use prior standard", (string)problem!["detail"]!);
        var (bad, _) = await client.PostJson("/generate", new { model = "tiny", prior = "uniform", max_steps = 3 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task An_arithmetic_result_is_held_to_the_bound_of_any_z()
    {
        using var client = app.Client();
        var a = new { z = new[] { 2f, 0, 0, 0 } };
        var ok = await client.PostOk<ArithmeticResponse>("/arithmetic", new { model = "tiny", expression = "400 * a", operands = new { a }, max_steps = 2 }, app.Json);
        Assert.Equal(800, ok.Z[0]);
        // Once decoded whatever it came to (|z| 2000 here), where /decode refuses a z past ±1000.
        var (response, problem) = await client.PostJson("/arithmetic", new { model = "tiny", expression = "1000 * a", operands = new { a }, max_steps = 2 });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(problem!["errors"]!["expression[0]"]);
    }

    [Fact]
    public async Task Encode_reads_the_accept_header_as_every_endpoint_does()
    {
        using var client = app.Client();
        var body = new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 2f, 0f } } } };
        // Once: Accept: image/png got 200 JSON from /encode alone.
        using var png = new HttpRequestMessage(HttpMethod.Post, "/encode") { Content = JsonContent.Create(body) };
        png.Headers.Accept.ParseAdd("image/png");
        using var refused = await client.SendAsync(png, Ct);
        Assert.Equal(HttpStatusCode.NotAcceptable, refused.StatusCode);
        Assert.Contains("application/json only", await refused.Content.ReadAsStringAsync(Ct));
        var (svg, problem) = await client.PostJson("/encode?format=svg", body);
        Assert.Equal(HttpStatusCode.BadRequest, svg.StatusCode);
        Assert.Contains("JSON only", (string)problem!["errors"]!["format"]![0]!);
        var (json, _) = await client.PostJson("/encode?format=json", body);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
    }

    [Fact]
    public async Task Complete_with_condition_prior_takes_the_data_priors_z_that_makes_the_sketch_most_likely()
    {
        using var client = app.Client();
        var sketch = new { polylines = new[] { new[] { new[] { 60f, 120, 180, 200, 180, 120, 60 }, new[] { 80f, 60, 70, 110, 150, 160, 120 } } } };
        var body = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch, condition = "prior", seed = 11, max_steps = 40 }, app.Json);
        Assert.Equal("prior", body.Condition);
        var sheep = app.Services.GetRequiredService<SketchService.Runtime.Models.ModelStore>().Models["sheep"].Model;
        var candidates = SketchService.Runtime.Decoding.LatentSelection.Draw(sheep, 11);
        Assert.Contains(candidates, c => c.SequenceEqual(body.Z!));
        var again = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch, condition = "prior", seed = 11, max_steps = 40 }, app.Json);
        Assert.Equal(body.Z, again.Z); // the seed draws the candidates too
        // A model folder without prior.json has nothing to draw from.
        var (none, problem) = await client.PostJson("/complete", new { model = "tiny", sketch, condition = "prior", max_steps = 3 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, none.StatusCode);
        Assert.Contains("has no data prior (its folder has no prior.json); use condition encoding", (string)problem!["detail"]!);
    }

    [Fact]
    public async Task Auto_completes_from_the_prior_only_where_its_scoring_fits_the_cost_limit()
    {
        // Once: auto's candidate rows over a long sketch put a playground request over MaxRequestCost: a 400.
        await using var limited = new SettingsFactory(("MaxRequestCost", "8000"));
        await limited.InitializeAsync();
        using var client = limited.Client();
        object Long(int points) => new { strokes = Enumerable.Range(0, points).Select(i => new[] { 2f, i % 2 == 0 ? 1f : -1f, i % 40 == 39 ? 1f : 0f }).ToArray() };
        var shortOne = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch = Long(20), samples = 4, max_steps = 250, seed = 1 }, limited.Json);
        Assert.Equal("prior", shortOne.Condition);
        var longOne = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch = Long(400), samples = 4, max_steps = 250, seed = 1 }, limited.Json);
        Assert.Equal("encoding", longOne.Condition); // (4 + 16) × 400 + 4 × 250 would be over 8 000
        var asked = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch = Long(20), condition = "prior", samples = 4, max_steps = 250, seed = 1 }, limited.Json);
        Assert.Equal(shortOne.Z, asked.Z); // asked for, it is what auto chose
        var (refused, problem) = await client.PostJson("/complete", new { model = "sheep", sketch = Long(400), condition = "prior", samples = 4, max_steps = 250 });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.EndsWith("leave no steps to draw under the limit of 8000: samples can be at most 3, or use condition encoding", (string)problem!["errors"]!["samples"]![0]!);
    }

    private sealed class LevelLogger : ILogger<ApiProblemHandler>
    {
        public List<LogLevel> Levels { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Levels.Add(logLevel);
    }

    private sealed class NoProblems : IProblemDetailsService
    {
        public ValueTask WriteAsync(ProblemDetailsContext context) => throw new InvalidOperationException("nothing is written to a client that has gone");
    }
}
