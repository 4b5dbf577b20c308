using System.Diagnostics;
using Microsoft.Playwright;

namespace SketchService.Api.Tests;

/// <summary>The playground at / in a real browser (Debian's Chromium) against the real Kestrel app.</summary>
[Collection("Api")]
[Trait("Category", "Browser")]
public sealed class PlaygroundTests(ApiFactory app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A browser on the playground, with the console errors it has logged; disposing closes it.</summary>
    private sealed record Session(TestBrowser Browser, IPage Page) : IAsyncDisposable
    {
        public List<string> Errors => Browser.Errors;
        public ValueTask DisposeAsync() => Browser.DisposeAsync();
    }

    private async Task<Session> Open(int width = 1200, int height = 900)
    {
        var browser = await TestBrowser.LaunchAsync();
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        await page.GotoAsync(app.BaseAddress.ToString());
        await page.Locator("#model option[value=tiny]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        return new Session(browser, page);
    }

    /// <summary>Draws a stroke with the mouse through points given in the 0–256 drawing frame.</summary>
    private static async Task Stroke(IPage page, params (float X, float Y)[] points)
    {
        var box = (await page.Locator("#canvas").BoundingBoxAsync())!;
        (float, float) At((float X, float Y) p) => (box.X + p.X / 256 * box.Width, box.Y + p.Y / 256 * box.Height);
        var (x0, y0) = At(points[0]);
        await page.Mouse.MoveAsync(x0, y0);
        await page.Mouse.DownAsync();
        foreach (var p in points.Skip(1))
        {
            var (x, y) = At(p);
            await page.Mouse.MoveAsync(x, y, new() { Steps = 4 });
        }
        await page.Mouse.UpAsync();
    }

    /// <summary>Counts the page's requests to <paramref name="path"/> from now on.</summary>
    private static Func<int> Requests(IPage page, string path)
    {
        var sent = 0;
        page.Request += (_, r) => { if (r.Url.EndsWith(path)) Interlocked.Increment(ref sent); };
        return () => Volatile.Read(ref sent);
    }

    /// <summary>One stroke on tiny (20 steps), completed only when asked: "complete on pen-up" is off.</summary>
    private static async Task StrokeOnTinyByHand(IPage page)
    {
        await page.SelectOptionAsync("#model", "tiny");
        await page.FillAsync("#max-steps", "20");
        await page.UncheckAsync("#auto");
        await Stroke(page, (100, 100), (140, 120));
    }

    private static async Task<int[]> PointsPerCell(IPage page) =>
        [.. (await page.Locator("#grid .cell").EvaluateAllAsync<string[]>("cells => cells.map(c => c.dataset.points)")).Select(int.Parse)];

    [Fact]
    public async Task Drawing_streams_four_endings_that_grow_point_by_point()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        await page.SelectOptionAsync("#model", app.Bird());
        await page.SelectOptionAsync("#samples", "4");
        await page.FillAsync("#seed", "7");
        await Stroke(page, (60, 120), (90, 90), (130, 85), (170, 100)); // completes on pen-up

        await page.Locator("#grid .cell").Nth(3).WaitForAsync();
        Assert.Equal(4, await page.Locator("#grid .cell").CountAsync());
        // Points arrive and are drawn over time: some endings are part-drawn before the stream is done.
        var seen = new List<int>();
        var clock = Stopwatch.StartNew();
        while (!(await page.Locator("#status").InnerTextAsync()).Contains("done") && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            seen.Add((await PointsPerCell(page)).Sum());
            await Task.Delay(30, Ct);
        }
        var final = await PointsPerCell(page);
        Assert.All(final, n => Assert.True(n > 4, $"an ending of {n} points"));
        Assert.True(seen.Distinct().Count() >= 3, $"points appeared in {seen.Distinct().Count()} steps: {string.Join(", ", seen.Distinct())}");
        Assert.Contains("seed 7", await page.Locator("#status").InnerTextAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Stop_ends_the_stream_and_frees_the_servers_rows()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        var decoder = app.Scheduler("slow");
        await page.SelectOptionAsync("#model", "slow");
        await page.SelectOptionAsync("#samples", "1");
        await page.EvalOnSelectorAsync("#temperature", "t => { t.value = '0'; t.dispatchEvent(new Event('input')); }"); // slow never ends at τ = 0
        await page.FillAsync("#max-steps", ApiFactory.MaxStepsCap.ToString());
        var before = decoder.Ticks;
        await Stroke(page, (100, 100), (140, 120));
        await page.Locator("#grid .cell[data-points]:not([data-points='0'])").WaitForAsync();
        await page.ClickAsync("#stop");

        var clock = Stopwatch.StartNew();
        while (decoder.LiveRows > 0 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(5, Ct);
        Assert.Equal(0, decoder.LiveRows);
        Assert.True(decoder.Ticks - before < ApiFactory.MaxStepsCap - 1000, $"{decoder.Ticks - before} steps of {ApiFactory.MaxStepsCap}: decoding ran on");
        Assert.Equal("stopped", await page.Locator("#status").InnerTextAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Saved_drawings_interpolate_and_add_up_in_latent_space()
    {
        await using var session = await Open(375, 900); // a phone's width
        var (page, errors) = (session.Page, session.Errors);
        await page.SelectOptionAsync("#model", "tiny");
        await page.UncheckAsync("#auto");
        await page.FillAsync("#max-steps", "30");
        Assert.True(await page.Locator("#vae").IsVisibleAsync());

        await Stroke(page, (40, 40), (200, 40), (200, 200));
        await page.FillAsync("#save-name", "a");
        await page.ClickAsync("#save");
        await page.ClickAsync("#clear");
        await Stroke(page, (60, 180), (120, 60), (180, 180));
        await page.FillAsync("#save-name", "b");
        await page.ClickAsync("#save");
        Assert.Equal(2, await page.Locator("#saved figure").CountAsync());

        await page.SelectOptionAsync("#from", "a");
        await page.SelectOptionAsync("#to", "b");
        await page.FillAsync("#frames", "5");
        await page.ClickAsync("#interpolate");
        await page.Locator("#status:has-text('interpolate · done')").WaitForAsync();
        Assert.Equal(5, await page.Locator("#grid .cell").CountAsync());
        Assert.All(await PointsPerCell(page), n => Assert.True(n > 0));
        foreach (var (button, type) in new[] { ("#download-svg", "<svg"), ("#download-png", "\u0089PNG") })
        {
            var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync(button));
            var file = await download.PathAsync();
            Assert.StartsWith(type, File.ReadAllText(file!, System.Text.Encoding.Latin1).TrimStart());
        }

        await page.FillAsync("#expression", "a + 0.5 * (b - a)");
        await page.ClickAsync("#arithmetic");
        await page.Locator("#status:has-text('arithmetic · done')").WaitForAsync();
        Assert.Equal(1, await page.Locator("#grid .cell").CountAsync());
        Assert.True((await PointsPerCell(page))[0] > 0);

        Assert.Empty(errors);

        // An API error reads as a message, not a silent failure (the browser itself logs the failed request).
        await page.FillAsync("#expression", "a + (b");
        await page.ClickAsync("#arithmetic");
        await page.Locator("#error:has-text('Invalid expression')").WaitForAsync();
        Assert.All(errors, e => Assert.Contains("400", e));
    }

    /// <summary>One short ending of the tiny model for a two-point stroke, drawn to the end.</summary>
    private static async Task CompleteOneOnTiny(IPage page)
    {
        await page.SelectOptionAsync("#model", "tiny");
        await page.FillAsync("#max-steps", "20");
        await page.SelectOptionAsync("#samples", "1");
        await Stroke(page, (100, 100), (140, 120));
        await Done(page);
    }

    /// <summary>Waits until the status line says the completion is done; fails after 30 s, saying what it says.</summary>
    private static async Task Done(IPage page)
    {
        var clock = Stopwatch.StartNew();
        string status;
        while (!(status = await page.Locator("#status").InnerTextAsync()).Contains("done") && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(20, Ct);
        Assert.True(status.Contains("done"), $"after 30 s the status line says \"{status}\", not done");
    }

    [Fact]
    public async Task Stop_stops_the_drawing_on_screen_not_only_the_request()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        await page.SelectOptionAsync("#model", "tiny"); // never ends: 250 points per ending, sent in a few ms, drawn at ~180 points/s
        await page.SelectOptionAsync("#samples", "9");
        await Stroke(page, (100, 100), (140, 120));
        await page.Locator("#grid .cell[data-points]:not([data-points='0'])").First.WaitForAsync();
        await page.Keyboard.PressAsync("Escape");
        var stopped = (await PointsPerCell(page)).Sum();
        await Task.Delay(400, Ct);
        Assert.Equal(stopped, (await PointsPerCell(page)).Sum()); // nothing more is drawn
        Assert.True(stopped < 9 * 250, $"{stopped} points: the whole stream had been drawn already");
        Assert.Equal("stopped", await page.Locator("#status").InnerTextAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Changing_endings_temperature_or_seed_completes_again_and_undo_clears_stale_endings()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        await CompleteOneOnTiny(page);
        Assert.Equal(1, await page.Locator("#grid .cell").CountAsync());

        await page.SelectOptionAsync("#samples", "4");
        await page.Locator("#grid .cell").Nth(3).WaitForAsync();
        await Done(page);
        await page.FillAsync("#seed", "42");
        await page.Locator("#seed").DispatchEventAsync("change");
        await page.Locator("#status:has-text('seed 42')").WaitForAsync();
        await Done(page);
        await page.EvalOnSelectorAsync("#temperature", "t => { t.value = '0.2'; t.dispatchEvent(new Event('input')); t.dispatchEvent(new Event('change')); }");
        await page.Locator("#status:has-text('drawing')").Or(page.Locator("#status:has-text('done')")).First.WaitForAsync();
        await Done(page);
        Assert.Equal(4, await page.Locator("#grid .cell").CountAsync());
        // Another model completes the drawing again too, instead of leaving the endings of the one before.
        var sent = Requests(page, "/complete");
        await page.SelectOptionAsync("#model", "slow");
        await Done(page);
        Assert.Equal(1, sent());

        await page.ClickAsync("#undo");
        Assert.Equal(0, await page.Locator("#grid .cell").CountAsync());
        Assert.True(await page.Locator("#download-svg").IsDisabledAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_drawing_the_model_finds_finished_says_so()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        // The model's answer for a finished drawing: every ending ends at its first step.
        await page.RouteAsync("**/complete", route => route.FulfillAsync(new()
        {
            Status = 200, ContentType = "text/event-stream",
            Body = "event: step\ndata: {\"sample\":0,\"step\":0,\"dx\":0,\"dy\":0,\"x\":140,\"y\":120,\"pen\":\"end\"}\n\n" +
                   "event: done\ndata: {\"model\":\"tiny\",\"condition\":\"encoding\",\"z\":null,\"seed\":3,\"temperature\":0.5,\"prefix_points\":2," +
                   "\"sketches\":[{\"strokes\":[[0,0,0],[40,20,1]],\"polylines\":[[[100,140],[100,120]]],\"steps\":1,\"ended_by_itself\":true}]," +
                   "\"stats\":{\"steps\":1,\"duration_ms\":0.1,\"queued_ms\":0,\"ended_by_themselves\":1,\"samples\":1}}\n\n",
        }));
        await page.SelectOptionAsync("#model", "tiny");
        await page.SelectOptionAsync("#samples", "1");
        await Stroke(page, (100, 100), (140, 120));
        await page.Locator("#hint:has-text('thinks this drawing is finished')").WaitForAsync();
        Assert.Contains("finished at once", await page.Locator("#grid .cell p").InnerTextAsync());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_persons_strokes_and_the_models_have_two_colours_on_screen_and_in_downloads()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        // A seed under which the tiny model draws before it ends: with a random one it sometimes ended at once, and the
        // download then had none of the model's strokes to colour.
        await page.FillAsync("#seed", "7");
        await CompleteOneOnTiny(page);
        string Colour(string cls) => $"document.querySelector('#grid .cell path.{cls}') && getComputedStyle(document.querySelector('#grid .cell path.{cls}')).stroke";
        var mine = await page.EvaluateAsync<string>(Colour("mine"));
        var theirs = await page.EvaluateAsync<string>(Colour("theirs"));
        Assert.NotNull(mine);
        Assert.NotNull(theirs);
        Assert.NotEqual(mine, theirs);

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-svg"));
        var svg = File.ReadAllText((await download.PathAsync())!);
        Assert.Contains("stroke=\"#888888\"", svg); // the person's
        Assert.Contains("stroke=\"black\"", svg);   // the model's
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task Nine_endings_fit_the_window_and_sit_under_the_canvas_on_a_phone(int width, int height)
    {
        await using var session = await Open(width, height);
        var (page, errors) = (session.Page, session.Errors);
        await page.SelectOptionAsync("#model", "tiny");
        await page.FillAsync("#max-steps", "10");
        await page.SelectOptionAsync("#samples", "9");
        await Stroke(page, (100, 100), (140, 120));
        await page.Locator("#grid .cell").Nth(8).WaitForAsync();
        var cells = await page.Locator("#grid .cell").EvaluateAllAsync<double[][]>("cs => cs.map(c => { const b = c.getBoundingClientRect(); return [b.top, b.bottom]; })");
        var tools = (await page.Locator("#vae").BoundingBoxAsync())!;
        var canvas = (await page.Locator("#canvas").BoundingBoxAsync())!;
        if (width >= 1000)
            Assert.All(cells, c => Assert.True(c[1] <= height, $"an ending reaches {c[1]:0} px of {height}: scrolling needed"));
        else
        {
            Assert.True(cells[0][0] > canvas.Y + canvas.Height, "the endings come after the canvas");
            Assert.True(cells[^1][1] <= tools.Y, "the endings come before the latent-space tools");
        }
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_decoder_only_model_hides_the_latent_tools_and_the_page_links_swagger()
    {
        await using var session = await Open();
        var (page, errors) = (session.Page, session.Errors);
        await page.SelectOptionAsync("#model", app.Bird());
        Assert.False(await page.Locator("#vae").IsVisibleAsync());
        Assert.Contains("decoder-only", await page.Locator("#model-info").InnerTextAsync());
        Assert.Equal("/swagger", await page.Locator("a[href='/swagger']").GetAttributeAsync("href"));
        Assert.Empty(errors);
    }

    // Findings of a probe of the playground in Chromium, each once a defect.

    private static async Task<string> Status(IPage page) => await page.Locator("#status").InnerTextAsync();

    [Fact]
    public async Task A_refused_completion_ends_the_busy_state_and_says_it_failed()
    {
        // Once: the error showed, but "drawing…" stayed and Stop stayed enabled for good.
        await using var session = await Open();
        var page = session.Page;
        await page.SelectOptionAsync("#model", "tiny");
        await page.FillAsync("#max-steps", (ApiFactory.MaxStepsCap + 1).ToString());
        await Stroke(page, (100, 100), (140, 120));
        await page.Locator("#error:has-text('max_steps')").WaitForAsync();
        await page.Locator("#status:text-is('failed')").WaitForAsync();
        Assert.True(await page.Locator("#stop").IsDisabledAsync());
        Assert.True(await page.Locator("#replay").IsDisabledAsync());
    }

    [Fact]
    public async Task Settings_the_service_would_refuse_are_refused_before_anything_is_sent()
    {
        await using var session = await Open();
        var page = session.Page;
        await page.SelectOptionAsync("#model", "tiny");
        var sent = Requests(page, "/complete");
        await page.FillAsync("#max-steps", "0"); // once silently 250
        await Stroke(page, (100, 100), (140, 120));
        await page.Locator("#error:has-text('Max steps must be a whole number')").WaitForAsync();
        await page.FillAsync("#max-steps", "20");
        await page.FillAsync("#seed", "1.5");
        await page.ClickAsync("#complete");
        await page.Locator("#error:has-text('Seed must be a whole number')").WaitForAsync();
        Assert.Equal(0, sent());
        await page.FillAsync("#seed", "-5"); // the API takes negative seeds
        await page.ClickAsync("#complete");
        await Done(page);
        Assert.StartsWith("seed -5", await Status(page));
    }

    [Fact]
    public async Task A_new_stroke_clears_the_results_of_the_drawing_before_it()
    {
        // Once: Replay and the SVG gave the endings of the drawing before the new stroke.
        await using var session = await Open();
        var page = session.Page;
        await StrokeOnTinyByHand(page);
        await page.ClickAsync("#complete");
        await Done(page);
        Assert.False(await page.Locator("#replay").IsDisabledAsync());
        await Stroke(page, (60, 60), (80, 40));
        Assert.Equal(0, await page.Locator("#grid .cell").CountAsync());
        Assert.True(await page.Locator("#replay").IsDisabledAsync());
        Assert.True(await page.Locator("#download-svg").IsDisabledAsync());
    }

    [Fact]
    public async Task Replay_is_stopped_by_esc_and_cannot_start_while_endings_are_drawn()
    {
        await using var session = await Open();
        var page = session.Page;
        await page.SelectOptionAsync("#model", "tiny"); // tiny never ends: 1000 points, about 5 s to draw at 60 frames a second
        await page.FillAsync("#max-steps", "1000");
        await page.SelectOptionAsync("#samples", "1");
        await Stroke(page, (100, 100), (140, 120));
        // Once: Replay was enabled mid-animation, and pressing it left the completion unfinished for good.
        Assert.True(await page.Locator("#replay").IsDisabledAsync());
        await Done(page);
        // Once: Esc and Stop said "stopped" while the replay went on drawing.
        await page.ClickAsync("#replay");
        Assert.False(await page.Locator("#stop").IsDisabledAsync());
        await page.Keyboard.PressAsync("Escape"); // at once: how fast frames come depends on the browser and the machine
        var stopped = await PointsPerCell(page);
        await Task.Delay(500, Ct);
        Assert.Equal(stopped, await PointsPerCell(page));
        Assert.True(stopped[0] < 1000, $"{stopped[0]} points drawn");
        Assert.Equal("stopped", await Status(page));
        Assert.True(await page.Locator("#stop").IsDisabledAsync());
    }

    [Fact]
    public async Task Keys_in_a_field_or_on_a_button_do_what_that_field_or_button_does()
    {
        await using var session = await Open();
        var page = session.Page;
        await page.SelectOptionAsync("#model", "tiny");
        await page.UncheckAsync("#auto");
        await Stroke(page, (100, 100), (140, 120));
        await Stroke(page, (60, 60), (80, 40));
        var sent = Requests(page, "/complete");
        // Once: Enter on a focused button also started a completion.
        await page.FocusAsync("#undo");
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal(1, await page.Locator("#canvas path").CountAsync());
        // Once: Ctrl+Z in a text field removed a stroke instead of the typing.
        await page.FocusAsync("#save-name");
        await page.Keyboard.TypeAsync("abc");
        await page.Keyboard.PressAsync("Control+z");
        Assert.Equal(1, await page.Locator("#canvas path").CountAsync());
        // Once: Enter in the name field did nothing.
        await page.FillAsync("#save-name", "legs");
        await page.Keyboard.PressAsync("Enter");
        await page.Locator("#saved figcaption:text-is('legs')").WaitForAsync();
        Assert.Equal(0, sent());
        Assert.Equal("", await Status(page));
    }

    [Fact]
    public async Task A_slow_tool_does_not_overwrite_what_came_after_it_and_an_unreachable_service_is_said_in_words()
    {
        await using var session = await Open();
        var page = session.Page;
        await StrokeOnTinyByHand(page);
        // Once: a reconstruction that answered after a completion began replaced its endings.
        var decodeHeld = new TaskCompletionSource();
        await page.RouteAsync("**/decode", async route => { await decodeHeld.Task; await route.ContinueAsync(); });
        await page.ClickAsync("#reconstruct");
        await page.Locator("#status:text-is('reconstruct…')").WaitForAsync();
        await page.ClickAsync("#complete");
        await Done(page);
        decodeHeld.SetResult();
        await Task.Delay(500, Ct);
        Assert.Equal("Endings", await page.Locator("#results-title").InnerTextAsync());
        Assert.Contains("done", await Status(page));

        // Once: only "Failed to fetch".
        await page.RouteAsync("**/complete", route => route.AbortAsync());
        await page.ClickAsync("#complete");
        await page.Locator("#error:has-text('the service cannot be reached')").WaitForAsync();
        Assert.Equal("failed", await Status(page));

        // Once: Enter in the expression field did nothing.
        await page.UnrouteAllAsync();
        await page.FillAsync("#save-name", "a");
        await page.ClickAsync("#save");
        await page.FillAsync("#expression", "a");
        await page.Keyboard.PressAsync("Enter");
        await page.Locator("#status:text-is('arithmetic · done')").WaitForAsync();
    }
}
