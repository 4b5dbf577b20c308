using System.Net;
using System.Text;

namespace SketchService.Api.Tests;

/// <summary>Eight rows, a quarter for each caller, callers told apart by X-Forwarded-For from the loopback proxy, and a rate of 5 a second.</summary>
public sealed class FairShareFactory : ApiFactory
{
    protected override IEnumerable<(string Key, string Value)> Settings =>
    [
        ("MaxLiveRows", "8"), ("MaxQueuedRequests", "8"), ("CallerShare", "0.25"), ("ForwardedProxies", "127.0.0.1"),
        ("CallerRequestsPerSecond", "5"), ("CallerBurst", "10"),
    ];
}

/// <summary>One caller cannot take every row: past its share it gets 429, while another caller is served.</summary>
[Collection("Api")]
public sealed class FairShareTests(FairShareFactory app) : IClassFixture<FairShareFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage Endless(string caller, int samples) => new(HttpMethod.Post, "/complete")
    {
        Content = new StringContent($$"""{"model":"slow","sketch":{"strokes":[[1,0,1]]},"condition":"none","samples":{{samples}},"temperature":0,"max_steps":100000}""", Encoding.UTF8, "application/json"),
        Headers = { { "X-Forwarded-For", caller }, { "Accept", "text/event-stream" } },
    };

    [Fact]
    public async Task A_caller_past_its_share_of_rows_gets_429_while_another_is_served()
    {
        using var client = app.Client();
        using var stop = new CancellationTokenSource();
        // 203.0.113.1 takes its share: 2 of the 8 rows (a quarter).
        using var first = await client.SendAsync(Endless("203.0.113.1", 2), HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var more = await client.SendAsync(Endless("203.0.113.1", 1), HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, more.StatusCode);
        Assert.NotNull(more.Headers.RetryAfter);
        Assert.Contains("this caller already has", await more.Content.ReadAsStringAsync(Ct));
        // Another caller still gets rows.
        using var other = await client.SendAsync(Endless("203.0.113.2", 2), HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        stop.Cancel();

        var metrics = await client.GetStringAsync("/metrics", Ct);
        Assert.Contains("reason=\"caller_share\"", metrics);
        Assert.DoesNotContain("203.0.113", metrics); // never a raw address in a label
    }

    [Fact]
    public async Task A_request_for_more_rows_than_one_caller_may_hold_is_a_400_not_a_429_forever()
    {
        using var client = app.Client();
        // A quarter of 8 rows: 2. Three samples, or three frames, could never fit this caller's share.
        using var samples = await client.SendAsync(Endless("203.0.113.7", 3), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, samples.StatusCode);
        Assert.Contains("must be between 1 and 2 (the rows one caller may hold: CallerShare of MaxLiveRows); got 3", await samples.Content.ReadAsStringAsync(Ct));
        using var frames = await client.PostAsync("/interpolate",
            new StringContent("""{"model":"tiny","from":{"z":[0,0,0,0]},"to":{"z":[1,1,1,1]},"n":3}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, frames.StatusCode);
        Assert.Contains("\"n\"", await frames.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_caller_past_its_rate_gets_429_with_retry_after()
    {
        using var client = app.Client();
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 14; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { { "X-Forwarded-For", "198.51.100.9" } } };
            using var response = await client.SendAsync(request, Ct);
            codes.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
        Assert.Equal(10, codes.Count(c => c == HttpStatusCode.OK)); // the burst
        Assert.Contains(HttpStatusCode.TooManyRequests, codes);
        using var another = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { { "X-Forwarded-For", "198.51.100.10" } } };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(another, Ct)).StatusCode);
    }
}

[Collection("Api")]
public sealed class SlowRateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rate_below_one_a_second_is_kept_not_rounded_up()
    {
        // Once: 0.2 a second was rounded to 1, so a caller got five times the rate it was given.
        await using var app = new SettingsFactory(("CallerRequestsPerSecond", "0.2"), ("CallerBurst", "1"));
        await app.InitializeAsync();
        using var client = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models", Ct)).StatusCode);
        using var second = await client.GetAsync("/models", Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("1 request(s) every 5 s", await second.Content.ReadAsStringAsync(Ct));
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 2, 5);
    }
}
