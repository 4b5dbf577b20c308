using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SketchService.LoadTest;

/// <summary>What every client sends: a fixed four-point sketch, one sample, 250 steps at most.</summary>
public sealed record RequestSettings(Uri CompleteUrl, string ModelId, bool ConditionNone)
{
    public byte[] Body(int seed) => Encoding.UTF8.GetBytes(
        $$"""{"model":{{JsonSerializer.Serialize(ModelId)}},"sketch":{"strokes":[[0,0,0],[20,5,0],[25,-5,0],[10,20,1]]},{{(ConditionNone ? "\"condition\":\"none\"," : "")}}"samples":1,"temperature":0.5,"seed":{{seed}},"max_steps":250}""");
}

/// <summary>One level's measurements, merged over its clients; the sample arrays are sorted.</summary>
public sealed record LevelResult(
    int Clients, TimeSpan Duration, long Points, long Requests, long TooMany, long ServerErrors, long OtherErrors,
    double[] FirstPointMs, double[] JsonLatencyMs, double[] GapMs, double[] TooManyMs,
    IReadOnlyDictionary<string, long> ErrorKinds, double RssStartMiB, double RssEndMiB, double RssMaxMiB,
    IReadOnlyList<(TimeSpan At, double MiB)> RssTimeline)
{
    public double PointsPerSecond => Points / Duration.TotalSeconds;
}

