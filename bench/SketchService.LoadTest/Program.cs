using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using SketchService.LoadTest;

// Load benchmark of POST /complete: N concurrent clients (half SSE, half JSON) per concurrency level, one fresh
// server per model, and a markdown report. Usage: dotnet run -c Release --project bench/SketchService.LoadTest -- --help

var models = new Option<string[]>("--model")
{
    Description = "Model to load: sheep (models/sheep), magenta-<class> (imports <data>/models/magenta/<class>.gen.json), "
        + "or any folder under models/. Repeat for several models; each gets its own server and table. With --url: the model id.",
    HelpName = "id",
    DefaultValueFactory = _ => ["sheep"],
    Arity = ArgumentArity.OneOrMore,
};
// Defaults are applied in the action (and named in the descriptions), so the help shows them as typed.
var clients = new Option<int[]?>("--clients")
{
    Description = "Comma-separated concurrency levels [default: 1,4,16,64,256].",
    HelpName = "n,n,…",
    CustomParser = r => Parse(r, ParseClients),
};
var duration = new Option<TimeSpan?>("--duration")
{
    Description = "Measured time per level: 20s, 2m, 500ms or plain seconds [default: 20s].",
    HelpName = "time",
    CustomParser = r => Parse<TimeSpan?>(r, s => ParseDuration(s, allowZero: false)),
};
var warmup = new Option<TimeSpan?>("--warmup")
{
    Description = "Load before each level's measurement, not counted [default: 3s].",
    HelpName = "time",
    CustomParser = r => Parse<TimeSpan?>(r, s => ParseDuration(s, allowZero: true)),
};
var serverWarmup = new Option<TimeSpan?>("--server-warmup")
{
    Description = "Load at 16 clients after the server starts, before the first level, not reported [default: 30s].",
    HelpName = "time",
    CustomParser = r => Parse<TimeSpan?>(r, s => ParseDuration(s, allowZero: true)),
};
var soak = new Option<TimeSpan?>("--soak")
{
    Description = "After the levels, run the highest client count this long and list the server's RSS every 10 s.",
    HelpName = "time",
    CustomParser = r => Parse<TimeSpan?>(r, s => ParseDuration(s, allowZero: false)),
};
var url = new Option<Uri?>("--url")
{
    Description = "Target a running server (e.g. http://host:8080) instead of starting one; its RSS is then not reported.",
    HelpName = "url",
    CustomParser = r => Parse(r, s => Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
        ? u : throw new FormatException($"'{s}' is not an absolute http(s) URL")),
};
var settings = new Option<string[]>("--server-setting")
{
    Description = "Key=Value passed to the started server as env var SketchService__Key=Value (repeatable), e.g. MaxSteps=500.",
    HelpName = "Key=Value",
    DefaultValueFactory = _ => [],
};
var fairness = new Option<bool>("--fairness")
{
    Description = "Instead of the levels: the fair-share scenario. Four polite callers (one JSON request at a time) alone, then beside a "
        + "greedy caller holding 200 streams; callers are told apart by API key (the server started here gets the keys). Needs no --url.",
};
var report = new Option<string?>("--report")
{
    Description = "Where to write the markdown report [default: artifacts/load-report.md under the repository root].",
    HelpName = "path",
};

settings.Validators.Add(r =>
{
    foreach (var s in r.GetValueOrDefault<string[]>() ?? [])
        if (s.IndexOf('=') <= 0) r.AddError($"--server-setting '{s}' is not Key=Value");
});

var root = new RootCommand("Load benchmark of the SketchService's POST /complete endpoint.")
{
    models, clients, duration, warmup, serverWarmup, soak, url, settings, fairness, report,
};
root.Validators.Add(r =>
{
    // Tokens, not values: a value that failed to parse must not be read here.
    if (r.GetResult(url) is { Tokens.Count: > 0 } && r.GetResult(settings) is { Tokens.Count: > 0 })
        r.AddError("--server-setting only applies to a server started here, not with --url");
    if (r.GetValue(fairness) && r.GetResult(url) is { Tokens.Count: > 0 })
        r.AddError("--fairness starts its own server (it gives it the callers' API keys), so it takes no --url");
});
root.SetAction((parse, ct) => new LoadTest(new LoadTestOptions(
    Models: parse.GetValue(models)!,
    Clients: parse.GetValue(clients) is { Length: > 0 } levels ? levels : [1, 4, 16, 64, 256],
    Duration: parse.GetValue(duration) ?? TimeSpan.FromSeconds(20),
    Warmup: parse.GetValue(warmup) ?? TimeSpan.FromSeconds(3),
    ServerWarmup: parse.GetValue(serverWarmup) ?? TimeSpan.FromSeconds(30),
    Soak: parse.GetValue(soak),
    Url: parse.GetValue(url),
    ServerSettings: parse.GetValue(settings)!,
    ReportPath: parse.GetValue(report),
    Fairness: parse.GetValue(fairness))).RunAsync(ct));

var result = root.Parse(args);
if (result.Errors.Count > 0)
{
    foreach (var error in result.Errors) Console.Error.WriteLine(error.Message);
    Console.Error.WriteLine("See --help.");
    return 2;
}
return await result.InvokeAsync();

// A parse failure becomes the option's error message (System.CommandLine prints it; exit code 2 above).
static T Parse<T>(ArgumentResult r, Func<string, T> parse)
{
    var text = string.Join(",", r.Tokens.Select(t => t.Value));
    try { return parse(text); }
    catch (FormatException e)
    {
        r.AddError($"{r.Argument.Name}: {e.Message}");
        return default!;
    }
}

static int[] ParseClients(string text)
{
    var levels = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : throw new FormatException($"'{s}' is not a positive client count"))
        .ToArray();
    return levels.Length > 0 ? levels : throw new FormatException("no client counts given");
}

static TimeSpan ParseDuration(string text, bool allowZero)
{
    var s = text.Trim().ToLowerInvariant();
    var (number, unit) = s.EndsWith("ms") ? (s[..^2], 0.001)
        : s.EndsWith('s') ? (s[..^1], 1.0)
        : s.EndsWith('m') ? (s[..^1], 60.0)
        : s.EndsWith('h') ? (s[..^1], 3600.0)
        : (s, 1.0);
    if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || (value == 0 && !allowZero))
        throw new FormatException($"'{text}' is not a {(allowZero ? "" : "positive ")}duration like 20s, 2m, 500ms or 20");
    return TimeSpan.FromSeconds(value * unit);
}
