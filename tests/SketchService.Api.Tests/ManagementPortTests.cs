using System.Net;
using System.Net.Sockets;

namespace SketchService.Api.Tests;

/// <summary>A management port (ManagementUrls) on a free local port.</summary>
public sealed class ManagementPortFactory : ApiFactory
{
    public int ManagementPort { get; } = FreePort();

    protected override IEnumerable<(string Key, string Value)> Settings => [("ManagementUrls", $"http://127.0.0.1:{ManagementPort}")];

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>With a management port, /metrics is served there only: the API's port answers 404, whatever the Host header says.</summary>
[Collection("Api")]
public sealed class ManagementPortTests(ManagementPortFactory app) : IClassFixture<ManagementPortFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_move_to_the_management_port_and_the_api_stays_on_its_own()
    {
        using var api = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/models", Ct)).StatusCode);
        Assert.NotEqual(app.ManagementPort, app.BaseAddress.Port);

        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.ManagementPort}") };
        var scrape = await management.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("http_server_request_duration_seconds", await scrape.Content.ReadAsStringAsync(Ct));
        // Only /metrics answers there: not a second way into the API.
        Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync("/models", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await management.GetAsync("/", Ct)).StatusCode);

        using var onApi = await api.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.NotFound, onApi.StatusCode);
        // The Host header names the management port, but the connection is to the API's: still 404.
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Host = $"127.0.0.1:{app.ManagementPort}" } };
        Assert.Equal(HttpStatusCode.NotFound, (await api.SendAsync(spoofed, Ct)).StatusCode);
    }
}
