using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SketchService.LoadTest;

/// <summary>
/// The fair-share scenario (--fairness): four polite callers, each sending one POST /complete at a time (JSON), first
/// alone ("idle"), then beside a greedy caller that keeps 200 streams open at once. Callers are told apart by API key
/// (the server started here gets the five keys' hashes), so the server's CallerShare applies to each. The greedy caller
/// honours Retry-After, as the clients in clients/ do. Targets: no 429 for the polite callers, and their p99 latency
/// within 2× of the idle one.
/// </summary>
public sealed class Fairness(HttpClient http, RequestSettings request, TimeSpan warmup, TimeSpan duration)
{
    public const int Polite = 4, GreedyStreams = 200;
    public static readonly string[] Keys = [.. Enumerable.Range(0, Polite + 1).Select(i => $"fairness-caller-{i}")];
    private static string GreedyKey => Keys[Polite];

    /// <summary>The server settings the scenario needs: the callers' keys.</summary>
    public static string ApiKeySetting => "ApiKeyHashes=" + string.Join(",", Keys.Select(k => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(k)))));

    public async Task<FairnessResult> RunAsync(string label, CancellationToken ct)
    {
        var idle = await PhaseAsync(greedy: false, label + " polite alone", ct);
        var loaded = await PhaseAsync(greedy: true, label + $" polite + {GreedyStreams} greedy streams", ct);
        return new FairnessResult(idle, loaded, duration);
    }

    private sealed class Counts
    {
        public readonly List<double> LatencyMs = [];
        public long Ok, TooMany, Errors, Points;
    }

    private async Task<FairnessPhase> PhaseAsync(bool greedy, string label, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        var from = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var to = from + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        bool Counted(long t) => t >= from && t < to;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(ct);
        end.CancelAfter(warmup + duration);
        var polite = Enumerable.Range(0, Polite).Select(_ => new Counts()).ToArray();
        var greedyCounts = new Counts();
        var tasks = new List<Task>();
        for (var i = 0; i < Polite; i++)
        {
            var (key, counts, caller) = (Keys[i], polite[i], i);
            tasks.Add(Task.Run(() => CallerAsync(key, stream: false, caller * 100_000, counts, Counted, end.Token)));
        }
        if (greedy)
            for (var i = 0; i < GreedyStreams; i++)
            {
                var seed = 1_000_000 + i * 100_000;
                tasks.Add(Task.Run(() => CallerAsync(GreedyKey, stream: true, seed, greedyCounts, Counted, end.Token)));
            }
        var all = Task.WhenAll(tasks);
        while (!all.IsCompleted)
        {
            Console.Error.Write($"\r{label}: {Stopwatch.GetElapsedTime(start).TotalSeconds:0} / {(warmup + duration).TotalSeconds:0} s   ");
            await Task.WhenAny(all, Task.Delay(500, CancellationToken.None));
        }
        await all;
        ct.ThrowIfCancellationRequested();
        Console.Error.WriteLine();
        var latencies = polite.SelectMany(c => c.LatencyMs).Order().ToArray();
        return new FairnessPhase(greedy, latencies, polite.Sum(c => c.Ok), polite.Sum(c => c.TooMany), polite.Sum(c => c.Errors),
            greedyCounts.Ok, greedyCounts.TooMany, greedyCounts.Errors, greedyCounts.Points);
    }

    /// <summary>One connection's loop: a request, read to its end; after a 429, its Retry-After.</summary>
    private async Task CallerAsync(string key, bool stream, int seed, Counts counts, Func<long, bool> counted, CancellationToken end)
    {
        for (var n = 0; !end.IsCancellationRequested; n++)
        {
            TimeSpan wait = TimeSpan.Zero;
            try
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, request.CompleteUrl)
                {
                    Content = new ByteArrayContent(request.Body(seed + n)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                    Headers = { { "X-Api-Key", key } },
                };
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(stream ? "text/event-stream" : "application/json"));
                var sent = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, end);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    lock (counts) if (counted(sent)) counts.TooMany++;
                    wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                }
                else if (!response.IsSuccessStatusCode)
                {
                    lock (counts) if (counted(sent)) counts.Errors++;
                    wait = TimeSpan.FromMilliseconds(100);
                }
                else
                {
                    var body = await response.Content.ReadAsStringAsync(end);
                    var done = Stopwatch.GetTimestamp();
                    var points = stream ? CountOccurrences(body, "event: step") : JsonDocument.Parse(body).RootElement.GetProperty("stats").GetProperty("steps").GetInt32();
                    lock (counts)
                        if (counted(sent))
                        {
                            counts.Ok++;
                            counts.Points += points;
                            counts.LatencyMs.Add((done - sent) * 1000.0 / Stopwatch.Frequency);
                        }
                }
            }
            catch (OperationCanceledException) when (end.IsCancellationRequested) { break; }
            catch (Exception)
            {
                lock (counts) if (counted(Stopwatch.GetTimestamp())) counts.Errors++;
                wait = TimeSpan.FromMilliseconds(100); // a failing server is not hammered by 200 loops
            }
            if (wait > TimeSpan.Zero)
                try { await Task.Delay(wait, end); }
                catch (OperationCanceledException) { break; }
        }
    }

    private static int CountOccurrences(string text, string what)
    {
        var n = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}

public sealed record FairnessPhase(bool Greedy, double[] PoliteLatencyMs, long PoliteOk, long PoliteTooMany, long PoliteErrors,
    long GreedyOk, long GreedyTooMany, long GreedyErrors, long GreedyPoints)
{
    public double PoliteP(double q) => PoliteLatencyMs.Length == 0 ? double.NaN : PoliteLatencyMs[Math.Min(PoliteLatencyMs.Length - 1, (int)Math.Ceiling(q * PoliteLatencyMs.Length) - 1)];
}

public sealed record FairnessResult(FairnessPhase Idle, FairnessPhase Loaded, TimeSpan Duration)
{
    public double P99Ratio => Loaded.PoliteP(0.99) / Idle.PoliteP(0.99);
    public bool Holds => Loaded.PoliteTooMany == 0 && Loaded.PoliteErrors == 0 && P99Ratio <= 2;
}
