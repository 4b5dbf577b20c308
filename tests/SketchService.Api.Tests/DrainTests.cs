using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Api.Tests;

/// <summary>
/// The built app in its own process, stopped with SIGTERM as Kubernetes stops a pod: a stream that can finish within
/// the drain time finishes, one that cannot ends with event: error, nothing new is taken, and the process exits in time.
/// </summary>
public sealed class DrainTests
{
    // Generous: the other test collections share the CPU, so the short stream may decode several times slower than
    // when it was timed.
    private const int DrainSeconds = 12;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_lets_streams_finish_refuses_new_work_and_exits_within_the_drain_time()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGTERM is sent with kill(1)");
        using var models = new TempFolder();
        ModelWriter.Write(Path.Combine(models.Path, "tiny"), ApiFactory.TinyWeights(), new ModelManifest
        {
            Name = "tiny", Kind = ModelKind.Vae, DecoderSize = 8, Mixtures = 2, ScaleFactor = 10, MaxSeqLen = TestModels.NeverPushedToEnd, DrawingExtent = 100, Source = "test",
        });
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; }
        // The app as built next to these tests (same configuration), as the container runs it.
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        var dll = Path.Combine(SharedData.RepoRoot, "src", "SketchService.Api", "bin", configuration, "net10.0", "SketchService.Api.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["SketchService__ModelsPath"] = models.Path;
        start.Environment["SketchService__DrainSeconds"] = DrainSeconds.ToString();
        start.Environment["SketchService__MaxSteps"] = "100000000";
        start.Environment["SketchService__MaxRequestCost"] = "1000000000";
        using var server = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        server.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        server.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
            await WaitReady(client);

            // How fast tiny decodes here, so the short stream lasts ~1 s: past the SIGTERM, well inside the drain time.
            var (_, timing) = await client.PostJson("/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, temperature = 0, max_steps = 20_000 });
            var stepsPerSecond = 20_000 / Math.Max(1e-3, (double)timing!["stats"]!["duration_ms"]! / 1000);
            var shortSteps = (int)Math.Clamp(stepsPerSecond, 1000, 50_000_000);

            using var shortStream = await Stream(client, shortSteps);
            using var endless = await Stream(client, 100_000_000);
            var shortReader = new StreamReader(await shortStream.Content.ReadAsStreamAsync(Ct));
            var endlessReader = new StreamReader(await endless.Content.ReadAsStreamAsync(Ct));
            Assert.Equal("step", (await Http.NextEvent(shortReader, Ct))!.Value.Event);
            Assert.Equal("step", (await Http.NextEvent(endlessReader, Ct))!.Value.Event);

            var clock = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", server.Id.ToString()])) await kill!.WaitForExitAsync(Ct);
            var lastShort = LastEvent(shortReader);
            var lastEndless = LastEvent(endlessReader);

            // Nothing new is taken: the listener is closed, or what still reaches the app is refused with 503.
            await Task.Delay(300, Ct);
            try
            {
                using var late = await client.PostAsJsonAsync("/complete", new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, max_steps = 5 }, Ct);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
                Assert.NotNull(late.Headers.RetryAfter);
            }
            catch (HttpRequestException) { } // connection refused: not listening any more

            Assert.Equal("done", (await lastShort).Event);
            var (endEvent, endData) = await lastEndless;
            Assert.Equal("error", endEvent);
            var problem = JsonNode.Parse(endData)!;
            Assert.Equal(503, (int)problem["status"]!);
            Assert.InRange(clock.Elapsed.TotalSeconds, DrainSeconds - 1, DrainSeconds + 5);

            using var exit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            exit.CancelAfter(TimeSpan.FromSeconds(DrainSeconds + 10 - clock.Elapsed.TotalSeconds));
            await server.WaitForExitAsync(exit.Token);
            TestContext.Current.SendDiagnosticMessage($"drain: short stream of {shortSteps} steps finished, the endless one ended at {clock.Elapsed.TotalSeconds:0.0} s, exit code {server.ExitCode}");
            Assert.True(clock.Elapsed.TotalSeconds < DrainSeconds + 5, $"exited {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM");
        }
        catch (Exception) when (DumpLog(log))
        {
            throw;
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    private static bool DumpLog(System.Text.StringBuilder log)
    {
        lock (log) TestContext.Current.SendDiagnosticMessage("server log:\n" + log);
        return false;
    }

    private static async Task WaitReady(HttpClient client)
    {
        for (var clock = Stopwatch.StartNew(); ; await Task.Delay(100, Ct))
        {
            try
            {
                using var ready = await client.GetAsync("/health/ready", Ct);
                if (ready.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(60)) { }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the app did not become ready");
        }
    }

    private static Task<HttpResponseMessage> Stream(HttpClient client, int steps) =>
        client.SendAsync(Http.SseRequest(new { model = "tiny", sketch = new { strokes = new[] { new[] { 1f, 0, 1 } } }, temperature = 0, max_steps = steps }),
            HttpCompletionOption.ResponseHeadersRead, Ct);

    /// <summary>Reads a stream to its end; its last event.</summary>
    private static async Task<(string Event, string Data)> LastEvent(StreamReader reader)
    {
        (string Event, string Data) last = ("", "");
        while (await Http.NextEvent(reader, Ct) is { } e) last = e;
        return last;
    }
}
