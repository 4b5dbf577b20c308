using System.CommandLine;
using Spectre.Console;

namespace SketchService.DataFetch;

/// <summary>
/// fetch-data: downloads every file of manifest.json into the data folder ($SKETCH_DATA, default ../shared beside the
/// repository root), with a progress bar; skips files already there with the right hash; one line per failed file.
/// Exit code 0: every file is there and right; 1: some file is missing or wrong; 2: bad arguments or manifest.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var dest = new Option<string?>("--dest")
        {
            Description = "The data folder [default: $SKETCH_DATA, else ../shared beside the repository root].",
        };
        var manifestPath = new Option<string?>("--manifest")
        {
            Description = "The manifest to follow [default: manifest.json beside this program].",
        };
        var only = new Option<string[]>("--only")
        {
            Description = "Fetch only the files whose path starts with this (repeatable), e.g. --only models/magenta/bird.gen.json.",
            DefaultValueFactory = _ => [],
        };
        var mirror = new Option<string?>("--mirror")
        {
            Description = "Take every file from this folder or URL (<mirror>/<path>, e.g. a copy of shared/) instead of the public sources.",
        };
        var check = new Option<bool>("--check") { Description = "Only check the files already there; download nothing." };
        var parallel = new Option<int>("--parallel")
        {
            Description = "Downloads at once.",
            DefaultValueFactory = _ => 4,
        };
        parallel.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 32) r.AddError("--parallel must be 1 to 32"); });

        var root = new RootCommand("Downloads the shared data (Quick Draw drawings, Sketch-RNN datasets, Google's pretrained sketch-rnn-js models) "
            + "that the tests, scripts and README read, checking every file's size and SHA-256 against the manifest.")
        {
            dest, manifestPath, only, mirror, check, parallel,
        };
        root.SetAction((parse, ct) => Run(new Options(
            parse.GetValue(dest) ?? DefaultDest(), parse.GetValue(manifestPath) ?? Path.Combine(AppContext.BaseDirectory, DataManifest.FileName), parse.GetValue(only)!, parse.GetValue(mirror),
            parse.GetValue(check), parse.GetValue(parallel)), ct));
        return await root.Parse(args).InvokeAsync();
    }

    private sealed record Options(string Dest, string Manifest, string[] Only, string? Mirror, bool Check, int Parallel);

    /// <summary>$SKETCH_DATA, else ../shared beside the repository root (the folder above this program with SketchService.sln).</summary>
    private static string DefaultDest()
    {
        if (Environment.GetEnvironmentVariable("SKETCH_DATA") is { Length: > 0 } env) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir?.Parent is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SketchService.sln"))) return Path.Combine(dir.Parent.FullName, "shared");
        return Path.Combine(Directory.GetCurrentDirectory(), "..", "shared");
    }

    private static async Task<int> Run(Options o, CancellationToken ct)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 4096; // a log file: one line per message, not wrapped at 80
        DataManifest manifest;
        try { manifest = DataManifest.Load(o.Manifest); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
        var files = manifest.Files.Where(f => o.Only.Length == 0 || o.Only.Any(p => f.Path.StartsWith(p, StringComparison.Ordinal))).ToList();
        if (files.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] no manifest entry matches --only {string.Join(' ', o.Only)}");
            return 2;
        }
        if (o.Mirror is { } m) files = [.. files.Select(f => f with { Urls = [MirrorUrl(m, f.Path)], Lines = null })];

        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All })
        {
            Timeout = TimeSpan.FromMinutes(10),
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("SketchService-fetch-data/1.0");
        var fetcher = new Fetcher(http, o.Dest);
        AnsiConsole.MarkupLineInterpolated($"{files.Count} file(s) expected in [bold]{fetcher.Root}[/] ({files.Sum(f => f.Size) / 1e6:F1} MB):");
        if (!o.Check && await fetcher.UnreachableAsync(files.Where(f => fetcher.Problem(f) is not null), TimeSpan.FromSeconds(10), ct) is { } offline)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] the sources cannot be reached from here ({offline}); nothing was downloaded. Copy the files from another copy of shared/ with --mirror <folder>.");
            return 1;
        }

        var results = o.Check ? files.Select(f => fetcher.Problem(f) is { } why ? new FetchResult(f, FetchOutcome.Failed, why) : new FetchResult(f, FetchOutcome.Present)).ToList()
            : await FetchAll(fetcher, files, o.Parallel, ct);

        var present = results.Count(r => r.Outcome == FetchOutcome.Present);
        var downloaded = results.Count(r => r.Outcome == FetchOutcome.Downloaded);
        var bad = results.Where(r => r.Outcome is FetchOutcome.Failed or FetchOutcome.NotDownloadable).OrderBy(r => r.File.Path, StringComparer.Ordinal).ToList();
        foreach (var r in bad)
            AnsiConsole.MarkupLineInterpolated(r.Outcome == FetchOutcome.Failed
                ? (FormattableString)$"[red]FAILED[/] {r.File.Path}: {r.Message}"
                : $"[yellow]NOT DOWNLOADABLE[/] {r.File.Path}: {r.Message}");
        AnsiConsole.MarkupLineInterpolated($"{present} already there, {downloaded} downloaded, {bad.Count} missing or wrong{(bad.Count > 0 ? " (tests that need them are skipped)" : "")}");
        return bad.Count == 0 ? 0 : 1;
    }

    private static string MirrorUrl(string mirror, string path) =>
        Uri.TryCreate(mirror, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "file"
            ? mirror.TrimEnd('/') + "/" + path
            : new Uri(Path.Combine(Path.GetFullPath(mirror), path)).AbsoluteUri;

    /// <summary>All files, <paramref name="parallel"/> at once, under one progress bar of bytes (and one per running download).</summary>
    private static async Task<List<FetchResult>> FetchAll(Fetcher fetcher, List<DataFile> files, int parallel, CancellationToken ct)
    {
        var results = new System.Collections.Concurrent.ConcurrentBag<FetchResult>();
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var total = ctx.AddTask($"{files.Count} files", maxValue: files.Sum(f => (double)f.Size));
                total.IsIndeterminate = false;
                await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, async (file, token) =>
                {
                    var task = ctx.AddTask(Markup.Escape(file.Path), autoStart: true, maxValue: Math.Max(1, file.Size));
                    var reported = 0L;
                    var progress = new Reporter(bytes =>
                    {
                        // Count each byte once towards the total, even when an attempt starts over from another URL.
                        lock (task)
                        {
                            if (bytes > reported) { total.Increment(bytes - reported); reported = bytes; }
                            task.Value = Math.Min(bytes, task.MaxValue);
                        }
                    });
                    var result = await fetcher.FetchAsync(file, progress, token);
                    lock (task)
                    {
                        total.Increment(Math.Max(0, file.Size - reported)); // present files (and failures) fill their share at once
                        task.Value = task.MaxValue;
                        task.StopTask();
                    }
                    results.Add(result);
                });
                total.StopTask();
            });
        return [.. results];
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Reporter(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
