using Microsoft.Playwright;

namespace SketchService.Api.Tests;

/// <summary>
/// Debian's Chromium through Playwright (never a downloaded browser) for the browser tests: skips the test when it is
/// not installed, collects the console errors and uncaught exceptions of the pages it opens; disposing closes it.
/// </summary>
internal sealed class TestBrowser : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly IPlaywright playwright;
    private readonly IBrowser browser;

    /// <summary>What the pages logged as errors, and their uncaught exceptions.</summary>
    public List<string> Errors { get; } = [];

    private TestBrowser(IPlaywright playwright, IBrowser browser) => (this.playwright, this.browser) = (playwright, browser);

    public static async Task<TestBrowser> LaunchAsync()
    {
        Assert.SkipUnless(File.Exists(Executable), $"{Executable} is not installed (apt-get install -y chromium)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new TestBrowser(playwright, browser);
    }

    public async Task<IPage> NewPageAsync(BrowserNewPageOptions? options = null)
    {
        var page = await browser.NewPageAsync(options);
        page.Console += (_, m) => { if (m.Type == "error") lock (Errors) Errors.Add(m.Text); };
        page.PageError += (_, e) => { lock (Errors) Errors.Add(e); };
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
