using SketchService.Api;
using SketchService.Api.Features.Arithmetic;
using SketchService.Api.Features.Complete;
using SketchService.Api.Features.Decode;
using SketchService.Api.Features.Encode;
using SketchService.Api.Features.Interpolate;
using SketchService.Api.Features.Models;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
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
    builder.AddSketchSettings();
    builder.Services.AddApiProblems();
    builder.Services.AddSketchSwagger();
    builder.Services.AddSketchHealthChecks();
    builder.Services.AddSketchMetrics();
    builder.Services.AddModelStore();
    builder.Services.AddScoped<RequestPolicy>();
    builder.Services.AddHostedService<ShutdownDrain>();

    var app = builder.Build();
    var settings = Settings.Read(app.Configuration);
    var keys = app.Services.GetRequiredService<ApiKeys.KnownKeys>();
    // Middleware only where a setting asks for it: each one costs every request something.
    if (settings.ForwardedProxies.Length > 0) app.UseForwardedHeaders(); // the client's address through those proxies only
    var managementPorts = app.ListenOnManagementPort(settings);
    if (managementPorts.Count > 0) app.UseSketchMetricsOnManagementPort(managementPorts);
    app.UseSketchRequestLogging(); // outermost, so it logs the status the exception handler chose
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseUtf8JsonBodies();
    app.UseSwagger();
    app.UseSwaggerUI(o => o.DocumentTitle = "SketchService");
    app.UseDefaultFiles(); // "/" is the playground (wwwroot/index.html); Swagger stays at /swagger
    app.UseStaticFiles();
    app.UseCors();
    if (keys.Enabled)
    {
        app.UseAuthentication();
        app.UseAuthorization();
    }
    if (settings.CallerRequestsPerSecond > 0) app.UseRateLimiter();
    app.MapSketchHealthChecks();
    if (managementPorts.Count == 0) app.MapSketchMetrics().RequireApiKey(keys);
    app.MapClientScript();
    var api = app.MapGroup("").RequireCors(Cors.Policy).RequireApiKey(keys).RequireCallerRate(settings);
    api.MapModelEndpoints();
    api.MapEncodeEndpoints();
    api.MapCompleteEndpoints();
    api.MapDecodeEndpoints();
    api.MapInterpolateEndpoints();
    api.MapArithmeticEndpoints();
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
