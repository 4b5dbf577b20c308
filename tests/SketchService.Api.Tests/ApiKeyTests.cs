using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace SketchService.Api.Tests;

/// <summary>The app with two API keys configured: one by its hash in the settings, one in a mounted file.</summary>
public sealed class KeyedFactory : ApiFactory
{
    public const string Key = "sketch-key-1", FileKey = "sketch-key-2";
    private readonly TempFolder secrets = new();

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    protected override IEnumerable<(string Key, string Value)> Settings
    {
        get
        {
            var file = Path.Combine(secrets.Path, "api-keys");
            File.WriteAllText(file, Hash(FileKey) + "\n");
            return [("ApiKeyHashes", Hash(Key)), ("ApiKeyHashesFile", file)];
        }
    }
}

[Collection("Api")]
public sealed class ApiKeyTests(KeyedFactory app) : IClassFixture<KeyedFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpResponseMessage> Send(string path, Action<HttpRequestMessage>? key = null, string? body = null)
    {
        using var client = app.Client();
        var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        key?.Invoke(request);
        return await client.SendAsync(request, Ct);
    }

    private const string Generate = """{"model":"tiny","max_steps":3}""";

    [Fact]
    public async Task Without_a_known_key_the_api_answers_401_with_a_problem_that_says_how()
    {
        using var none = await Send("/generate", body: Generate);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Contains("X-Api-Key", await none.Content.ReadAsStringAsync(Ct));
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        using var wrong = await Send("/generate", r => r.Headers.Add("X-Api-Key", "not-a-key"), Generate);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var models = await Send("/models");
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        using var metrics = await Send("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode); // private
    }

    [Fact]
    public async Task A_known_key_works_as_a_bearer_token_or_a_header_and_probes_need_none()
    {
        using var bearer = await Send("/generate", r => r.Headers.Authorization = new("Bearer", KeyedFactory.Key), Generate);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        using var header = await Send("/generate", r => r.Headers.Add("X-Api-Key", KeyedFactory.FileKey), Generate);
        Assert.Equal(HttpStatusCode.OK, header.StatusCode);
        using var metrics = await Send("/metrics", r => r.Headers.Add("X-Api-Key", KeyedFactory.Key));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        using var ready = await Send("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var live = await Send("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var page = await Send("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode); // the playground itself, which asks for the key
    }
}

[Collection("Api")]
[Trait("Category", "Browser")]
public sealed class ApiKeyPlaygroundTests(KeyedFactory app) : IClassFixture<KeyedFactory>
{
    [Fact]
    public async Task The_playground_asks_for_the_key_and_uses_it()
    {
        await using var browser = await TestBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(app.BaseAddress.ToString());
        await page.Locator("#key-box").WaitForAsync();
        Assert.Contains("API key", await page.Locator("#error").InnerTextAsync());
        // Once: a wrong key got the same words as none, so nobody could tell it was refused.
        await page.FillAsync("#api-key", "not-the-key");
        await page.Locator("#api-key").DispatchEventAsync("change");
        await page.Locator("#error:has-text('refused the API key')").WaitForAsync();
        await page.FillAsync("#api-key", KeyedFactory.Key);
        await page.Locator("#api-key").DispatchEventAsync("change");
        await page.Locator("#model option[value=tiny]").WaitForAsync(new() { State = Microsoft.Playwright.WaitForSelectorState.Attached });
        Assert.True(await page.Locator("#error").IsHiddenAsync());
        // Once: after a reload the stored key was used and its box stayed hidden, so it could not be changed.
        await page.ReloadAsync();
        await page.Locator("#model option[value=tiny]").WaitForAsync(new() { State = Microsoft.Playwright.WaitForSelectorState.Attached });
        Assert.True(await page.Locator("#key-box").IsVisibleAsync());
    }
}
