using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace SketchService.Api.Tests;

// Inside the namespace, so that the client's records win over the server's same-named ones that the project imports.
using SketchService.Client;

/// <summary>The .NET client against the real service (Kestrel, real ONNX files): every method, errors, streams, retries.</summary>
[Collection("Api")]
public sealed class ClientTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private SketchClient Client(SketchClientOptions? options = null) => new(app.Client(), options);

    /// <summary>Three points in tiny's pixels, the pen lifted after the last.</summary>
    private static readonly SketchInput Given = SketchInput.FromStrokes([new(0, 0, false), new(20, 5, false), new(10, 20, true)]);

    private const int TinyLatent = 4; // ApiFactory.TinyWeights
    private static float[] TinyZ(float v) => Enumerable.Repeat(v, TinyLatent).ToArray();

    [Fact]
    public async Task Lists_the_models_and_reads_one()
    {
        var client = Client();
        var list = await client.GetModelsAsync(Ct);
        var tiny = Assert.Single(list.Models, m => m.Id == "tiny");
        Assert.Equal("vae", tiny.Kind);
        Assert.True(tiny.IsDefault);
        Assert.Contains("broken", list.Failed.Keys);

        var details = await client.GetModelAsync("tiny", Ct);
        Assert.Equal("tiny", details.Id);
        Assert.Equal(10, (double)details.Manifest["scale_factor"]!);
        Assert.NotEmpty(details.Graphs);
    }

    [Fact]
    public async Task Encodes_a_sketch_given_as_strokes_or_polylines()
    {
        var client = Client();
        var encoded = await client.EncodeAsync(new EncodeRequest { Model = "tiny", Sketch = Given, Seed = 3 }, Ct);
        Assert.Equal(TinyLatent, encoded.Mu.Length);
        Assert.Equal(TinyLatent, encoded.Sigma.Length);
        Assert.NotNull(encoded.Z);
        Assert.Equal(3, encoded.Seed);

        var lines = SketchInput.FromPolylines([Polyline.Of((0, 0), (20, 5), (30, 25))]);
        var fromLines = await client.EncodeAsync(new EncodeRequest { Model = "tiny", Sketch = lines }, Ct);
        Assert.Null(fromLines.Z);
        Assert.Equal(TinyLatent, fromLines.Mu.Length);
    }

    [Fact]
    public async Task A_streamed_completion_gives_the_points_of_the_same_completion_answered_whole()
    {
        var client = Client();
        var request = new CompleteRequest { Model = "tiny", Sketch = Given, Samples = 2, Temperature = 0.5, Seed = 9, MaxSteps = 12 };
        var whole = await client.CompleteAsync(request, Ct);
        Assert.Equal(3, whole.PrefixPoints);
        Assert.Equal("encoding", whole.Condition);
        Assert.Equal(2, whole.Sketches.Count);

        var points = new List<CompletionPoint>();
        await foreach (var p in client.StreamCompletionAsync(request, Ct)) points.Add(p);
        for (var s = 0; s < 2; s++)
        {
            var streamed = points.Where(p => p.Sample == s).OrderBy(p => p.Step).ToArray();
            var drawn = whole.Sketches[s].Strokes.Skip(3).ToArray();
            Assert.Equal(drawn.Length, streamed.Count(p => p.Pen != Pen.End));
            for (var i = 0; i < drawn.Length; i++)
            {
                Assert.Equal(drawn[i].Dx, streamed[i].Dx, 3);
                Assert.Equal(drawn[i].Dy, streamed[i].Dy, 3);
                Assert.Equal(drawn[i].PenLifted, streamed[i].Pen == Pen.Up);
            }
        }
    }

    [Fact]
    public async Task Stopping_a_stream_stops_the_decoding_on_the_server()
    {
        var slow = app.Scheduler("slow");
        var client = Client();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var request = new CompleteRequest { Model = "slow", Sketch = Given, Condition = "none", Temperature = 0, MaxSteps = ApiFactory.MaxStepsCap };
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.StreamCompletionAsync(request, stop.Token))
                if (++seen == 5)
                {
                    Assert.Equal(1, slow.LiveRows);
                    stop.Cancel();
                }
        });
        var clock = Stopwatch.StartNew();
        while (slow.LiveRows > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10, Ct);
        Assert.Equal(0, slow.LiveRows);

        // Breaking out of the loop closes the stream the same way.
        await foreach (var _ in client.StreamCompletionAsync(request, Ct)) break;
        clock.Restart();
        while (slow.LiveRows > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(10, Ct);
        Assert.Equal(0, slow.LiveRows);
    }

    [Fact]
    public async Task Decodes_generates_interpolates_and_does_arithmetic()
    {
        var client = Client();
        var decoded = await client.DecodeAsync(new DecodeRequest { Model = "tiny", Z = TinyZ(0.1f), Samples = 2, Temperature = 0, Seed = 1, MaxSteps = 7 }, Ct);
        Assert.Equal(2, decoded.Sketches.Count);
        Assert.All(decoded.Sketches, s => Assert.Equal(7, s.Strokes.Count));
        // tiny draws (5, −2.5) pixels per point at τ 0.
        Assert.All(decoded.Sketches[0].Strokes, r => Assert.Equal((5, -2.5), (Math.Round(r.Dx, 3), Math.Round(r.Dy, 3))));

        var generated = await client.GenerateAsync(new GenerateRequest { Model = "tiny", Samples = 3, Prior = "standard", Seed = 2, MaxSteps = 5 }, Ct);
        Assert.Equal(3, generated.Sketches.Count);
        Assert.Equal("standard", generated.Prior);
        Assert.All(generated.Z, z => Assert.Equal(TinyLatent, z!.Length));

        var frames = await client.InterpolateAsync(new InterpolateRequest
        {
            Model = "tiny", From = Given, To = TinyZ(0), N = 4, Method = "lerp", Seed = 3, MaxSteps = 5,
        }, Ct);
        Assert.Equal(4, frames.Frames.Count);
        Assert.Equal(1 / 3.0, frames.Frames[1].T, 6);
        Assert.Equal(TinyZ(0), frames.Frames[^1].Z);

        var sum = await client.ArithmeticAsync(new ArithmeticRequest
        {
            Model = "tiny", Expression = "a + 0.5 * (b - a)", Operands = new Dictionary<string, LatentOperand> { ["a"] = TinyZ(1), ["b"] = TinyZ(3) }, Seed = 4, MaxSteps = 5,
        }, Ct);
        Assert.All(sum.Z, v => Assert.Equal(2f, v, 5));
        Assert.Equal(["a", "b"], sum.Operands.Keys.Order().ToArray());
        Assert.Equal(5, sum.Sketch.Strokes.Count);

        // An operand's polylines are drawn in their frame when they give one, else resized to their own box.
        var square = new[] { new Polyline([0, 10, 10, 0], [0, 0, 10, 10]) };
        async Task<float[]> Encoded(LatentOperand operand) => (await client.ArithmeticAsync(new ArithmeticRequest
        {
            Model = "tiny", Expression = "a", Operands = new Dictionary<string, LatentOperand> { ["a"] = operand }, Seed = 4, MaxSteps = 2,
        }, Ct)).Z;
        Assert.NotEqual(await Encoded(SketchInput.FromPolylines(square)), await Encoded(SketchInput.FromPolylines(square, frame: 100)));
    }

    [Fact]
    public async Task Every_drawing_endpoint_answers_a_picture()
    {
        var client = Client();
        var png = await client.CompleteImageAsync(new CompleteRequest { Model = "tiny", Sketch = Given, Samples = 2, MaxSteps = 5 }, ImageFormat.Png, Ct);
        Assert.Equal("image/png", png.ContentType);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Bytes[..4]);
        var svgs = new[]
        {
            await client.DecodeImageAsync(new DecodeRequest { Model = "tiny", Z = TinyZ(0), MaxSteps = 5 }, ImageFormat.Svg, Ct),
            await client.GenerateImageAsync(new GenerateRequest { Model = "tiny", Samples = 2, MaxSteps = 5 }, ImageFormat.Svg, Ct),
            await client.InterpolateImageAsync(new InterpolateRequest { Model = "tiny", From = TinyZ(0), To = TinyZ(1), N = 3, MaxSteps = 5 }, ImageFormat.Svg, Ct),
            await client.ArithmeticImageAsync(new ArithmeticRequest { Model = "tiny", Expression = "a", Operands = new Dictionary<string, LatentOperand> { ["a"] = Given }, MaxSteps = 5 }, ImageFormat.Svg, Ct),
        };
        Assert.All(svgs, svg =>
        {
            Assert.Equal("image/svg+xml", svg.ContentType);
            Assert.StartsWith("<svg", svg.Text);
        });
    }

    [Fact]
    public async Task Invalid_input_throws_the_problem_with_its_field_errors()
    {
        var client = Client();
        var bad = SketchInput.FromStrokes([new(1, 2, false)]) with { Strokes = null, Polylines = null };
        var e = await Assert.ThrowsAsync<SketchServiceException>(() => client.CompleteAsync(new CompleteRequest { Model = "tiny", Sketch = bad }, Ct));
        Assert.Equal(400, e.Status);
        Assert.Equal("Invalid request", e.Title);
        Assert.Contains("sketch", e.Errors.Keys);

        e = await Assert.ThrowsAsync<SketchServiceException>(() => client.DecodeAsync(new DecodeRequest { Model = "tiny", Z = TinyZ(0), Temperature = 9 }, Ct));
        Assert.Equal(400, e.Status);
        Assert.Contains("temperature", e.Errors.Keys);
        Assert.Contains("400", e.Message);

        e = await Assert.ThrowsAsync<SketchServiceException>(() => client.GetModelAsync("nope", Ct));
        Assert.Equal(404, e.Status);
        Assert.Empty(e.Errors);

        // What the model cannot do: 422, the whole problem readable.
        e = await Assert.ThrowsAsync<SketchServiceException>(() => client.EncodeAsync(new EncodeRequest { Model = "slow", Sketch = Given }, Ct));
        Assert.Equal(422, e.Status);
        Assert.Equal("POST /encode", (string?)e.Problem!["instance"]);
    }

    [Fact]
    public void Strokes_and_polylines_convert_both_ways()
    {
        StrokeRow[] rows = [new(0, 0, false), new(10, 0, true), new(0, 10, false), new(-10, 0, true)];
        var lines = Strokes.ToPolylines(rows, 5, 5);
        Assert.Equal(2, lines.Count);
        Assert.Equal(new[] { 5.0, 15 }, lines[0].X);
        Assert.Equal(new[] { 15.0, 5 }, lines[1].X);
        Assert.Equal(new[] { 15.0, 15 }, lines[1].Y);
        var back = Strokes.FromPolylines(lines);
        Assert.Equal(new[] { new StrokeRow(5, 5, false) }.Concat(rows.Skip(1)), back);
    }

    [Fact]
    public async Task Works_as_a_typed_HttpClient_from_the_factory()
    {
        var services = new ServiceCollection();
        services.AddHttpClient<SketchClient>(http => http.BaseAddress = app.BaseAddress);
        using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<SketchClient>();
        Assert.Contains((await client.GetModelsAsync(Ct)).Models, m => m.Id == "tiny");
    }
}

