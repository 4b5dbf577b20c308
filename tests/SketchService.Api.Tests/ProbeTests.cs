using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SketchService.Api.Infrastructure;

namespace SketchService.Api.Tests;

/// <summary>The probe mode the container's HEALTHCHECK runs: <c>dotnet SketchService.Api.dll --probe [url]</c>.</summary>
[Collection("Api")]
public sealed class ProbeTests(ApiFactory app)
{
    [Fact]
    public async Task Ready_service_gives_exit_code_0()
    {
        var output = new StringWriter();
        Assert.Equal(0, await Probe.RunAsync([new Uri(app.BaseAddress, "/health/ready").ToString()], output));
        Assert.Contains("-> 200", output.ToString());
    }

    [Fact]
    public async Task Error_status_closed_port_and_bad_arguments_give_exit_code_1()
    {
        var output = new StringWriter();
        Assert.Equal(1, await Probe.RunAsync([new Uri(app.BaseAddress, "/no-such-endpoint").ToString()], output));
        Assert.Contains("-> 404", output.ToString());
        Assert.Equal(1, await Probe.RunAsync([$"http://127.0.0.1:{ClosedPort()}/health/ready"], output));
        Assert.Equal(1, await Probe.RunAsync(["not a url"], output));
        Assert.Equal(1, await Probe.RunAsync(["http://127.0.0.1:1/", "extra"], output));
        Assert.Contains("usage:", output.ToString());
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:8080/health/ready")]
    [InlineData("", "http://127.0.0.1:8080/health/ready")]
    [InlineData("8080", "http://127.0.0.1:8080/health/ready")]
    [InlineData("5000;5001", "http://127.0.0.1:5000/health/ready")]
    [InlineData(" 9000 , 9001", "http://127.0.0.1:9000/health/ready")]
    [InlineData("nonsense", "http://127.0.0.1:8080/health/ready")]
    public void Default_url_uses_the_first_ASPNETCORE_HTTP_PORTS_port(string? ports, string expected) =>
        Assert.Equal(expected, Probe.DefaultUrl(ports).ToString());

    /// <summary>The real entry point, as the HEALTHCHECK runs it: a separate process, no host started, exit code 0 / 1.</summary>
    [Fact]
    public async Task Published_entry_point_exits_0_when_ready_and_1_when_nothing_answers()
    {
        var dll = typeof(Program).Assembly.Location;
        Assert.True(File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")), "no runtimeconfig beside " + dll);
        var (code, output) = await RunProbe(dll, new Uri(app.BaseAddress, "/health/ready").ToString());
        Assert.True(code == 0, output);
        Assert.Contains("-> 200 OK", output);
        (code, output) = await RunProbe(dll, $"http://127.0.0.1:{ClosedPort()}/health/ready");
        Assert.True(code == 1, output);
    }

    private static async Task<(int Code, string Output)> RunProbe(string dll, string url)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet") ? Environment.ProcessPath : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var a in (string[])[dll, Probe.Switch, url]) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
