using System.Net;
using System.Text.Json;

namespace SketchService.LoadTest;

public sealed record LoadTestOptions(
    IReadOnlyList<string> Models, IReadOnlyList<int> Clients, TimeSpan Duration, TimeSpan Warmup, TimeSpan ServerWarmup, TimeSpan? Soak,
    Uri? Url, IReadOnlyList<string> ServerSettings, string? ReportPath, bool Fairness = false);

/// <summary>Per model: a fresh server (or the --url one), every level, the optional soak; then the report.</summary>
public sealed class LoadTest(LoadTestOptions options)
{
    public async Task<int> RunAsync(CancellationToken ct)
    {
        // One client for the whole run; no connection cap and no recycling, so the load is what the levels say.
        using var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        { Timeout = TimeSpan.FromSeconds(120) };

        var runs = new List<ModelRun>();
        try
        {
            if (options.Url is null)
                foreach (var model in options.Models) ServerProcess.Check(model);
            foreach (var model in options.Models)
                await RunModelAsync(http, model, runs, ct);
            Publish(runs);
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("Interrupted; the report holds the levels finished so far.");
            Publish(runs);
            return 130;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <param name="runs">Gets this model's run as soon as it exists, so an interrupted run still reports its finished levels.</param>
    private async Task RunModelAsync(HttpClient http, string model, List<ModelRun> runs, CancellationToken ct)
    {
        var id = ServerProcess.ModelId(model);
        var machine = MachineInfo.Read(); // the load average before our server starts
        Console.Error.WriteLine(options.Url is null ? $"{model}: starting the server…" : $"{model}: using {options.Url}");
        // The fair-share scenario tells callers apart by API key: the server gets their hashes.
        IReadOnlyList<string> settings = options.Fairness ? [.. options.ServerSettings, SketchService.LoadTest.Fairness.ApiKeySetting] : options.ServerSettings;
        await using var server = options.Url is null ? await ServerProcess.StartAsync(model, settings, ct) : null;
        await using var rss = server is null ? null : new RssMonitor(server.Pid);
        var baseUrl = WithSlash(server?.Url ?? options.Url!);
        if (options.Fairness) http.DefaultRequestHeaders.Add("X-Api-Key", SketchService.LoadTest.Fairness.Keys[0]); // the warm-up's and the model info's
        var info = await ModelInfoAsync(http, baseUrl, id, ct);
        var request = new RequestSettings(new Uri(baseUrl, "complete"), id, ConditionNone: info.Kind != "vae");

        var run = new ModelRun(model, id, info, machine, options, server is not null);
        runs.Add(run);
        // The JIT (tiered PGO) works for about the first 20 s of load; measured levels should not pay for it.
        if (options.ServerWarmup > TimeSpan.Zero)
            await new LoadLevel(http, request, 16, TimeSpan.Zero, options.ServerWarmup).RunAsync(null, rssTimeline: false, id + " server warm-up", ct);
        if (options.Fairness)
        {
            http.DefaultRequestHeaders.Remove("X-Api-Key"); // from here on each caller sends its own
            run.Fairness = await new Fairness(http, request, options.Warmup, options.Duration).RunAsync(id, ct);
            return;
        }
        foreach (var clients in options.Clients)
            run.Levels.Add(await new LoadLevel(http, request, clients, options.Warmup, options.Duration).RunAsync(rss, rssTimeline: false, id, ct));
        if (options.Soak is { } soak)
            run.Soak = await new LoadLevel(http, request, options.Clients.Max(), options.Warmup, soak).RunAsync(rss, rssTimeline: true, id + " soak", ct);
    }

    // So that relative paths resolve below a base URL's path (http://host/api/ + complete).
    private static Uri WithSlash(Uri url) => url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");

    private static async Task<ModelInfo> ModelInfoAsync(HttpClient http, Uri baseUrl, string id, CancellationToken ct)
    {
        using var response = await http.GetAsync(new Uri(baseUrl, "models/" + Uri.EscapeDataString(id)), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) throw new UsageException($"the server at {baseUrl} has no model '{id}'");
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var manifest = doc.RootElement.GetProperty("manifest");
        return new ModelInfo(manifest.GetProperty("kind").GetString() ?? "?", manifest.GetProperty("decoder_size").GetInt32());
    }

    private void Publish(List<ModelRun> runs)
    {
        if (runs.Count == 0) return;
        var markdown = Report.Render(runs);
        var path = options.ReportPath ?? Path.Combine(RepoPaths.Root, "artifacts", "load-report.md");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, markdown);
        Console.WriteLine(markdown);
        Console.Error.WriteLine($"report written to {Path.GetFullPath(path)}");
    }
}

public sealed record ModelInfo(string Kind, int DecoderSize);

/// <summary>One model's results: the report's section.</summary>
public sealed class ModelRun(string model, string id, ModelInfo info, MachineInfo machine, LoadTestOptions options, bool started)
{
    public string Model => model;
    public string Id => id;
    public ModelInfo Info => info;
    public MachineInfo Machine => machine;
    public LoadTestOptions Options => options;
    /// <summary>Whether this tool started the server (else it is --url's, and its RSS is not ours to read).</summary>
    public bool Started => started;
    public DateTimeOffset Date { get; } = DateTimeOffset.Now;
    public List<LevelResult> Levels { get; } = [];
    public LevelResult? Soak { get; set; }
    public FairnessResult? Fairness { get; set; }
}

public sealed record MachineInfo(int Cpus, string CpuModel, string LoadAverage)
{
    public static MachineInfo Read()
    {
        static string? FirstLine(string path, Func<string, bool> match)
        {
            try { return File.ReadLines(path).FirstOrDefault(match); }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
        var cpu = FirstLine("/proc/cpuinfo", l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var load = FirstLine("/proc/loadavg", _ => true)?.Split(' ').Take(3) is { } parts ? string.Join(" ", parts) : "n/a";
        return new MachineInfo(Environment.ProcessorCount, cpu, load);
    }
}
