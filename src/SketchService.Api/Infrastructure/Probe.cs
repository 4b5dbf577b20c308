namespace SketchService.Api.Infrastructure;

/// <summary>
/// Probe mode, <c>dotnet SketchService.Api.dll --probe [url | /path]</c>: one GET, exit code 0 for a 2xx answer and 1
/// otherwise (an error status, no answer within 5 s, or bad arguments), without starting the host. It is the container's
/// HEALTHCHECK: the chiseled ASP.NET image has neither a shell nor curl. Default URL:
/// <c>http://127.0.0.1:{port}/health/ready</c>, the port being the first of <c>ASPNETCORE_HTTP_PORTS</c> (else 8080);
/// a <c>/path</c> argument replaces only the path.
/// </summary>
public static class Probe
{
    public const string Switch = "--probe";
    public const int DefaultPort = 8080;
    public const string DefaultPath = "/health/ready";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool IsRequested(string[] args) => args.Length > 0 && args[0] == Switch;

    /// <summary>http://127.0.0.1:{first port of <paramref name="httpPorts"/> (ASPNETCORE_HTTP_PORTS, "8080;8081"), else 8080}{path}.</summary>
    public static Uri DefaultUrl(string? httpPorts, string path = DefaultPath)
    {
        var first = (httpPorts ?? "").Split([';', ','], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        var port = int.TryParse(first, out var p) && p is > 0 and < 65536 ? p : DefaultPort;
        return new Uri($"http://127.0.0.1:{port}{path}");
    }

    /// <summary>Runs the probe for the arguments after <see cref="Switch"/>; writes one line saying what it got.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        Uri url;
        switch (args)
        {
            case []:
                url = DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
                break;
            case [var path] when path.StartsWith('/'):
                url = DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"), path);
                break;
            case [var given] when Uri.TryCreate(given, UriKind.Absolute, out var u) && u.Scheme is "http" or "https":
                url = u;
                break;
            default:
                output.WriteLine($"usage: dotnet SketchService.Api.dll {Switch} [http://host:port/path | /path]   (default {DefaultUrl(null)})");
                return 1;
        }
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Timeout };
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            output.WriteLine($"{url} -> {(int)response.StatusCode} {response.ReasonPhrase}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            output.WriteLine($"{url} -> {(e is TaskCanceledException ? $"no answer within {Timeout.TotalSeconds:0.#} s" : e.Message)}");
            return 1;
        }
    }
}
