using System.Net;
using System.Text.Json.Nodes;
using SketchService.Inference.Strokes;

namespace SketchService.Tests.Api;

[Collection("Api")]
public sealed class EndpointTests(ApiFactory app)
{
    private static readonly float[][] Square = [[0, 0, 0], [40, 0, 0], [0, 40, 0], [-40, 0, 0], [0, -40, 1]];
    private static readonly float[][] Vee = [[0, 0, 0], [30, 40, 0], [30, -40, 1]];

    [Fact]
    public async Task Health_live_and_ready()
    {
        using var client = app.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode);
        var ready = await client.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("Healthy", (string?)body["status"]);
    }

    [Fact]
    public async Task Models_lists_loaded_ones_and_reports_the_broken_folder()
    {
        using var client = app.Client();
        var body = JsonNode.Parse(await client.GetStringAsync("/models", TestContext.Current.CancellationToken))!;
        var ids = body["models"]!.AsArray().Select(m => (string)m!["id"]!).ToList();
        Assert.Contains("tiny", ids);
        Assert.Equal(app.HasBird, ids.Contains("bird")); // served when the shared data has it
        Assert.DoesNotContain("broken", ids);
        Assert.NotNull(body["failed"]!["broken"]);
        Assert.True((bool)body["models"]!.AsArray().Single(m => (string)m!["id"]! == "tiny")!["is_default"]!);
    }

    [Fact]
    public async Task Model_details_give_manifest_and_graphs()
    {
        using var client = app.Client();
        var tiny = JsonNode.Parse(await client.GetStringAsync("/models/tiny", TestContext.Current.CancellationToken))!;
        Assert.Equal("vae", (string?)tiny["manifest"]!["kind"]);
        Assert.Equal(4, (int)tiny["manifest"]!["latent_size"]!);
        Assert.Equal(10.0, (double)tiny["manifest"]!["scale_factor"]!);
        var graphs = tiny["graphs"]!.AsArray();
        Assert.Equal(3, graphs.Count);
        var step = graphs.Single(g => (string)g!["file"]! == "decoder_step.onnx")!;
        Assert.Contains(step["inputs"]!.AsArray(), i => (string)i!["name"]! == "z");
        Assert.Contains(step["outputs"]!.AsArray(), i => (string)i!["name"]! == "params");

        var bird = JsonNode.Parse(await client.GetStringAsync($"/models/{app.Bird()}", TestContext.Current.CancellationToken))!;
        Assert.Equal("decoder-only", (string?)bird["manifest"]!["kind"]);
        Assert.Equal("magenta:bird", (string?)bird["manifest"]!["source"]);
        Assert.Single(bird["graphs"]!.AsArray());
    }

    [Fact]
    public async Task Encode_gives_mu_sigma_and_a_reproducible_sample()
    {
        using var client = app.Client();
        var (r1, a) = await client.PostJson("/encode", new { model = "tiny", sketch = new { strokes = Square }, seed = 3 });
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);
        var (_, b) = await client.PostJson("/encode", new { model = "tiny", sketch = new { strokes = Square }, seed = 3 });
        Assert.Equal(4, a!["mu"].Floats().Length);
        Assert.All(a["sigma"].Floats(), s => Assert.True(s > 0));
        Assert.Equal(a["z"].Floats(), b!["z"].Floats());
        Assert.NotEqual(a["mu"].Floats(), a["z"].Floats());
    }

    [Fact]
    public async Task Polylines_are_resized_to_the_drawing_extent_so_scale_does_not_matter()
    {
        using var client = app.Client();
        float[][][] small = [[[0, 10, 10], [0, 0, 10]], [[2, 8], [5, 5]]];
        var big = small.Select(s => s.Select(xs => xs.Select(v => v * 7 + 100).ToArray()).ToArray()).ToArray();
        var (_, a) = await client.PostJson("/encode", new { sketch = new { polylines = small } });
        var (_, b) = await client.PostJson("/encode", new { sketch = new { polylines = big } });
        var (ma, mb) = (a!["mu"].Floats(), b!["mu"].Floats());
        for (var i = 0; i < ma.Length; i++) Assert.Equal(ma[i], mb[i], 4);
        // Equal to stroke-3 of the same drawing resized to drawing_extent (100) in training pixels.
        float[][] strokes = [[0, 0, 0], [100, 0, 0], [0, 100, 1], [-80, -50, 0], [60, 0, 1]];
        var (_, c) = await client.PostJson("/encode", new { sketch = new { strokes } });
        var mc = c!["mu"].Floats();
        for (var i = 0; i < ma.Length; i++) Assert.Equal(ma[i], mc[i], 4);
    }

    [Fact]
    public async Task Greedy_decoding_draws_the_mixture_means_in_pixels()
    {
        using var client = app.Client();
        var (r, body) = await client.PostJson("/decode", new { model = "tiny", z = new[] { 0.1f, -0.2f, 0.3f, 0f }, temperature = 0, max_steps = 12 });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var sketch = body!["sketches"]![0]!;
        var rows = sketch["strokes"].Rows();
        Assert.Equal(12, rows.Length);
        Assert.False((bool)sketch["ended_by_itself"]!);
        Assert.All(rows, p =>
        {
            Assert.Equal(ApiFactory.TinyMean.X * ApiFactory.TinyScale, p[0], 4);
            Assert.Equal(ApiFactory.TinyMean.Y * ApiFactory.TinyScale, p[1], 4);
            Assert.Equal(0, p[2]);
        });
        var line = sketch["polylines"]![0]!;
        Assert.Equal(12 * 5f, line[0]!.Floats()[^1], 3);
    }

    [Fact]
    public async Task Same_seed_same_sketch_and_another_seed_another()
    {
        using var client = app.Client();
        async Task<string> Draw(int seed) => (await client.PostJson("/generate", new { model = app.Bird(), temperature = 1.0, seed, max_steps = 40 })).Body!["sketches"]!.ToJsonString();
        var a = await Draw(11);
        Assert.Equal(a, await Draw(11));
        Assert.NotEqual(a, await Draw(12));
    }

    [Fact]
    public async Task Arithmetic_a_plus_b_minus_b_is_a()
    {
        using var client = app.Client();
        var (r, body) = await client.PostJson("/arithmetic", new
        {
            model = "tiny", expression = "a + b - b",
            operands = new Dictionary<string, object> { ["a"] = new { strokes = Square }, ["b"] = new { strokes = Vee } },
            temperature = 0, max_steps = 5,
        });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var (_, enc) = await client.PostJson("/encode", new { model = "tiny", sketch = new { strokes = Square } });
        var (z, mu) = (body!["z"].Floats(), enc!["mu"].Floats());
        for (var i = 0; i < mu.Length; i++) Assert.Equal(mu[i], z[i], 5);
        Assert.Equal(5, body["sketch"]!["strokes"].Rows().Length);
    }

    [Fact]
    public async Task Interpolation_ends_are_the_encodings()
    {
        using var client = app.Client();
        foreach (var method in new[] { "slerp", "lerp" })
        {
            var (r, body) = await client.PostJson("/interpolate", new { model = "tiny", from = new { strokes = Square }, to = new { strokes = Vee }, n = 4, method, temperature = 0, max_steps = 3 });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var frames = body!["frames"]!.AsArray();
            Assert.Equal(4, frames.Count);
            var (_, a) = await client.PostJson("/encode", new { model = "tiny", sketch = new { strokes = Square } });
            var (_, b) = await client.PostJson("/encode", new { model = "tiny", sketch = new { strokes = Vee } });
            Assert.Equal(a!["mu"].Floats(), frames[0]!["z"].Floats());
            Assert.Equal(b!["mu"].Floats(), frames[3]!["z"].Floats());
            Assert.Equal(1.0, (double)frames[3]!["t"]!);
        }
    }

    [Fact]
    public async Task Complete_json_keeps_the_prefix_and_continues_it()
    {
        using var client = app.Client();
        foreach (var condition in new[] { "encoding", "z" })
        {
            var (r, body) = await client.PostJson("/complete", new { model = "tiny", sketch = new { strokes = Vee }, condition, z = condition == "z" ? new[] { 1f, 0, 0, 0 } : null, temperature = 0, max_steps = 6, samples = 3 });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(condition, (string?)body!["condition"]);
            Assert.Equal(3, (int)body["prefix_points"]!);
            var sketches = body["sketches"]!.AsArray();
            Assert.Equal(3, sketches.Count);
            foreach (var s in sketches)
            {
                var rows = s!["strokes"].Rows();
                Assert.Equal(9, rows.Length);
                for (var i = 0; i < 3; i++) Assert.Equal(Vee[i], rows[i]);
                Assert.Equal(5f, rows[5][0], 4);
            }
            Assert.Equal(6, (int)body["stats"]!["steps"]!);
        }
    }

    [Fact]
    public async Task Complete_on_a_decoder_only_model_needs_no_condition()
    {
        using var client = app.Client();
        var (r, body) = await client.PostJson("/complete", new { model = app.Bird(), sketch = new { polylines = new[] { new[] { new float[] { 10, 60, 110 }, new float[] { 50, 20, 50 } } } }, temperature = 0.3, seed = 1, max_steps = 50 });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("none", (string?)body!["condition"]);
        var poly = body["sketches"]![0]!["polylines"]!.AsArray();
        // The given points come back in the caller's coordinates.
        Assert.Equal([10f, 60f, 110f], poly[0]![0].Floats().Take(3).Select(v => MathF.Round(v, 2)));
    }

    [Fact]
    public async Task Generate_from_the_prior_and_unconditionally()
    {
        using var client = app.Client();
        var (r1, vae) = await client.PostJson("/generate", new { model = "tiny", samples = 2, seed = 4, max_steps = 5 });
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);
        Assert.Equal(2, vae!["z"]!.AsArray().Count);
        Assert.Equal(4, vae["z"]![0].Floats().Length);
        var (r2, bird) = await client.PostJson("/generate", new { model = app.Bird(), samples = 2, seed = 4, max_steps = 30 });
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
        Assert.Null(bird!["z"]![0]);
        Assert.Equal(2, bird["sketches"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("svg", "image/svg+xml")]
    [InlineData("png", "image/png")]
    public async Task Sketches_as_svg_or_png(string format, string contentType)
    {
        using var client = app.Client();
        var (r, _) = await client.PostJson($"/generate?format={format}", new { model = app.Bird(), samples = 3, seed = 2, max_steps = 60 });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(contentType, r.Content.Headers.ContentType!.MediaType);
        var bytes = await r.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        if (format == "png") Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        else Assert.StartsWith("<svg", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public async Task Default_sheep_model_completes_a_sheep_when_committed()
    {
        Assert.SkipUnless(app.HasSheep, "models/sheep is not committed yet");
        using var client = app.Client();
        var sheep = QuickDraw.ReadFile(SharedData.Fixture("quickdraw", "simplified", "sheep.ndjson")).First();
        var polylines = sheep.Drawing.Take(2).Select(l => new[] { l.X, l.Y }).ToArray();
        var (r, body) = await client.PostJson("/complete", new { model = "sheep", sketch = new { polylines }, temperature = 0.3, seed = 1 });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("encoding", (string?)body!["condition"]);
        var (r2, enc) = await client.PostJson("/encode", new { model = "sheep", sketch = new { polylines } });
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
        Assert.All(enc!["mu"].Floats(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public async Task Polylines_in_a_stated_frame_continue_exactly_like_the_same_points_as_stroke3()
    {
        var bird = app.Bird();
        using var client = app.Client();
        var extent = (double)JsonNode.Parse(await client.GetStringAsync($"/models/{bird}", TestContext.Current.CancellationToken))!["manifest"]!["drawing_extent"]!;
        // Two strokes as stroke-3 offsets in the model's training pixels, and the same points as absolute polylines.
        float[][] strokes = [[0, 0, 0], [30, -20, 0], [25, 10, 1], [-40, 30, 0], [20, 5, 1]];
        float[][][] polylines = [[[100, 130, 155], [100, 80, 90]], [[115, 135], [120, 125]]];
        async Task<float[][]> Continuation(object sketch)
        {
            var (r, body) = await client.PostJson("/complete", new { model = bird, sketch, temperature = 0, seed = 1, max_steps = 40 });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return body!["sketches"]![0]!["strokes"].Rows()[strokes.Length..];
        }

        var fromStrokes = await Continuation(new { strokes });
        var inFrame = await Continuation(new { polylines, frame = extent }); // the frame maps 1:1 onto training pixels
        Assert.True(fromStrokes.Length > 5);
        Assert.Equal(fromStrokes.Length, inFrame.Length);
        for (int i = 0; i < fromStrokes.Length; i++)
        {
            Assert.Equal(fromStrokes[i][0], inFrame[i][0], 3);
            Assert.Equal(fromStrokes[i][1], inFrame[i][1], 3);
            // Polylines come back as polylines: their last point always closes a stroke.
            if (i < fromStrokes.Length - 1) Assert.Equal(fromStrokes[i][2], inFrame[i][2]);
        }

        // Without a frame, a partial drawing is taken to be in Quick Draw's 0–255 frame, not blown up to its own box.
        var quickDraw = await Continuation(new { polylines });
        var stated = await Continuation(new { polylines, frame = 256 });
        Assert.Equal(stated.SelectMany(r => r), quickDraw.SelectMany(r => r));
    }
}
