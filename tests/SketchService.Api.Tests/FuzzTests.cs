using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SketchService.Api.Tests;

/// <summary>
/// A seeded fuzz run over every endpoint through the real Kestrel pipeline: 5 000+ hostile requests (malformed JSON,
/// wrong types, non-finite and huge numbers, deep nesting, oversize arrays and bodies, bad expressions and ids, odd
/// Accept and Content-Type headers, clients that leave mid-stream). It asserts that nothing answers 5xx, every error is
/// application/problem+json with a detail, every 2xx body is whole, no request outlives its deadline, and the service
/// is healthy and idle afterwards.
/// </summary>
[Collection("Api")]
public sealed class FuzzTests(ApiFactory app)
{
    private const int Requests = 5200;
    private const int Concurrency = 8;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30); // SketchService:RequestDeadlineSeconds's default

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly byte[] PngEnd = [(byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82]; // the IEND chunk and its CRC

    private static readonly string[] Endpoints = ["/encode", "/complete", "/decode", "/generate", "/interpolate", "/arithmetic"];
    private static readonly string[] Models = ["tiny", "bird", "sheep", "nope", "", "../sheep", "tiny%00", new string('m', 5000), "tïny", "TINY"];
    private static readonly string[] Accepts = ["application/json", "text/event-stream", "image/png", "text/html", "*/*", "application/xml", "", "garbage/;;", "application/json;q=0, text/event-stream"];
    private static readonly string[] ContentTypes = ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=utf-16", "multipart/form-data", "application/json; charset=nope"];
    private static readonly string[] Formats = ["json", "svg", "png", "bogus", "", "PNG", new string('f', 300)];

    private sealed record Case(HttpMethod Method, string Path, string? Body, string? ContentType, string? Accept, bool LeaveEarly, string Kind);

    [Fact]
    public async Task Five_thousand_hostile_requests_get_no_5xx_and_only_problem_details()
    {
        var rng = new Random(20261128);
        var cases = Enumerable.Range(0, Requests).Select(_ => Generate(rng)).ToArray();
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = app.BaseAddress, Timeout = Deadline + TimeSpan.FromSeconds(30) };

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            for (int i; (i = Interlocked.Increment(ref next)) < cases.Length;)
            {
                var c = cases[i];
                try
                {
                    var (status, problem) = await Send(client, c);
                    statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                    if (problem is not null) failures.Add($"#{i} {c.Kind} {c.Method} {Short(c.Path)} Accept '{c.Accept}' → {status}: {problem}");
                }
                catch (Exception e) when (e is not OperationCanceledException || !Ct.IsCancellationRequested)
                {
                    failures.Add($"#{i} {c.Kind} {c.Method} {Short(c.Path)} ({c.Body?.Length} chars) → {e.GetType().Name}: {e.Message} {e.InnerException?.Message} {e.InnerException?.InnerException?.Message}");
                }
            }
        }));

        TestContext.Current.SendDiagnosticMessage($"fuzz: {cases.Length} requests in {clock.Elapsed.TotalSeconds:0.0} s; statuses {string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}"))}");
        Assert.True(failures.IsEmpty, $"{failures.Count} bad answers, e.g.:\n{string.Join("\n", failures.Take(15))}");
        Assert.True(statuses.Keys.Count(s => s is >= 200 and < 300) > 0 && statuses.Keys.Count(s => s >= 400) > 3, "the generator should reach both successes and several kinds of error");

        // Healthy and idle afterwards: ready, and every row of every model freed.
        using var ready = await client.GetAsync("/health/ready", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var idle = Stopwatch.StartNew();
        string[] served = app.HasBird ? ["tiny", "bird"] : ["tiny"]; // without the shared data, "bird" is just an unknown model
        foreach (var model in served)
            while (app.Scheduler(model).LiveRows > 0 && idle.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10, Ct);
        Assert.All(served, model => Assert.Equal(0, app.Scheduler(model).LiveRows));
    }

    /// <summary>Sends one case and checks its answer; returns the status and what was wrong with it (null: nothing).</summary>
    private static async Task<(int Status, string? Problem)> Send(HttpClient client, Case c)
    {
        using var request = new HttpRequestMessage(c.Method, c.Path);
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(c.Body));
            if (c.ContentType is { Length: > 0 } type && MediaTypeHeaderValue.TryParse(type, out var mt)) request.Content.Headers.ContentType = mt;
        }
        if (c.Accept is { Length: > 0 }) request.Headers.TryAddWithoutValidation("Accept", c.Accept);
        if (c.LeaveEarly || c.Body?.Length > 1_000_000)
        {
            // Over MaxBodyBytes: ask before sending, so the 413 comes instead of a broken pipe mid-upload. Neither
            // this connection nor a stream left early is reused.
            request.Headers.ExpectContinue = c.Body?.Length > 1_000_000;
            request.Headers.ConnectionClose = true;
        }

        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        int status = (int)response.StatusCode;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (c.LeaveEarly && mediaType == "text/event-stream")
        {
            await using var stream = await response.Content.ReadAsStreamAsync(Ct);
            _ = await stream.ReadAsync(new byte[64], Ct); // read a little, then hang up
            return (status, null);
        }
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        var took = clock.Elapsed;

        if (status >= 500) return (status, $"server error: {Short(Encoding.UTF8.GetString(body))}");
        if (c.Method == HttpMethod.Head) return (status, null); // no body, by definition
        if (took > Deadline + TimeSpan.FromSeconds(5)) return (status, $"took {took.TotalSeconds:0.0} s, past the {Deadline.TotalSeconds} s deadline");
        if (status >= 400)
        {
            if (mediaType != "application/problem+json") return (status, $"error as '{mediaType}', not application/problem+json");
            try
            {
                var detail = JsonNode.Parse(body)?["detail"]?.GetValue<string>();
                if (string.IsNullOrWhiteSpace(detail)) return (status, "problem without a detail");
                if (body.Length > 20_000) return (status, $"a {body.Length}-byte error body: echoes input without bound");
            }
            catch (JsonException e) { return (status, $"unreadable problem: {e.Message}"); }
            return (status, null);
        }
        return mediaType switch
        {
            "application/json" => Whole(body),
            "text/event-stream" => WholeStream(body),
            "image/png" => body.AsSpan().StartsWith(PngSignature) && body.AsSpan().EndsWith(PngEnd) ? (status, null) : (status, "truncated PNG"),
            "image/svg+xml" => Encoding.UTF8.GetString(body).TrimEnd().EndsWith("</svg>") ? (status, null) : (status, "truncated SVG"),
            _ => (status, null), // /metrics (text/plain), health checks
        };

        (int, string?) Whole(byte[] json)
        {
            try { JsonDocument.Parse(json).Dispose(); return (status, NonFinite(json)); }
            catch (JsonException e) { return (status, $"corrupt JSON body: {e.Message}"); }
        }

        (int, string?) WholeStream(byte[] sse)
        {
            var events = Encoding.UTF8.GetString(sse).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            if (events.Length == 0) return (status, "empty event stream");
            var last = events[^1];
            if (!last.StartsWith("event: done") && !last.StartsWith("event: error")) return (status, $"stream ended without done or error: '{Short(last)}'");
            foreach (var ev in events)
            {
                var data = ev[(ev.IndexOf("data: ", StringComparison.Ordinal) + 6)..];
                try { JsonDocument.Parse(data).Dispose(); }
                catch (JsonException e) { return (status, $"corrupt event data: {e.Message}"); }
            }
            return (status, null);
        }
    }

    /// <summary>JSON never carries NaN or Infinity (System.Text.Json would refuse to write them; this catches a writer that did).</summary>
    private static string? NonFinite(byte[] json)
    {
        var text = Encoding.UTF8.GetString(json);
        return text.Contains("NaN") || text.Contains("Infinity") ? "non-finite number in the body" : null;
    }

    private static string Short(string s) => s.Length <= 160 ? s : s[..160] + "…";

    private static Case Generate(Random rng)
    {
        string Pick(string[] a) => a[rng.Next(a.Length)];
        var accept = rng.Next(3) == 0 ? Pick(Accepts) : "application/json";
        var contentType = rng.Next(6) == 0 ? Pick(ContentTypes) : "application/json";
        switch (rng.Next(12))
        {
            case 0: // plain GETs, also on routes that take only POST, and odd methods
                var method = new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Head, HttpMethod.Patch }[rng.Next(6)];
                var path = Pick(["/models", "/models/" + Uri.EscapeDataString(Pick(Models)), "/health/live", "/health/ready", "/metrics", "/nowhere", Pick(Endpoints), "/swagger/v1/swagger.json"]);
                return new Case(method, path, method == HttpMethod.Get || method == HttpMethod.Head ? null : "{}", contentType, accept, false, "route");
            case 1: // malformed JSON
                return new Case(HttpMethod.Post, Pick(Endpoints), Pick(["{", "{\"model\":", "[1,2", "nul", "{\"samples\":1,,}", "\"just a string\"", "{\"a\":\"\\ud800\"}", "\u0000", "{}}", ""]),
                    contentType, accept, false, "malformed");
            case 2: // deep nesting
                var depth = rng.Next(50, 3000);
                return new Case(HttpMethod.Post, Pick(Endpoints), $"{{\"sketch\":{{\"strokes\":{new string('[', depth)}{new string(']', depth)}}}}}", contentType, accept, false, "nesting");
            case 3: // oversize body
                return new Case(HttpMethod.Post, Pick(Endpoints), $"{{\"model\":\"{new string('x', rng.Next(1_100_000, 1_500_000))}\"}}", contentType, accept, false, "huge body");
            default:
                return Plausible(rng, accept, contentType);
        }
    }

    /// <summary>A request of the right shape with a few fields made hostile: wrong types, huge or non-finite numbers, oversize arrays.</summary>
    private static Case Plausible(Random rng, string accept, string contentType)
    {
        string Pick(string[] a) => a[rng.Next(a.Length)];
        var endpoint = Pick(Endpoints);
        var hostile = rng.Next(3) != 0;
        string Number(double sane) => !hostile || rng.Next(3) != 0 ? sane.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : Pick(["-1", "0", "1e39", "3e38", "-3.4e38", "1e400", "\"16\"", "null", "true", "[]", "{}", "1.5", "2147483648", "-2147483649", "NaN", "\"Infinity\"", "99999999"]);
        string Strokes()
        {
            if (hostile && rng.Next(4) == 0) return Pick(["[]", "null", "[[1,2]]", "[[1,2,3]]", "[[1,2,0.5]]", "\"strokes\"", "[[\"a\",1,0]]", "[null]"]);
            int n = hostile && rng.Next(6) == 0 ? rng.Next(1990, 2600) : rng.Next(1, 30);
            var rows = Enumerable.Range(0, n).Select(i => $"[{(hostile && rng.Next(10) == 0 ? Pick(["3e38", "-3e38", "1e39", "1e6"]) : (rng.NextDouble() * 60 - 30).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))},{(rng.NextDouble() * 60 - 30).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)},{(i % 7 == 6 ? 1 : 0)}]");
            return "[" + string.Join(",", rows) + "]";
        }
        string Polylines()
        {
            if (hostile && rng.Next(4) == 0) return Pick(["[]", "[[[1,2],[3]]]", "[[[1.7e38,-1.7e38],[0,0]]]", "[[[],[]]]", "[[[1]]]", "[[[1,2],[3,4],[5,6],[7,8]]]"]);
            int strokes = rng.Next(1, 5);
            return "[" + string.Join(",", Enumerable.Range(0, strokes).Select(_ =>
            {
                int n = rng.Next(1, 12);
                string Axis() => "[" + string.Join(",", Enumerable.Range(0, n).Select(_ => hostile && rng.Next(12) == 0 ? Pick(["1.7e38", "-1.7e38", "1e-40"]) : rng.Next(0, 256).ToString())) + "]";
                return $"[{Axis()},{Axis()}]";
            })) + "]";
        }
        string Sketch() => rng.Next(2) == 0 ? $"{{\"strokes\":{Strokes()}}}" : $"{{\"polylines\":{Polylines()}}}";
        string Z(int size) => hostile && rng.Next(3) == 0 ? Pick(["[]", "[1e39]", "null", "\"z\"", $"[{string.Join(",", Enumerable.Repeat("1e38", size))}]"])
            : "[" + string.Join(",", Enumerable.Range(0, size).Select(_ => (rng.NextDouble() * 4 - 2).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture))) + "]";

        var model = rng.Next(5) == 0 ? Pick(Models) : Pick(["tiny", "tiny", "bird"]);
        var zSize = model == "sheep" ? 128 : 4; // tiny's latent size; bird has none
        var common = $"\"model\":{JsonSerializer.Serialize(model)},\"temperature\":{Number(rng.NextDouble())},\"seed\":{Number(rng.Next())},\"max_steps\":{Number(rng.Next(1, 60))}";
        var body = endpoint switch
        {
            "/encode" => $"{{{common},\"sketch\":{Sketch()}}}",
            "/complete" => $"{{{common},\"sketch\":{Sketch()},\"samples\":{Number(rng.Next(1, 5))},\"condition\":{JsonSerializer.Serialize(Pick(["auto", "none", "z", "encoding", "prior", "bogus"]))}{(rng.Next(3) == 0 ? $",\"z\":{Z(zSize)}" : "")}}}",
            "/decode" => $"{{{common},\"z\":{Z(zSize)},\"samples\":{Number(rng.Next(1, 4))}}}",
            "/generate" => $"{{{common},\"samples\":{Number(rng.Next(1, 4))}}}",
            "/interpolate" => $"{{{common},\"from\":{{\"strokes\":{Strokes()}}},\"to\":{{\"z\":{Z(zSize)}}},\"n\":{Number(rng.Next(2, 6))},\"method\":{JsonSerializer.Serialize(Pick(["slerp", "lerp", "cubic"]))}}}",
            _ => Arithmetic(),
        };
        string Arithmetic()
        {
            var expression = hostile && rng.Next(2) == 0
                ? Pick(["a +", "(((a)", "a * b", "a / 0", "2 * (a - b) + c", "a - a", "1e39 * a", new string('(', 400) + "a" + new string(')', 400), "a $ b", "", new string('a', 600), "b + b + b"])
                : Pick(["a + (b - c)", "0.5 * (a + b)", "a", "a - b + c"]);
            var names = new[] { "a", "b", "c" }.Concat(hostile && rng.Next(8) == 0 ? Enumerable.Range(0, rng.Next(100, 3000)).Select(i => $"unused{i}") : []);
            var operands = string.Join(",", names.Select(n => $"\"{n}\":{(n.StartsWith("unused") ? "{\"z\":[0]}" : rng.Next(2) == 0 ? $"{{\"z\":{Z(zSize)}}}" : $"{{\"strokes\":{Strokes()}}}")}"));
            return $"{{{common},\"expression\":{JsonSerializer.Serialize(expression)},\"operands\":{{{operands}}}}}";
        }
        var format = rng.Next(4) == 0 ? $"?format={Uri.EscapeDataString(Pick(Formats))}" : "";
        var leaveEarly = endpoint == "/complete" && rng.Next(6) == 0;
        if (leaveEarly) accept = "text/event-stream";
        return new Case(HttpMethod.Post, endpoint + format, body, contentType, accept, leaveEarly, hostile ? "hostile" : "plausible");
    }
}
