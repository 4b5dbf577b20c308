using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace SketchService.Api.Tests;

/// <summary>Swagger: the document, and a real browser running "Try it out" → Execute on POST /complete.</summary>
[Collection("Api")]
public sealed class SwaggerUiTests(ApiFactory app)
{

    [Fact]
    public async Task Swagger_document_has_every_endpoint_with_an_example_body()
    {
        using var client = app.Client();
        var doc = JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json", TestContext.Current.CancellationToken))!;
        var paths = doc["paths"]!.AsObject();
        foreach (var p in new[] { "/encode", "/complete", "/decode", "/interpolate", "/arithmetic", "/generate" })
        {
            Assert.True(paths.ContainsKey(p), p);
            Assert.NotNull(paths[p]!["post"]!["requestBody"]!["content"]!["application/json"]!["example"]);
            // Every one of these can answer each status: a bad field, an unknown model, an unservable Accept or
            // ?format, a model that cannot do it (a decoder-only model, or a prior it lacks), a full model, a deadline.
            var responses = paths[p]!["post"]!["responses"]!.AsObject();
            foreach (var status in new[] { "200", "400", "404", "406", "422", "429", "503" })
                Assert.True(responses.ContainsKey(status), $"{p} does not document {status}");
        }
        Assert.True(paths.ContainsKey("/models/{id}"));
    }

    [Fact]
    [Trait("Category", "Browser")]
    public async Task Swagger_ui_try_it_out_on_complete_gets_200()
    {
        await using var browser = await TestBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(app.BaseAddress, "/swagger/index.html").ToString());
        var op = page.Locator("#operations-Sketches-Complete");
        await op.Locator(".opblock-summary").ClickAsync();
        await op.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await op.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();
        var status = op.Locator(".live-responses-table .response .response-col_status").First;
        await status.WaitForAsync(new() { Timeout = 30_000 });
        Assert.Equal("200", (await status.InnerTextAsync()).Trim());
        var body = await op.Locator(".live-responses-table .response .microlight").First.InnerTextAsync();
        Assert.Contains("sketches", body);
    }
}
