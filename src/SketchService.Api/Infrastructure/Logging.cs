using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Infrastructure;

/// <summary>
/// Serilog: settings from the "Serilog" configuration section, console output as text or compact JSON
/// (<c>SketchService:JsonConsoleLogging</c>), and one request-completion event per request carrying the
/// model id, endpoint, decoding steps and duration that the endpoints record in <see cref="RequestLog"/>.
/// </summary>
public static class Logging
{
    /// <summary>Logs start-up until the host's logger is configured (Program.cs).</summary>
    public static Serilog.ILogger CreateBootstrapLogger() =>
        new LoggerConfiguration().MinimumLevel.Information().WriteTo.Console().CreateBootstrapLogger();

    public static WebApplicationBuilder AddSketchLogging(this WebApplicationBuilder builder)
    {
        var json = builder.Configuration.GetValue<bool>($"{SketchServiceOptions.Section}:{nameof(SketchServiceOptions.JsonConsoleLogging)}");
        builder.Services.AddSerilog((services, lc) =>
        {
            lc.ReadFrom.Configuration(builder.Configuration)
              .ReadFrom.Services(services)
              .Enrich.FromLogContext();
            // A console sink configured under Serilog:WriteTo wins; otherwise pick text or compact JSON here.
            if (!builder.Configuration.GetSection("Serilog:WriteTo").Exists())
            {
                if (json) lc.WriteTo.Console(new RenderedCompactJsonFormatter());
                else lc.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}");
            }
        });
        builder.Services.AddScoped<RequestLog>();
        return builder;
    }

    public static IApplicationBuilder UseSketchRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(o =>
        {
            o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            o.GetLevel = (http, _, ex) => LevelOf(http, ex);
            o.GetMessageTemplateProperties = (http, path, elapsed, status) =>
            [
                new("RequestMethod", new ScalarValue(http.Request.Method)),
                new("RequestPath", new ScalarValue(path)),
                new("StatusCode", new ScalarValue(StatusOf(http, status))),
                new("Elapsed", new ScalarValue(elapsed)),
            ];
            o.EnrichDiagnosticContext = (diag, http) =>
            {
                diag.Set("Endpoint", http.GetEndpoint()?.DisplayName ?? "(none)");
                var log = http.RequestServices.GetService<RequestLog>();
                if (log?.ModelId is { } id) diag.Set("ModelId", id);
                if (log?.Steps is { } steps) diag.Set("Steps", steps);
                if (log?.DecodeMs is { } ms) diag.Set("DecodeMs", Math.Round(ms, 1));
                if (log?.Samples is { } n) diag.Set("Samples", n);
                if (log?.Failure is { } failure) diag.Set("Failure", failure);
            };
        });

    /// <summary>
    /// The status a request is logged with: 499 for a client that left before its answer started, as Kestrel's own
    /// request log says; an endpoint that finished without noticing leaves 200 in the response nobody received. A
    /// client that leaves once its answer has started (a stream, or one that closes as soon as it has read) keeps the
    /// status it was sent.
    /// </summary>
    public static int StatusOf(HttpContext http, int status) =>
        http.RequestAborted.IsCancellationRequested && !http.Response.HasStarted ? StatusCodes.Status499ClientClosedRequest : status;

    /// <summary>
    /// The level of a request's completion event. Probes poll: a healthy answer is Verbose, and "not ready" (503 while
    /// loading or draining) a Warning, not an error; a stream that failed after it started is an error whatever its status.
    /// </summary>
    public static LogEventLevel LevelOf(HttpContext http, Exception? ex) =>
        http.Request.Path.StartsWithSegments("/health") && ex is null
            ? http.Response.StatusCode < 400 ? LogEventLevel.Verbose : LogEventLevel.Warning
        : ex is not null || http.Response.StatusCode >= 500 || http.RequestServices?.GetService<RequestLog>()?.Failure is not null ? LogEventLevel.Error
        : LogEventLevel.Information;
}

/// <summary>Per-request facts the endpoints fill in for the request-completion log event.</summary>
public sealed class RequestLog
{
    public string? ModelId { get; set; }
    public int? Steps { get; set; }
    public double? DecodeMs { get; set; }
    public int? Samples { get; set; }

    /// <summary>Why decoding failed after the response had started (a stream): the request is then logged as an error.</summary>
    public string? Failure { get; set; }

    /// <summary>Records a finished decoding run: its samples, its longest sample's steps and its duration.</summary>
    public void Record(DecodeResult result)
    {
        Samples = result.Sketches.Count;
        Steps = result.Steps;
        DecodeMs = result.Duration.TotalMilliseconds;
    }
}
