namespace SketchService.Api.Infrastructure;

/// <summary>
/// Cross-origin calls (a p5.js sketch in an online editor, an app's own site) through ASP.NET Core's CORS middleware:
/// one policy for the API endpoints, from <see cref="SketchServiceOptions.AllowedOrigins"/>; no credentials, so "*" is
/// safe for a service without cookies. Retry-After is exposed so a browser client can honour a 429.
/// </summary>
public static class Cors
{
    public const string Policy = "api";

    public static IServiceCollection AddSketchCors(this IServiceCollection services, SketchServiceOptions options)
    {
        services.AddCors(o => o.AddPolicy(Policy, p =>
        {
            var origins = options.AllowedOrigins.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (origins.Contains("*")) p.AllowAnyOrigin();
            else p.WithOrigins(origins);
            p.WithMethods("GET", "POST")
             .WithHeaders("Content-Type", "Accept", "Authorization", ApiKeys.Header)
             .WithExposedHeaders("Retry-After")
             .SetPreflightMaxAge(TimeSpan.FromHours(1));
        }));
        return services;
    }
}
