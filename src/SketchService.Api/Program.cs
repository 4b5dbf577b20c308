using System.Text.Json;
using System.Text.Json.Serialization;
using SketchService.Api;
using SketchService.Api.Endpoints;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;
using Serilog;

// Container health check (no shell or curl in the chiseled image): GET /health/ready, exit 0 or 1, no host started.
if (Probe.IsRequested(args))
{
    Environment.ExitCode = await Probe.RunAsync(args[1..], Console.Out);
    return;
}

Log.Logger = Logging.CreateBootstrapLogger();
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddSketchLogging();
    builder.Services.AddOptions<SketchServiceOptions>().BindConfiguration(SketchServiceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
    var options = builder.Configuration.GetSection(SketchServiceOptions.Section).Get<SketchServiceOptions>() ?? new();
    builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
    builder.Services.ConfigureHttpJsonOptions(o =>
    {
        o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.SerializerOptions.DictionaryKeyPolicy = null;
        o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict; // "samples": "16" is a 400, not 16
    });
    builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
    builder.Services.AddApiProblems();
    builder.Services.AddSketchSwagger();
    builder.Services.AddSketchHealthChecks();
    builder.Services.AddSingleton<ModelCatalog>();
    builder.Services.AddHostedService<ModelLoader>();
    builder.Services.AddHostedService<ShutdownDrain>();
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainSeconds + 5));
    builder.Services.AddSketchMetrics();
    builder.Services.AddSingleton<Limits>();

    var app = builder.Build();
    app.UseSketchRequestLogging(); // outermost, so it logs the status the exception handler chose
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseSwagger();
    app.UseSwaggerUI(o => o.DocumentTitle = "SketchService");
    app.UseDefaultFiles(); // "/" is the playground (wwwroot/index.html); Swagger stays at /swagger
    app.UseStaticFiles();
    app.MapSketchHealthChecks();
    app.MapSketchMetrics();
    app.MapModelEndpoints();
    app.MapEncodeEndpoints();
    app.MapCompleteEndpoints();
    app.MapDecodeEndpoints();
    app.MapInterpolateEndpoints();
    app.MapArithmeticEndpoints();
    app.Run();
}
catch (Exception e) when (e is not HostAbortedException)
{
    Log.Fatal(e, "SketchService failed to start");
    throw;
}
finally
{
    Log.CloseAndFlush();
}

public partial class Program;