/// <summary>
/// One concurrency level: N clients loop on POST /complete for warm-up + duration. An observation (a point, a
/// finished request, an error, a 429) counts when it happens inside the measurement window, whenever its request
/// started; requests still running when the level ends are cancelled and not counted.
/// </summary>
public sealed class LoadLevel
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan RssTimelineStep = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly RequestSettings _request;
    private readonly int _clients;
    private readonly TimeSpan _warmup, _duration;
    private long _start, _measureFrom, _measureTo; // Stopwatch timestamps

    public LoadLevel(HttpClient http, RequestSettings request, int clients, TimeSpan warmup, TimeSpan duration)
    {
        _http = http;
        _request = request;
        _clients = clients;
        _warmup = warmup;
        _duration = duration;
    }

    /// <param name="rss">The server's RSS, or null when it is not ours to read.</param>
    /// <param name="rssTimeline">Also list the RSS every 10 s of the measurement (soak mode).</param>
    public async Task<LevelResult> RunAsync(RssMonitor? rss, bool rssTimeline, string label, CancellationToken ct)
    {
        var recorders = Enumerable.Range(0, _clients).Select(_ => new Recorder()).ToArray();
        var timeline = new List<(TimeSpan, double)>();
        rss?.ResetMax();
        var rssStart = rss?.ReadMiB() ?? double.NaN;

        _start = Stopwatch.GetTimestamp();
        _measureFrom = _start + (long)(_warmup.TotalSeconds * Stopwatch.Frequency);
        _measureTo = _measureFrom + (long)(_duration.TotalSeconds * Stopwatch.Frequency);
        using var levelEnd = CancellationTokenSource.CreateLinkedTokenSource(ct);
        levelEnd.CancelAfter(_warmup + _duration);
        var clients = recorders.Select((r, i) => Task.Run(() => ClientAsync(i, r, levelEnd.Token))).ToArray();

        var all = Task.WhenAll(clients);
        var progress = new Progress(label, _warmup, _duration, recorders, rss);
        using (var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(500)))
        {
            var nextRss = TimeSpan.Zero;
            while (!all.IsCompleted)
            {
                var measured = Stopwatch.GetElapsedTime(_measureFrom);
                if (rssTimeline && rss is not null && Stopwatch.GetTimestamp() >= _measureFrom && measured >= nextRss)
                {
                    timeline.Add((nextRss, rss.ReadMiB()));
                    nextRss += RssTimelineStep;
                }
                progress.Show(Stopwatch.GetElapsedTime(_start));
                try { await tick.WaitForNextTickAsync(ct); }
                catch (OperationCanceledException) { break; }
            }
        }
        await all;
        ct.ThrowIfCancellationRequested();
        var rssEnd = rss?.ReadMiB() ?? double.NaN;
        if (rssTimeline && rss is not null && (timeline.Count == 0 || timeline[^1].Item1 < _duration)) timeline.Add((_duration, rssEnd));
        var result = Merge(recorders, rssStart, rssEnd, rss?.MaxMiB ?? double.NaN, timeline);
        progress.Finish(result);
        return result;
    }

    private LevelResult Merge(Recorder[] recorders, double rssStart, double rssEnd, double rssMax, List<(TimeSpan, double)> timeline)
    {
        static double[] Sorted(IEnumerable<double> values)
        {
            var a = values.ToArray();
            Array.Sort(a);
            return a;
        }
        var kinds = recorders.SelectMany(r => r.ErrorKinds).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return new LevelResult(_clients, _duration,
            recorders.Sum(r => r.Points), recorders.Sum(r => r.Requests), recorders.Sum(r => r.TooMany),
            recorders.Sum(r => r.ServerErrors), recorders.Sum(r => r.OtherErrors),
            Sorted(recorders.SelectMany(r => r.FirstPointMs)), Sorted(recorders.SelectMany(r => r.JsonLatencyMs)),
            Sorted(recorders.SelectMany(r => r.GapMs)), Sorted(recorders.SelectMany(r => r.TooManyMs)),
            kinds, rssStart, rssEnd, Math.Max(rssMax, Math.Max(rssStart, rssEnd)), timeline);
    }

    private bool Counted(long timestamp) => timestamp >= _measureFrom && timestamp < _measureTo;

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    /// <summary>Even clients stream (SSE), odd ones ask for JSON; seeds run index × 100000 + request number.</summary>
    private async Task ClientAsync(int index, Recorder rec, CancellationToken levelEnd)
    {
        var sse = index % 2 == 0;
        for (var n = 0; !levelEnd.IsCancellationRequested; n++)
        {
            TimeSpan? wait = null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(levelEnd);
            timeout.CancelAfter(RequestTimeout);
            try
            {
                wait = await RequestAsync(sse, index * 100_000 + n, rec, timeout.Token);
            }
            catch (OperationCanceledException) when (levelEnd.IsCancellationRequested)
            {
                break; // the level is over: this request is not counted
            }
            catch (Exception e) // any failure of one request is an error of the run, never the end of the client
            {
                rec.Error(Stopwatch.GetTimestamp(), this, Describe(e));
            }
            if (wait is { } w)
            {
                var left = TimeSpan.FromSeconds(Math.Max(0, (_measureTo - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));
                var delay = w < left ? w : left;
                try { await Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, levelEnd); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    private static string Describe(Exception e) => e switch
    {
        OperationCanceledException => $"timeout ({RequestTimeout.TotalSeconds:0} s)",
        HttpRequestException h when h.HttpRequestError != HttpRequestError.Unknown => $"connection: {h.HttpRequestError}",
        StreamEndedException => "stream ended without event: done",
        JsonException => "unreadable JSON response",
        KeyNotFoundException or InvalidOperationException => "JSON response without a number stats.steps",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>One request, read to its end. Returns how long to wait before the next one (after a 429).</summary>
    private async Task<TimeSpan?> RequestAsync(bool sse, int seed, Recorder rec, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _request.CompleteUrl)
        {
            Content = new ByteArrayContent(_request.Body(seed)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(sse ? "text/event-stream" : "application/json"));
        var sent = Stopwatch.GetTimestamp();
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var status = Stopwatch.GetTimestamp();

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            rec.RateLimited(status, this, Ms(sent, status));
            var retry = response.Headers.RetryAfter;
            return retry?.Delta ?? (retry?.Date is { } date ? date - DateTimeOffset.UtcNow : TimeSpan.FromSeconds(1));
        }
        if (!response.IsSuccessStatusCode)
        {
            var problem = Problem(await response.Content.ReadAsStringAsync(ct));
            rec.HttpError(Stopwatch.GetTimestamp(), this, (int)response.StatusCode, problem);
            return null;
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct);
        if (!sse)
        {
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            var done = Stopwatch.GetTimestamp();
            rec.JsonDone(done, this, Ms(sent, done), json.RootElement.GetProperty("stats").GetProperty("steps").GetInt32());
            return null;
        }

        // Read in chunks and split events on the blank line that ends each: all events of one chunk arrived at the same
        // moment, and a string per line would cost the shared CPU more than the server spends on a point.
        var buffer = new byte[16 * 1024];
        var unread = new ArrayBufferWriter<byte>(); // the start of an event split across reads
        long previous = 0;
        while (true)
        {
            int n = await body.ReadAsync(buffer, ct);
            if (n == 0) break;
            var now = Stopwatch.GetTimestamp();
            unread.Write(buffer.AsSpan(0, n));
            var data = unread.WrittenSpan;
            int start = 0;
            for (int end; (end = data[start..].IndexOf("\n\n"u8)) >= 0; start += end + 2)
            {
                var ev = data.Slice(start, end);
                if (ev.StartsWith("event: step"u8))
                {
                    rec.Step(now, this, previous == 0 ? Ms(sent, now) : null, previous == 0 ? null : Ms(previous, now));
                    previous = now;
                }
                else if (ev.StartsWith("event: done"u8))
                {
                    rec.StreamDone(now, this);
                    return null;
                }
                else if (ev.StartsWith("event: error"u8))
                {
                    var text = Encoding.UTF8.GetString(ev);
                    var at = text.IndexOf("data:", StringComparison.Ordinal);
                    rec.Error(now, this, "event: error: " + Problem(at < 0 ? text : text[(at + 5)..]));
                    return null;
                }
            }
            var rest = data[start..].ToArray();
            unread.Clear();
            unread.Write(rest);
        }
        throw new StreamEndedException();
    }

    /// <summary>"title: detail" of a ProblemDetails body, or its first characters when it is not one.</summary>
    private static string Problem(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                var title = doc.RootElement.TryGetProperty("title", out var t) ? t.GetString() : null;
                var detail = doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
                return string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
            }
        }
        catch (JsonException) { }
        var text = body.Trim().ReplaceLineEndings(" ");
        return text.Length <= 120 ? text : text[..120] + "…";
    }

    private sealed class StreamEndedException() : Exception("the event stream ended without event: done");

    /// <summary>One client's measurements; written by that client only, counters also read by the progress line.</summary>
    private sealed class Recorder
    {
        public long Points, Requests, TooMany, ServerErrors, OtherErrors;
        public readonly List<double> FirstPointMs = [], JsonLatencyMs = [], GapMs = [], TooManyMs = [];
        public readonly Dictionary<string, long> ErrorKinds = [];

        public void Step(long now, LoadLevel level, double? firstMs, double? gapMs)
        {
            if (!level.Counted(now)) return;
            Interlocked.Increment(ref Points);
            if (firstMs is { } f) FirstPointMs.Add(f);
            if (gapMs is { } g) GapMs.Add(g);
        }

        public void StreamDone(long now, LoadLevel level)
        {
            if (level.Counted(now)) Interlocked.Increment(ref Requests);
        }

        public void JsonDone(long now, LoadLevel level, double latencyMs, int steps)
        {
            if (!level.Counted(now)) return;
            Interlocked.Increment(ref Requests);
            Interlocked.Add(ref Points, steps);
            JsonLatencyMs.Add(latencyMs);
        }

        public void RateLimited(long now, LoadLevel level, double latencyMs)
        {
            if (!level.Counted(now)) return;
            Interlocked.Increment(ref TooMany);
            TooManyMs.Add(latencyMs);
        }

        public void HttpError(long now, LoadLevel level, int status, string problem)
        {
            if (!level.Counted(now)) return;
            if (status >= 500) Interlocked.Increment(ref ServerErrors);
            else Interlocked.Increment(ref OtherErrors);
            Kind($"HTTP {status}" + (problem.Length > 0 ? ": " + problem : ""));
        }

        public void Error(long now, LoadLevel level, string kind)
        {
            if (!level.Counted(now)) return;
            Interlocked.Increment(ref OtherErrors);
            Kind(kind);
        }

        private void Kind(string kind) => ErrorKinds[kind] = ErrorKinds.GetValueOrDefault(kind) + 1;
    }

    /// <summary>The live status line on stderr (rewritten in place on a terminal, one line per level otherwise).</summary>
    private sealed class Progress(string label, TimeSpan warmup, TimeSpan duration, Recorder[] recorders, RssMonitor? rss)
    {
        private readonly bool _live = !Console.IsErrorRedirected;

        public void Show(TimeSpan elapsed)
        {
            if (!_live) return;
            string phase;
            if (elapsed < warmup) phase = $"warm-up {elapsed.TotalSeconds:0}/{warmup.TotalSeconds:0} s";
            else
            {
                var measured = elapsed - warmup;
                var points = recorders.Sum(r => Interlocked.Read(ref r.Points));
                phase = $"{measured.TotalSeconds:0}/{duration.TotalSeconds:0} s · {recorders.Sum(r => Interlocked.Read(ref r.Requests))} done"
                    + $" · {points / Math.Max(measured.TotalSeconds, 0.001):N0} points/s"
                    + $" · {recorders.Sum(r => Interlocked.Read(ref r.TooMany))} 429s"
                    + $" · {recorders.Sum(r => Interlocked.Read(ref r.ServerErrors) + Interlocked.Read(ref r.OtherErrors))} errors";
            }
            var memory = rss is null ? "" : $" · RSS {rss.ReadMiB():N0} MiB";
            Console.Error.Write($"\r{label} · {Clients(recorders.Length)} · {phase}{memory}".PadRight(Width));
        }

        public void Finish(LevelResult r)
        {
            var line = $"{label} · {Clients(r.Clients)} · {r.PointsPerSecond:N0} points/s · {r.Requests} done · {r.TooMany} 429s · {r.ServerErrors} 5xx · {r.OtherErrors} other errors";
            Console.Error.WriteLine(_live ? "\r" + line.PadRight(Width) : line);
        }

        private static string Clients(int n) => n == 1 ? "1 client" : $"{n} clients";

        // Padding wipes the rest of the previous, longer line.
        private static int Width => Math.Clamp(Console.BufferWidth - 1, 0, 160);
    }
}
