using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;

namespace SketchService.Api.Infrastructure;

/// <summary>
/// Who is calling, for a fair share per caller: its API key (by a prefix of the key's hash) when keys are on, else its
/// client address — taken from <c>X-Forwarded-For</c> only when the request came through a configured proxy
/// (<see cref="SketchServiceOptions.ForwardedProxies"/>, ASP.NET Core's forwarded-headers middleware). The scheduler
/// bounds each caller's rows and requests; a token bucket per caller (ASP.NET Core's rate limiter) bounds its rate.
/// </summary>
public static class Callers
{
    public const string RatePolicy = "caller-rate";

    /// <summary>The caller's name: "key:1a2b3c4d" or "ip:203.0.113.7". Never the key itself.</summary>
    public static string Of(HttpContext http) =>
        http.User.FindFirst(ApiKeys.CallerClaim)?.Value is { } key ? $"key:{key}" : $"ip:{http.Connection.RemoteIpAddress}";

    /// <summary>Endpoints whose callers' rate is bounded, when a rate is set.</summary>
    public static TBuilder RequireCallerRate<TBuilder>(this TBuilder builder, SketchServiceOptions options) where TBuilder : IEndpointConventionBuilder =>
        options.CallerRequestsPerSecond > 0 ? builder.RequireRateLimiting(RatePolicy) : builder;

    public static IServiceCollection AddSketchCallers(this IServiceCollection services, SketchServiceOptions options)
    {
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in options.ForwardedProxies.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                o.KnownProxies.Add(IPAddress.Parse(proxy));
        });
        services.AddRateLimiter(o =>
        {
            // Whole tokens at the exact rate: ⌈rate⌉ requests every ⌈rate⌉ / rate seconds (0: no limit, and no endpoint asks for this policy).
            var rate = options.CallerRequestsPerSecond;
            var tokens = Math.Max(1, (int)Math.Ceiling(rate));
            var period = TimeSpan.FromSeconds(rate > 0 ? tokens / rate : 1);
            o.AddPolicy(RatePolicy, http => RateLimitPartition.GetTokenBucketLimiter(Of(http), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.CallerBurst, TokensPerPeriod = tokens, ReplenishmentPeriod = period, QueueLimit = 0, AutoReplenishment = true,
                }));
            o.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Runtime.Scheduling.Retry.After;
                http.RequestServices.GetRequiredService<Runtime.Scheduling.SchedulerMetrics>().Failure("*", "caller_rate");
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                ApiProblemHandler.RetryAfter(http, retry);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests",
                        Detail = $"this caller sent more than {tokens} request(s) every {period.TotalSeconds:0.##} s (burst {options.CallerBurst}); retry after {Math.Ceiling(retry.TotalSeconds):0} s",
                    },
                });
            };
        });
        return services;
    }
}
