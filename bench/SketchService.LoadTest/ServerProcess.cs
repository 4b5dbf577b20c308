using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SketchService.Export;

namespace SketchService.LoadTest;

/// <summary>A bad command-line value found only at run time (e.g. an unknown model): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Where the repository and the shared data live.</summary>
public static class RepoPaths
{
    private static string? _root;

    public static string Root => _root ??= FindRoot();

    /// <summary>SKETCH_DATA, or ../shared beside the repository.</summary>
    public static string Data => Environment.GetEnvironmentVariable("SKETCH_DATA") is { Length: > 0 } d ? d : Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string ApiDll => Path.Combine(Root, "src", "SketchService.Api", "bin", "Release", "net10.0", "SketchService.Api.dll");

    private static string FindRoot()
    {
        // The working directory first (dotnet run from the repo), then where this program was built.
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "SketchService.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (a folder holding SketchService.sln) above the working directory");
    }
}

/// <summary>
/// The real server, started on a free loopback port with its own temporary models folder holding one model.
/// Disposing kills it (and, through ProcessExit, so does Ctrl-C).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);
    private readonly Process _process;
    private readonly string _modelsPath;
    private readonly Queue<string> _outputTail = new(); // the child's last log lines, shown if it fails to start

    public Uri Url { get; }
    public int Pid => _process.Id;

    private ServerProcess(Process process, Uri url, string modelsPath)
    {
        _process = process;
        Url = url;
        _modelsPath = modelsPath;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Model argument → model id the server serves it as: magenta-bird → bird, sheep → sheep.</summary>
    public static string ModelId(string model) => model.StartsWith("magenta-", StringComparison.Ordinal) ? model["magenta-".Length..] : model;

    public static async Task<ServerProcess> StartAsync(string model, IReadOnlyList<string> settings, CancellationToken ct)
    {
        Check(model);
        var dll = RepoPaths.ApiDll;

        var modelsPath = Directory.CreateTempSubdirectory("sketch-loadtest-").FullName;
        try
        {
            PrepareModel(model, modelsPath);
        }
        catch
        {
            Directory.Delete(modelsPath, recursive: true);
            throw;
        }

        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var info = new ProcessStartInfo("dotnet")
        {
            // The dll's folder as working directory, so the server reads its appsettings.json.
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(url.ToString().TrimEnd('/'));
        info.Environment["SketchService__ModelsPath"] = modelsPath;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var s in settings)
        {
            var eq = s.IndexOf('=');
            info.Environment["SketchService__" + s[..eq].Replace(":", "__")] = s[(eq + 1)..];
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var server = new ServerProcess(process, url, modelsPath);
        // Drained so the child never blocks on a full pipe; its warnings are of no interest unless it fails.
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitReadyAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Fails before anything starts when the model or the server build is missing.</summary>
    public static void Check(string model)
    {
        if (!File.Exists(RepoPaths.ApiDll))
            throw new InvalidOperationException($"the API's Release build is missing ({RepoPaths.ApiDll}); run `dotnet build src/SketchService.Api -c Release` in {RepoPaths.Root}");
        _ = Source(model);
    }

    /// <summary>A sketch-rnn-js JSON file (magenta-&lt;class&gt;) or a model folder under models/.</summary>
    private static string Source(string model)
    {
        if (model.StartsWith("magenta-", StringComparison.Ordinal))
        {
            var json = Path.Combine(RepoPaths.Data, "models", "magenta", ModelId(model) + ".gen.json");
            return File.Exists(json) ? json : throw new UsageException($"--model {model}: no {json} (set SKETCH_DATA to the shared data folder)");
        }
        var folder = Path.Combine(RepoPaths.Root, "models", model);
        return File.Exists(Path.Combine(folder, "model.json"))
            ? folder : throw new UsageException($"--model {model}: no model folder {folder}; use sheep, magenta-<class> or a folder under models/");
    }

    private static void PrepareModel(string model, string modelsPath)
    {
        var source = Source(model);
        var id = ModelId(model);
        if (model.StartsWith("magenta-", StringComparison.Ordinal)) MagentaModel.Import(source, Path.Combine(modelsPath, id), "magenta:" + id);
        else CopyFolder(source, Path.Combine(modelsPath, id));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from)) CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode} before it was ready:\n{OutputTail()}");
            try
            {
                using var response = await http.GetAsync("/health/ready", ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { } // not listening yet
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { } // our 5 s timeout
            await Task.Delay(250, ct);
        }
        throw new TimeoutException($"the server was not ready (GET /health/ready = 200) within {ReadyTimeout.TotalSeconds:0} s:\n{OutputTail()}");
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_outputTail)
        {
            _outputTail.Enqueue(line);
            if (_outputTail.Count > 40) _outputTail.Dequeue();
        }
    }

    private string OutputTail()
    {
        lock (_outputTail) return string.Join('\n', _outputTail);
    }

    private void OnProcessExit(object? sender, EventArgs e) => Kill();

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // already gone
    }

    public async ValueTask DisposeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Kill();
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try { await _process.WaitForExitAsync(wait.Token); }
            catch (OperationCanceledException) { }
        }
        _process.Dispose();
        try { Directory.Delete(_modelsPath, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>
/// The server's resident memory (VmRSS of /proc/&lt;pid&gt;/status), sampled every 500 ms in the background so a
/// level's peak is caught between its start and end readings.
/// </summary>
public sealed class RssMonitor : IAsyncDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _maxKb;

    public RssMonitor(int pid)
    {
        _pid = pid;
        _sampling = SampleAsync();
    }

    /// <summary>RSS now, in MiB (NaN when it cannot be read).</summary>
    public double ReadMiB() => ReadKb() is long kb and > 0 ? kb / 1024.0 : double.NaN;

    /// <summary>Starts a new peak: the current RSS.</summary>
    public void ResetMax() => Interlocked.Exchange(ref _maxKb, ReadKb());

    public double MaxMiB => Interlocked.Read(ref _maxKb) is long kb and > 0 ? kb / 1024.0 : double.NaN;

    private long ReadKb()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim());
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var kb = ReadKb();
                long seen;
                while (kb > (seen = Interlocked.Read(ref _maxKb)) && Interlocked.CompareExchange(ref _maxKb, kb, seen) != seen) { }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }
}
