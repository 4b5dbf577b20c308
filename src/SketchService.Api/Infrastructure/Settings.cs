using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SketchService.Api.Infrastructure;

/// <summary>The settings (<see cref="SketchServiceOptions"/>, checked at start) and what the host takes from them: Kestrel's limits, JSON, shutdown.</summary>
public static class Settings
{
    /// <summary>The settings as bound at start, for what the host is built from (endpoint conventions, Kestrel).</summary>
    public static SketchServiceOptions Read(IConfiguration configuration) =>
        configuration.GetSection(SketchServiceOptions.Section).Get<SketchServiceOptions>() ?? new();

    public static WebApplicationBuilder AddSketchSettings(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SketchServiceOptions>().BindConfiguration(SketchServiceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = Read(builder.Configuration);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(options.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5));
        });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict; // "samples": "16" is a 400, not 16
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow; // "maxSteps" is a 400, not the default silently
            o.SerializerOptions.PropertyNameCaseInsensitive = false; // "MAX_STEPS" too: fields are snake_case, as documented
            o.SerializerOptions.AllowDuplicateProperties = false; // {"max_steps":2,"max_steps":5} is a 400, not the last one winning
        });
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainSeconds + 5));
        builder.Services.AddSketchCors(options);
        builder.Services.AddSketchApiKeys();
        builder.Services.AddSketchCallers(options);
        return builder;
    }
}
