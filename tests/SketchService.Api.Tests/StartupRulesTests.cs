using System.Net;

namespace SketchService.Api.Tests;

/// <summary>A service built from these settings, for a test that says what they do.</summary>
public sealed class SettingsFactory(params (string Key, string Value)[] settings) : ApiFactory
{
    protected override IEnumerable<(string Key, string Value)> Settings => settings;
}

/// <summary>Settings a service cannot serve by: refused at start, naming the setting, not found out by a caller.</summary>
[Collection("Api")]
public sealed class StartupRulesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> StartFails(params (string, string)[] settings)
    {
        await using var app = new SettingsFactory(settings);
        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await app.InitializeAsync());
        return e.ToString();
    }

    [Fact]
    public async Task A_default_its_own_limit_refuses_stops_the_start()
    {
        // Once: DefaultTemperature 3 with MaxTemperature 2 refused every request that left temperature out, blaming the client.
        Assert.Contains("DefaultTemperature (3) must be at most MaxTemperature (2)", await StartFails(("DefaultTemperature", "3"), ("MaxTemperature", "2")));
        Assert.Contains("DefaultSteps (500) must be at most MaxSteps (100)", await StartFails(("DefaultSteps", "500"), ("MaxSteps", "100")));
        Assert.Contains("CallerRequestsPerSecond", await StartFails(("CallerRequestsPerSecond", "1e-9")));
    }

    [Fact]
    public async Task A_malformed_key_hash_stops_the_start_naming_where_it_is_not_what_it_is()
    {
        var secret = "not-a-hash-" + new string('x', 20);
        var failure = await StartFails(("ApiKeyHashes", KeyedFactory.Hash("a") + "," + secret));
        Assert.Contains("API key hash 2 of SketchService:ApiKeyHashes is not a SHA-256 in hex", failure);
        Assert.DoesNotContain(secret, failure);
    }

    [Fact]
    public async Task A_default_model_that_did_not_load_is_the_services_503_not_the_callers_404()
    {
        await using var app = new SettingsFactory(("DefaultModel", "broken"));
        await app.InitializeAsync();
        using var client = app.Client();
        var (response, problem) = await client.PostJson("/generate", new { max_steps = 2 });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("the default model 'broken' is not loaded (its folder failed to load", (string)problem!["detail"]!);
        var (named, _) = await client.PostJson("/generate", new { model = "tiny", max_steps = 2 });
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        var (unknown, _) = await client.PostJson("/generate", new { model = "nope", max_steps = 2 });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
