using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace SketchService.Api.Tests;

/// <summary>
/// Pages on another origin — a second Kestrel on another port, serving clients/js — that import the JavaScript client
/// from the service (/client/sketchservice.js, under its CORS policy) and use it in Chromium: a streamed completion,
/// a refusal read as ProblemDetails, and the p5.js example drawing a sheep through the ml5 stand-in.
/// </summary>
[Collection("Api")]
public sealed class OtherOriginTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string ClientFolder = Path.Combine(ApiFactory.RepoRoot, "clients", "js");

    private const string StreamPage = """
        <!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><body><script type="module">
        const service = new URLSearchParams(location.search).get("service");
        const { SketchService } = await import(`${service}/client/sketchservice.js`);
        const svc = new SketchService(service);
        const stream = svc.complete("tiny", [[0, 0, 0], [5, 5, 1]], { temperature: 0, maxSteps: 20, seed: 1 });
        let points = 0;
        for await (const p of stream) points++;
        const refused = await svc.decode("tiny", [1, 2]).catch((e) => e);
        Object.assign(document.body.dataset, { points, seed: stream.result.seed, refused: refused.status, field: Object.keys(refused.errors).join() });
        </script></body>
        """;

    /// <summary>A second origin: clients/js as static files, and the streaming page.</summary>
    private static async Task<WebApplication> OtherOrigin()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var site = builder.Build();
        site.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(ClientFolder) });
        site.MapGet("/stream.html", () => Results.Content(StreamPage, "text/html"));
        await site.StartAsync(Ct);
        return site;
    }

    private string Service => app.BaseAddress.ToString().TrimEnd('/');

    [Fact, Trait("Category", "Browser")]
    public async Task A_page_on_another_origin_streams_a_completion_and_reads_a_refusal()
    {
        await using var site = await OtherOrigin();
        await using var browser = await TestBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        var errors = browser.Errors;
        var origin = site.Urls.First();
        Assert.NotEqual(new Uri(origin).Port, app.BaseAddress.Port);

        await page.GotoAsync($"{origin}/stream.html?service={Uri.EscapeDataString(Service)}");
        await page.Locator("body[data-points]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
        Assert.Equal("20", await page.Locator("body").GetAttributeAsync("data-points")); // tiny never ends at τ 0
        Assert.Equal("1", await page.Locator("body").GetAttributeAsync("data-seed"));
        Assert.Equal("400", await page.Locator("body").GetAttributeAsync("data-refused"));
        Assert.Equal("z", await page.Locator("body").GetAttributeAsync("data-field"));
        Assert.Equal(["Failed to load resource: the server responded with a status of 400 (Bad Request)"], errors); // the refusal, as Chromium logs it
    }

    [Fact, Trait("Category", "Browser")]
    public async Task The_p5_example_draws_a_sheep_through_the_ml5_stand_in()
    {
        Assert.SkipUnless(app.HasSheep, "models/sheep is not in this checkout");
        Assert.SkipUnless(File.Exists(Path.Combine(ClientFolder, "node_modules", "p5", "lib", "p5.min.js")),
            "p5.js is not installed: (cd clients/js && npm ci), as scripts/test.sh does");
        await using var site = await OtherOrigin();
        await using var browser = await TestBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        var errors = browser.Errors;

        await page.GotoAsync($"{site.Urls.First()}/examples/p5-sheep.html?service={Uri.EscapeDataString(Service)}");
        await page.Locator("body[data-done]").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 60_000 });
        var strokes = int.Parse((await page.Locator("body").GetAttributeAsync("data-strokes"))!);
        Assert.True(strokes > 10, $"{strokes} strokes");
        // The canvas has the drawing on it: a good share of dark pixels, spread over more than a small patch.
        var ink = await page.EvaluateAsync<double[]>("""
            () => {
              const c = document.querySelector("canvas"), g = c.getContext("2d"), d = g.getImageData(0, 0, c.width, c.height).data;
              let dark = 0, minX = 1e9, maxX = -1, minY = 1e9, maxY = -1;
              for (let i = 0; i < d.length; i += 4) if (d[i] < 128) {
                dark++;
                const x = (i / 4) % c.width, y = Math.floor(i / 4 / c.width);
                minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
              }
              return [dark, maxX - minX, maxY - minY];
            }
            """);
        Assert.True(ink[0] > 500, $"{ink[0]} dark pixels");
        Assert.True(ink[1] > 40 && ink[2] > 40, $"the drawing spans {ink[1]} × {ink[2]} px");
        Assert.Null(await page.Locator("body").GetAttributeAsync("data-error"));
        Assert.Empty(errors);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Path.GetTempPath(), "p5-sheep.png") });
    }

    [Fact]
    public async Task The_client_script_is_served_to_other_origins_without_a_key()
    {
        using var client = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/client/sketchservice.js") { Headers = { { "Origin", "https://editor.p5js.org" } } };
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("export class SketchService", await response.Content.ReadAsStringAsync(Ct));
    }
}
