using System.Net;
using System.Text;

namespace SketchService.Api.Tests;

/// <summary>The app allowing one origin only, for the CORS tests that need a refusal.</summary>
public sealed class OneOriginFactory : ApiFactory
{
    public const string Origin = "https://sketches.example";
    protected override IEnumerable<(string Key, string Value)> Settings => [("AllowedOrigins", $"{Origin}, https://other.example")];
}

/// <summary>A page on another origin calls the API through real preflights (ASP.NET Core's CORS middleware).</summary>
[Collection("Api")]
public sealed class CorsTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static HttpRequestMessage Preflight(string path, string origin) => new(HttpMethod.Options, path)
    {
        Headers =
        {
            { "Origin", origin },
            { "Access-Control-Request-Method", "POST" },
            { "Access-Control-Request-Headers", "content-type,x-api-key" },
        },
    };

    [Fact]
    public async Task A_preflight_from_any_origin_is_allowed_and_cached()
    {
        using var client = app.Client();
        using var response = await client.SendAsync(Preflight("/complete", "https://editor.p5js.org"), Ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("x-api-key", response.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("3600", response.Headers.GetValues("Access-Control-Max-Age").Single());
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task The_answer_to_a_cross_origin_post_lets_the_page_read_it_and_its_retry_after()
    {
        using var client = app.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/generate")
        {
            Content = new StringContent("""{"model":"tiny","max_steps":3}""", Encoding.UTF8, "application/json"),
            Headers = { { "Origin", "https://editor.p5js.org" } },
        };
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Retry-After", response.Headers.GetValues("Access-Control-Expose-Headers").Single());
    }
}

[Collection("Api")]
public sealed class CorsOriginTests(OneOriginFactory app) : IClassFixture<OneOriginFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Only_the_configured_origins_are_allowed()
    {
        using var client = app.Client();
        using var allowed = await client.SendAsync(CorsTests.Preflight("/encode", OneOriginFactory.Origin), Ct);
        Assert.Equal(OneOriginFactory.Origin, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        using var other = await client.SendAsync(CorsTests.Preflight("/encode", "https://elsewhere.example"), Ct);
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin")); // the browser blocks the call
    }
}