/// <summary>Two rows and one queue place, and the default deadline, so that streams hold the rows as long as a test needs.</summary>
public sealed class TwoRowFactory : ApiFactory
{
    protected override IEnumerable<(string Key, string Value)> Settings => [("MaxLiveRows", "2"), ("MaxQueuedRequests", "1")];
}

/// <summary>A 429 retried after its Retry-After, and refused at once with retries off.</summary>
[Collection("Api")]
public sealed class ClientRetryTests(TwoRowFactory app) : IClassFixture<TwoRowFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly SketchInput Point = SketchInput.FromStrokes([new(1, 0, true)]);

    /// <summary>The slow model never ends at τ 0: this stream holds its rows until it is stopped.</summary>
    private static CompleteRequest Endless(int samples) =>
        new() { Model = "slow", Sketch = Point, Condition = "none", Samples = samples, Temperature = 0, MaxSteps = ApiFactory.MaxStepsCap };

    [Fact]
    public async Task A_429_is_retried_after_its_Retry_After_and_refused_when_retries_are_off()
    {
        var slow = app.Scheduler("slow");
        var client = new SketchClient(app.Client());
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        // Both rows taken by one stream, and the one queue place by another: the next request is refused.
        var clock = Stopwatch.StartNew();
        var rows = Hold(client, Endless(2), hold.Token);
        while (slow.LiveRows < 2 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(5, Ct);
        var queued = Hold(client, Endless(1), hold.Token);
        while (slow.QueuedRequests < 1 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(5, Ct);
        Assert.True(slow.LiveRows == 2 && slow.QueuedRequests == 1, $"{slow.LiveRows} rows, {slow.QueuedRequests} queued");

        var small = new CompleteRequest { Model = "slow", Sketch = Point, Condition = "none", MaxSteps = 3, Seed = 1 };
        var refused = await Assert.ThrowsAsync<SketchServiceException>(() => new SketchClient(app.Client(), new() { MaxRetries = 0 }).CompleteAsync(small, Ct));
        Assert.Equal(429, refused.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);

        // With retries, the request waits out Retry-After (1 s) and is served once the rows are free.
        clock.Restart();
        var retried = client.CompleteAsync(small, Ct);
        await Task.Delay(200, Ct);
        Assert.False(retried.IsCompleted, retried.IsFaulted ? retried.Exception!.ToString() : $"completed: {retried.Status}");
        hold.Cancel();
        var done = await retried;
        Assert.Equal(3, done.Stats.Steps);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"answered after {clock.Elapsed}");
        await Task.WhenAll(rows, queued);
    }

    /// <summary>Reads a stream until it is cancelled.</summary>
    private static async Task Hold(SketchClient client, CompleteRequest request, CancellationToken stop)
    {
        try { await foreach (var _ in client.StreamCompletionAsync(request, stop)) { } }
        catch (OperationCanceledException) { }
    }
}

/// <summary>A stream that fails after it started, on the 3 s deadline of <see cref="SmallBatchFactory"/>.</summary>
[Collection("Api")]
public sealed class ClientDeadlineTests(SmallBatchFactory app) : IClassFixture<SmallBatchFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_stream_past_its_deadline_throws_the_503_of_its_error_event()
    {
        var client = new SketchClient(app.Client());
        var points = 0;
        var e = await Assert.ThrowsAsync<SketchServiceException>(async () =>
        {
            var endless = new CompleteRequest { Model = "tiny", Sketch = SketchInput.FromStrokes([new(1, 0, true)]), Temperature = 0, MaxSteps = 50_000_000 };
            await foreach (var _ in client.StreamCompletionAsync(endless, Ct)) points++;
        });
        Assert.Equal(503, e.Status);
        Assert.Contains($"{SmallBatchFactory.Deadline} s", e.Detail);
        Assert.True(points > 0);
    }
}
