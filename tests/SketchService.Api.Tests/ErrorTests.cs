using System.Net;
using System.Text;

namespace SketchService.Api.Tests;

/// <summary>Every error path answers with ProblemDetails and the right 4xx; never a 500.</summary>
[Collection("Api")]
public sealed class ErrorTests(ApiFactory app)
{
    private const string Sq = """{"strokes":[[0,0,0],[40,0,0],[0,40,1]]}""";

    public static TheoryData<string, string, string, int, string> Cases => new()
    {
        // name, path, body, status, text the problem must contain
        { "malformed json", "/encode", """{"sketch": """, 400, "" },
        { "wrong json type", "/encode", """{"sketch":{"strokes":"abc"}}""", 400, "strokes" },
        { "number too large for float", "/decode", """{"z":[1e39,0,0,0]}""", 400, "" },
        { "unknown model", "/encode", $$"""{"model":"nope","sketch":{{Sq}} }""", 404, "nope" },
        { "missing sketch", "/encode", """{"model":"tiny"}""", 400, "sketch" },
        { "both sketch forms", "/encode", """{"sketch":{"strokes":[[1,1,1]],"polylines":[[[1],[1]]]}}""", 400, "exactly one" },
        { "empty strokes", "/encode", """{"sketch":{"strokes":[]}}""", 400, "sketch.strokes" },
        { "row of two", "/encode", """{"sketch":{"strokes":[[1,2]]}}""", 400, "sketch.strokes[0]" },
        { "pen value 2", "/encode", """{"sketch":{"strokes":[[1,2,2]]}}""", 400, "pen_lifted" },
        { "too many points", "/encode", "{\"sketch\":{\"strokes\":[" + string.Join(",", Enumerable.Repeat("[1,1,0]", 2001)) + "]}}", 400, "limit is 2000" },
        { "polyline x/y mismatch", "/encode", """{"sketch":{"polylines":[[[1,2],[1]]]}}""", 400, "sketch.polylines[0]" },
        { "empty polyline", "/encode", """{"sketch":{"polylines":[[[],[]]]}}""", 400, "sketch.polylines[0]" },
        { "decoder-only encode", "/encode", $$"""{"model":"slow","sketch":{{Sq}} }""", 422, "decoder-only" },
        { "steps zero", "/complete", $$"""{"sketch":{{Sq}},"max_steps":0}""", 400, "max_steps" },
        { "steps over cap", "/complete", $$"""{"sketch":{{Sq}},"max_steps":100001}""", 400, "max_steps" },
        { "too many samples", "/complete", $$"""{"sketch":{{Sq}},"samples":17}""", 400, "samples" },
        { "negative temperature", "/complete", $$"""{"sketch":{{Sq}},"temperature":-0.1}""", 400, "temperature" },
        { "hot temperature", "/generate", """{"temperature":50}""", 400, "temperature" },
        { "unknown condition", "/complete", $$"""{"sketch":{{Sq}},"condition":"maybe"}""", 400, "condition" },
        { "z of wrong size", "/complete", $$"""{"sketch":{{Sq}},"z":[1,2]}""", 400, "latent size" },
        { "decoder-only encoding", "/complete", $$"""{"model":"slow","sketch":{{Sq}},"condition":"encoding"}""", 422, "decoder-only" },
        { "decoder-only z", "/complete", $$"""{"model":"slow","sketch":{{Sq}},"z":[1]}""", 422, "decoder-only" },
        { "vae without condition", "/complete", $$"""{"model":"tiny","sketch":{{Sq}},"condition":"none"}""", 422, "VAE" },
        { "unknown format", "/generate?format=gif", """{}""", 400, "format" },
        { "decode needs z", "/decode", """{}""", 400, "z" },
        { "decoder-only decode", "/decode", """{"model":"slow","z":[0]}""", 422, "decoder-only" },
        { "interpolate n=1", "/interpolate", """{"from":{"z":[0,0,0,0]},"to":{"z":[1,1,1,1]},"n":1}""", 400, "n" },
        { "interpolate method", "/interpolate", """{"from":{"z":[0,0,0,0]},"to":{"z":[1,1,1,1]},"method":"cubic"}""", 400, "method" },
        { "interpolate missing end", "/interpolate", """{"from":{"z":[0,0,0,0]}}""", 400, "to" },
        { "interpolate both forms", "/interpolate", """{"from":{"z":[0,0,0,0],"strokes":[[1,1,1]]},"to":{"z":[1,1,1,1]}}""", 400, "from" },
        { "decoder-only interpolate", "/interpolate", $$"""{"model":"slow","from":{{Sq}},"to":{{Sq}} }""", 422, "decoder-only" },
        { "expression parse error", "/arithmetic", """{"expression":"a + * b","operands":{"a":{"z":[0,0,0,0]},"b":{"z":[0,0,0,0]}}}""", 400, "position" },
        { "expression too long", "/arithmetic", "{\"expression\":\"" + string.Join("+", Enumerable.Repeat("a", 300)) + "\",\"operands\":{\"a\":{\"z\":[0,0,0,0]}}}", 400, "limit is 500" },
        { "expression missing operand", "/arithmetic", """{"expression":"a + b","operands":{"a":{"z":[0,0,0,0]}}}""", 400, "'b'" },
        { "expression unused operand", "/arithmetic", """{"expression":"a","operands":{"a":{"z":[0,0,0,0]},"c":{"z":[0,0,0,0]}}}""", 400, "'c'" },
        { "expression empty", "/arithmetic", """{"expression":" "}""", 400, "expression" },
        { "decoder-only arithmetic", "/arithmetic", $$"""{"model":"slow","expression":"a","operands":{"a":{{Sq}} } }""", 422, "decoder-only" },
        { "unknown model details", "GET /models/nope", "", 404, "nope" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_requests_get_problem_details(string name, string path, string body, int status, string contains)
    {
        using var client = app.Client();
        HttpResponseMessage response;
        if (path.StartsWith("GET ", StringComparison.Ordinal))
            response = await client.GetAsync(path[4..], TestContext.Current.CancellationToken);
        else
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Accept.ParseAdd("application/json");
            response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        }
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(status == (int)response.StatusCode, $"{name}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(contains, text);
        Assert.Contains("\"status\":" + status, text);
    }

    [Fact]
    public async Task Expression_error_says_where_and_what_was_expected()
    {
        using var client = app.Client();
        var (r, body) = await client.PostJson("/arithmetic", """{"expression":"cat_head + (pig_body - ","operands":{}}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.NotNull(body!["position"]);
        Assert.Contains("expected", ((string?)body["detail"])!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Body_over_the_kestrel_limit_is_413()
    {
        using var client = app.Client();
        var big = "{\"sketch\":{\"strokes\":[" + string.Join(",", Enumerable.Repeat("[1,1,0]", 200_000)) + "]}}"; // ~1.6 MB > 1 MiB
        using var request = new HttpRequestMessage(HttpMethod.Post, "/encode") { Content = new StringContent(big, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true; // the 413 comes before the upload, not as a broken pipe in the middle of it
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
