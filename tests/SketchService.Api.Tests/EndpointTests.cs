using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SketchService.Core.Model;
using SketchService.Data;

namespace SketchService.Api.Tests;

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
        var list = await client.GetOk<ModelList>("/models", app.Json);
        var ids = list.Models.Select(m => m.Id).ToList();
        Assert.Contains("tiny", ids);
        Assert.Equal(app.HasBird, ids.Contains("bird")); // served when the shared data has it
        Assert.DoesNotContain("broken", ids);
        Assert.NotNull(Assert.Contains("broken", list.Failed));
        Assert.True(list.Models.Single(m => m.Id == "tiny").IsDefault);
    }

    [Fact]
    public async Task Model_details_give_manifest_and_graphs()
    {
        using var client = app.Client();
        var tinyText = await client.GetStringAsync("/models/tiny", TestContext.Current.CancellationToken);
        var tiny = JsonSerializer.Deserialize<ModelDetails>(tinyText, app.Json)!;
        Assert.Equal(ModelKind.Vae, tiny.Manifest.Kind);
        Assert.Contains("\"kind\":\"vae\"", tinyText); // how the kind is spelled on the wire
        Assert.Equal(4, tiny.Manifest.LatentSize);
        Assert.Equal(10.0, tiny.Manifest.ScaleFactor);
        Assert.Equal(3, tiny.Graphs.Count);
        var step = tiny.Graphs.Single(g => g.File == "decoder_step.onnx");
        Assert.Contains(step.Inputs, i => i.Name == "z_gates" && i.Dims[1] == (4 * tiny.Manifest.DecoderSize).ToString());
        Assert.Contains(step.Outputs, i => i.Name == "params");

        var birdText = await client.GetStringAsync($"/models/{app.Bird()}", TestContext.Current.CancellationToken);
        var bird = JsonSerializer.Deserialize<ModelDetails>(birdText, app.Json)!;
        Assert.Equal(ModelKind.DecoderOnly, bird.Manifest.Kind);
        Assert.Contains("\"kind\":\"decoder-only\"", birdText);
        Assert.Equal("magenta:bird", bird.Manifest.Source);
        Assert.Single(bird.Graphs);
    }

    [Fact]
    public async Task Encode_gives_mu_sigma_and_a_reproducible_sample()
    {
        using var client = app.Client();
        var a = await client.PostOk<EncodeResponse>("/encode", new { model = "tiny", sketch = new { strokes = Square }, seed = 3 }, app.Json);
        var b = await client.PostOk<EncodeResponse>("/encode", new { model = "tiny", sketch = new { strokes = Square }, seed = 3 }, app.Json);
        Assert.Equal(4, a.Mu.Length);
        Assert.All(a.Sigma, s => Assert.True(s > 0));
        Assert.NotNull(a.Z);
        Assert.Equal(a.Z, b.Z);
        Assert.NotEqual(a.Mu, a.Z);
    }

    [Fact]
    public async Task Polylines_are_resized_to_the_drawing_extent_so_scale_does_not_matter()
    {
        using var client = app.Client();
        float[][][] small = [[[0, 10, 10], [0, 0, 10]], [[2, 8], [5, 5]]];
        var big = small.Select(s => s.Select(xs => xs.Select(v => v * 7 + 100).ToArray()).ToArray()).ToArray();
        var a = await client.PostOk<EncodeResponse>("/encode", new { sketch = new { polylines = small } }, app.Json);
        var b = await client.PostOk<EncodeResponse>("/encode", new { sketch = new { polylines = big } }, app.Json);
        var (ma, mb) = (a.Mu, b.Mu);
        for (var i = 0; i < ma.Length; i++) Assert.Equal(ma[i], mb[i], 4);
        // Equal to stroke-3 of the same drawing resized to drawing_extent (100) in training pixels.
        float[][] strokes = [[0, 0, 0], [100, 0, 0], [0, 100, 1], [-80, -50, 0], [60, 0, 1]];
        var mc = (await client.PostOk<EncodeResponse>("/encode", new { sketch = new { strokes } }, app.Json)).Mu;
        for (var i = 0; i < ma.Length; i++) Assert.Equal(ma[i], mc[i], 4);
    }

    [Fact]
    public async Task Greedy_decoding_draws_the_mixture_means_in_pixels()
    {
        using var client = app.Client();
        var body = await client.PostOk<DecodeResponse>("/decode", new { model = "tiny", z = new[] { 0.1f, -0.2f, 0.3f, 0f }, temperature = 0, max_steps = 12 }, app.Json);
        var sketch = body.Sketches[0];
        var rows = sketch.Strokes;
        Assert.Equal(12, rows.Length);
        Assert.False(sketch.EndedByItself);
        Assert.All(rows, p =>
        {
            Assert.Equal(ApiFactory.TinyMean.X * ApiFactory.TinyScale, p[0], 4);
            Assert.Equal(ApiFactory.TinyMean.Y * ApiFactory.TinyScale, p[1], 4);
            Assert.Equal(0, p[2]);
        });
        var line = sketch.Polylines[0];
        Assert.Equal(12 * 5f, line[0][^1], 3);
    }

    [Fact]
    public async Task Same_seed_same_sketch_and_another_seed_another()
    {
        using var client = app.Client();
        // The whole of every sketch (strokes, polylines, steps, ended_by_itself), written out again to compare.
        async Task<string> Draw(int seed) =>
            JsonSerializer.Serialize((await client.PostOk<DecodeResponse>("/generate", new { model = app.Bird(), temperature = 1.0, seed, max_steps = 40 }, app.Json)).Sketches, app.Json);
        var a = await Draw(11);
        Assert.Equal(a, await Draw(11));
        Assert.NotEqual(a, await Draw(12));
    }

    [Fact]
    public async Task Arithmetic_a_plus_b_minus_b_is_a()
    {
        using var client = app.Client();
        var body = await client.PostOk<ArithmeticResponse>("/arithmetic", new
        {
            model = "tiny", expression = "a + b - b",
            operands = new Dictionary<string, object> { ["a"] = new { strokes = Square }, ["b"] = new { strokes = Vee } },
            temperature = 0, max_steps = 5,
        }, app.Json);
        var enc = await client.PostOk<EncodeResponse>("/encode", new { model = "tiny", sketch = new { strokes = Square } }, app.Json);
        var (z, mu) = (body.Z, enc.Mu);
        for (var i = 0; i < mu.Length; i++) Assert.Equal(mu[i], z[i], 5);
        Assert.Equal(5, body.Sketch.Strokes.Length);
    }

    [Fact]
    public async Task Arithmetic_picture_shows_the_sketch_operands_then_the_result()
    {
        using var client = app.Client();
        var (r, _) = await client.PostJson("/arithmetic?format=svg", new
        {
            model = "tiny", expression = "a + (b - c)",
            operands = new Dictionary<string, object> { ["a"] = new { strokes = Square }, ["b"] = new { strokes = Vee }, ["c"] = new { z = new[] { 0f, 0, 0, 0 } } },
            temperature = 0, max_steps = 5,
        });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var svg = await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        // Two sketch operands and the result; c was a z, so it has no drawing.
        var captions = System.Text.RegularExpressions.Regex.Matches(svg, "<text[^>]*>([^<]*)</text>").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["a", "b", "a + (b - c)"], captions);
    }

    [Fact]
    public async Task Interpolation_ends_are_the_encodings()
    {
        using var client = app.Client();
        foreach (var method in new[] { "slerp", "lerp" })
        {
            var body = await client.PostOk<InterpolateResponse>("/interpolate", new { model = "tiny", from = new { strokes = Square }, to = new { strokes = Vee }, n = 4, method, temperature = 0, max_steps = 3 }, app.Json);
            var frames = body.Frames;
            Assert.Equal(4, frames.Count);
            var a = await client.PostOk<EncodeResponse>("/encode", new { model = "tiny", sketch = new { strokes = Square } }, app.Json);
            var b = await client.PostOk<EncodeResponse>("/encode", new { model = "tiny", sketch = new { strokes = Vee } }, app.Json);
            Assert.Equal(a.Mu, frames[0].Z);
            Assert.Equal(b.Mu, frames[3].Z);
            Assert.Equal(1.0, frames[3].T);
        }
    }

    [Fact]
    public async Task Complete_json_keeps_the_prefix_and_continues_it()
    {
        using var client = app.Client();
        foreach (var condition in new[] { "encoding", "z" })
        {
            var body = await client.PostOk<CompleteResponse>("/complete", new { model = "tiny", sketch = new { strokes = Vee }, condition, z = condition == "z" ? new[] { 1f, 0, 0, 0 } : null, temperature = 0, max_steps = 6, samples = 3 }, app.Json);
            Assert.Equal(condition, body.Condition);
            Assert.Equal(3, body.PrefixPoints);
            var sketches = body.Sketches;
            Assert.Equal(3, sketches.Count);
            foreach (var s in sketches)
            {
                var rows = s.Strokes;
                Assert.Equal(9, rows.Length);
                for (var i = 0; i < 3; i++) Assert.Equal(Vee[i], rows[i]);
                Assert.Equal(5f, rows[5][0], 4);
            }
            Assert.Equal(6, body.Stats.Steps);
        }
    }

    [Fact]
    public async Task Complete_on_a_decoder_only_model_needs_no_condition()
    {
        using var client = app.Client();
        var body = await client.PostOk<CompleteResponse>("/complete", new { model = app.Bird(), sketch = new { polylines = new[] { new[] { new float[] { 10, 60, 110 }, new float[] { 50, 20, 50 } } } }, temperature = 0.3, seed = 1, max_steps = 50 }, app.Json);
        Assert.Equal("none", body.Condition);
        var poly = body.Sketches[0].Polylines;
        // The given points come back in the caller's coordinates.
        Assert.Equal([10f, 60f, 110f], poly[0][0].Take(3).Select(v => MathF.Round(v, 2)));
    }

    [Fact]
    public async Task Generate_from_the_prior_and_unconditionally()
    {
        using var client = app.Client();
        var vae = await client.PostOk<DecodeResponse>("/generate", new { model = "tiny", samples = 2, seed = 4, max_steps = 5 }, app.Json);
        Assert.Equal(2, vae.Z.Count);
        Assert.Equal(4, vae.Z[0]!.Length);
        var bird = await client.PostOk<DecodeResponse>("/generate", new { model = app.Bird(), samples = 2, seed = 4, max_steps = 30 }, app.Json);
        Assert.Null(bird.Z[0]);
        Assert.Equal(2, bird.Sketches.Count);
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
    public async Task The_default_sheep_continues_the_first_two_strokes_of_a_sheep()
    {
        using var client = app.Client();
        var sheep = QuickDraw.ReadFile(SharedData.Fixture("quickdraw", "simplified", "sheep.ndjson")).First();
        var polylines = sheep.Drawing.Take(2).Select(l => new[] { l.X, l.Y }).ToArray();
        var body = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch = new { polylines }, samples = 4, temperature = 0.3, seed = 1 }, app.Json);
        Assert.Equal("prior", body.Condition); // the sheep has a data prior: auto completes from its most likely z
        var given = polylines.Sum(l => l[0].Length);
        Assert.Equal(given, body.PrefixPoints);
        var xs = polylines.SelectMany(l => l[0]).ToArray();
        var ys = polylines.SelectMany(l => l[1]).ToArray();
        var extent = Math.Max(xs.Max() - xs.Min(), ys.Max() - ys.Min());
        Assert.All(body.Sketches, s =>
        {
            Assert.True(s.EndedByItself, "the model ends the drawing by itself");
            Assert.InRange(s.Strokes.Length - given, 10, 249); // a continuation of its own, not the prefix alone
            Assert.True(s.Strokes.Skip(given).Count(r => r[2] == 1) >= 1, "it lifts the pen: more than one stroke");
            var all = s.Polylines.SelectMany(l => l[0]).ToArray();
            var allY = s.Polylines.SelectMany(l => l[1]).ToArray();
            Assert.True(Math.Max(all.Max() - all.Min(), allY.Max() - allY.Min()) < 4 * extent + 100, "the drawing stays the size of a sheep");
        });
        // What /complete conditioned on is the sketch's encoding, read in Quick Draw's 256 frame as a partial drawing is,
        // and told it is the start of a drawing: /encode's μ of the same sketch plus the partial flag's shift, which is
        // the same for any sketch (here also for the first stroke alone).
        async Task<float[]> Shift(float[][][] lines)
        {
            var completed = await client.PostOk<CompleteResponse>("/complete", new { model = "sheep", sketch = new { polylines = lines }, condition = "encoding", samples = 1, temperature = 0.3, seed = 1, max_steps = 1 }, app.Json);
            var encoded = await client.PostOk<EncodeResponse>("/encode", new { model = "sheep", sketch = new { polylines = lines, frame = 256 } }, app.Json);
            return [.. completed.Z!.Zip(encoded.Mu, (c, e) => c - e)];
        }
        var shift = await Shift(polylines);
        Assert.True(shift.Max(Math.Abs) > 0.01, "the committed sheep reads the partial flag");
        var again = await Shift(polylines[..1]);
        for (var i = 0; i < shift.Length; i++) Assert.Equal(shift[i], again[i], 3);
    }

    [Fact]
    public async Task Polylines_in_a_stated_frame_continue_exactly_like_the_same_points_as_stroke3()
    {
        var bird = app.Bird();
        using var client = app.Client();
        var extent = (await client.GetOk<ModelDetails>($"/models/{bird}", app.Json)).Manifest.DrawingExtent;
        // Two strokes as stroke-3 offsets in the model's training pixels, and the same points as absolute polylines.
        float[][] strokes = [[0, 0, 0], [30, -20, 0], [25, 10, 1], [-40, 30, 0], [20, 5, 1]];
        float[][][] polylines = [[[100, 130, 155], [100, 80, 90]], [[115, 135], [120, 125]]];
        async Task<float[][]> Continuation(object sketch)
        {
            var body = await client.PostOk<CompleteResponse>("/complete", new { model = bird, sketch, temperature = 0, seed = 1, max_steps = 40 }, app.Json);
            return body.Sketches[0].Strokes[strokes.Length..];
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
