using System.Globalization;
using System.Text;

namespace SketchService.LoadTest;

/// <summary>The markdown report: one section and table per model.</summary>
public static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Nearest-rank percentile of sorted samples (NaN when there are none).</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static string Render(IReadOnlyList<ModelRun> runs)
    {
        var md = new StringBuilder();
        md.AppendLine("# SketchService load test: POST /complete");
        md.AppendLine();
        md.AppendLine("Each level runs N clients that loop on one request at a time: even-numbered clients stream (SSE), odd ones ask for JSON. "
            + "Points are streamed `step` events, or a JSON response's `stats.steps`. Everything observed during the measured time counts "
            + "(requests that started in the warm-up included); requests still running when a level ends are dropped. "
            + "Percentiles are nearest-rank over all samples; first point and gap are SSE only, JSON latency is the whole response.");
        foreach (var run in runs) Section(md, run);
        return md.ToString();
    }

    private static void Section(StringBuilder md, ModelRun run)
    {
        var o = run.Options;
        md.AppendLine();
        md.AppendLine(Invariant, $"## `{run.Id}` ({run.Info.Kind}, decoder {run.Info.DecoderSize} units)");
        md.AppendLine();
        md.AppendLine(Invariant, $"- model: `--model {run.Model}`; request: the same 4-point sketch, samples 1, temperature 0.5, max_steps 250, condition {(run.Info.Kind == "vae" ? "auto (the service's default for a VAE)" : "none")}, seed = client × 100000 + request number");
        md.AppendLine(Invariant, $"- server: {(run.Started ? "started here on loopback" : $"{o.Url} (not started here: RSS n/a)")}{(o.ServerSettings.Count > 0 ? "; settings " + string.Join(", ", o.ServerSettings.Select(s => $"`{s}`")) : "")}");
        md.AppendLine(Invariant, $"- machine: {run.Machine.Cpus} logical CPUs ({run.Machine.CpuModel}), load average {run.Machine.LoadAverage} at the start{(run.Started ? "; the server and the clients share it" : "")}");
        md.AppendLine(Invariant, $"- server warm-up: {Seconds(o.ServerWarmup)} at 16 clients, not reported; each level: {Seconds(o.Warmup)} warm-up, then {Seconds(o.Duration)} measured");
        md.AppendLine(Invariant, $"- date: {run.Date:yyyy-MM-dd HH:mm zzz}");
        md.AppendLine();
        if (run.Levels.Count > 0)
        {
            Table(md, run.Levels);
            if (Speedup(run.Levels) is { } speedup) md.AppendLine().AppendLine(speedup);
            Errors(md, run.Levels);
        }
        if (run.Fairness is { } fair) Fairness(md, fair);

        if (run.Soak is { } soak)
        {
            md.AppendLine();
            md.AppendLine(Invariant, $"### Soak: {soak.Clients} clients for {Seconds(soak.Duration)}");
            md.AppendLine();
            Table(md, [soak]);
            Errors(md, [soak]);
            md.AppendLine();
            md.AppendLine("| time (s) | RSS (MiB) |");
            md.AppendLine("|---:|---:|");
            foreach (var (at, mib) in soak.RssTimeline) md.AppendLine(Invariant, $"| {at.TotalSeconds:0} | {Mib(mib)} |");
            if (soak.RssTimeline.Count == 0) md.AppendLine("| n/a | n/a |");
        }
    }

    private static void Fairness(StringBuilder md, FairnessResult f)
    {
        md.AppendLine(Invariant, $"### Fair share: {SketchService.LoadTest.Fairness.Polite} polite callers (one JSON request at a time each), alone and beside a greedy caller with {SketchService.LoadTest.Fairness.GreedyStreams} streams");
        md.AppendLine();
        md.AppendLine("Callers are told apart by API key. Every caller honours Retry-After. Each phase is measured for " + Seconds(f.Duration) + ".");
        md.AppendLine();
        md.AppendLine("| phase | polite requests | polite 429s | polite errors | polite latency p50 / p99 (ms) | greedy streams done | greedy 429s | greedy errors | greedy points/s |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in new[] { f.Idle, f.Loaded })
            md.AppendLine(Invariant, $"| {(p.Greedy ? "beside the greedy caller" : "alone (idle server)")} | {p.PoliteOk} | {p.PoliteTooMany} | {p.PoliteErrors} | " +
                                     $"{Ms(p.PoliteP(0.5))} / {Ms(p.PoliteP(0.99))} | {(p.Greedy ? p.GreedyOk : "–")} | {(p.Greedy ? p.GreedyTooMany : "–")} | " +
                                     $"{(p.Greedy ? p.GreedyErrors : "–")} | {(p.Greedy ? (p.GreedyPoints / f.Duration.TotalSeconds).ToString("N0", Invariant) : "–")} |");
        md.AppendLine();
        md.AppendLine(Invariant, $"Polite p99 beside the greedy caller: {f.P99Ratio:0.00}× the idle one (target ≤ 2×); polite 429s: {f.Loaded.PoliteTooMany} (target 0): " +
                                 $"**{(f.Holds ? "holds" : "does not hold")}**.");
    }

    private static void Table(StringBuilder md, IReadOnlyList<LevelResult> levels)
    {
        md.AppendLine("| clients | points/s | first point p50 / p99 (SSE, ms) | JSON latency p50 / p99 (ms) | gap between points p50 / p99 (ms) | requests done | 429s (latency p99 / max ms) | 5xx | other errors | RSS start → end (max) MiB |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in levels)
        {
            var tooMany = r.TooMany == 0 ? "0" : $"{r.TooMany} ({Ms(Percentile(r.TooManyMs, 99))} / {Ms(r.TooManyMs[^1])})";
            var rss = double.IsNaN(r.RssStartMiB) ? "n/a" : $"{Mib(r.RssStartMiB)} → {Mib(r.RssEndMiB)} ({Mib(r.RssMaxMiB)})";
            md.AppendLine(Invariant,
                $"| {r.Clients} | {r.PointsPerSecond.ToString("N0", Invariant)} | {P50P99(r.FirstPointMs)} | {P50P99(r.JsonLatencyMs)} | {P50P99(r.GapMs)} | {r.Requests} | {tooMany} | {r.ServerErrors} | {r.OtherErrors} | {rss} |");
        }
    }

    /// <summary>"64 clients give X× the points/s of 1 client", or the highest level against the lowest when those are not run.</summary>
    private static string? Speedup(IReadOnlyList<LevelResult> levels)
    {
        if (levels.Count < 2) return null;
        var low = levels.FirstOrDefault(l => l.Clients == 1) ?? levels.MinBy(l => l.Clients)!;
        var high = levels.FirstOrDefault(l => l.Clients == 64) ?? levels.MaxBy(l => l.Clients)!;
        if (low.Clients == high.Clients || low.PointsPerSecond == 0) return null;
        return string.Create(Invariant,
            $"{high.Clients} clients give {high.PointsPerSecond / low.PointsPerSecond:0.0}× the points/s of {low.Clients} client{(low.Clients == 1 ? "" : "s")}.");
    }

    private static void Errors(StringBuilder md, IReadOnlyList<LevelResult> levels)
    {
        var failing = levels.Where(l => l.ErrorKinds.Count > 0).ToList();
        if (failing.Count == 0) return;
        md.AppendLine();
        md.AppendLine("Errors by kind:");
        md.AppendLine();
        foreach (var l in failing)
            foreach (var (kind, count) in l.ErrorKinds.OrderByDescending(kv => kv.Value).Take(10))
                md.AppendLine(Invariant, $"- {l.Clients} clients: {count} × {kind.Replace("|", "\\|")}");
    }

    private static string P50P99(double[] sorted) =>
        sorted.Length == 0 ? "–" : $"{Ms(Percentile(sorted, 50))} / {Ms(Percentile(sorted, 99))}";

    // Three significant digits or so; sub-millisecond gaps need the extra decimals.
    private static string Ms(double ms) => ms.ToString(ms < 1 ? "0.000" : ms < 10 ? "0.00" : ms < 100 ? "0.0" : "0", Invariant);

    private static string Mib(double mib) => double.IsNaN(mib) ? "n/a" : mib.ToString("0", Invariant);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", Invariant) + " s";
}
