using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace SketchService.Api.Infrastructure;

/// <summary>
/// Optional API keys through ASP.NET Core's authentication and authorization middleware. Off when no key hash is
/// configured (local use stays one command); on, every API endpoint and /metrics need <c>Authorization: Bearer &lt;key&gt;</c>
/// or <c>X-Api-Key: &lt;key&gt;</c>, while the health checks stay open for probes. Only SHA-256 hashes of the keys are
/// configured (<see cref="SketchServiceOptions.ApiKeyHashes"/>, or a mounted file); a key is hashed and compared with
/// every configured hash in constant time, and neither a key nor its hash is ever logged.
/// </summary>
public static class ApiKeys
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    /// <summary>The claim naming a caller by a short prefix of its key's hash: enough to tell callers apart, useless to an attacker.</summary>
    public const string CallerClaim = "caller";

    /// <summary>The configured key hashes, read once at start; keys are on when there is one.</summary>
    public sealed record KnownKeys(IReadOnlyList<byte[]> Hashes)
    {
        public bool Enabled => Hashes.Count > 0;
    }

    /// <summary>
    /// The key hashes (hex SHA-256) of the setting and the file, separated by commas, spaces or lines; an entry that
    /// is not one stops the start with its position (never its text: hashes are not logged).
    /// </summary>
    public static KnownKeys Load(SketchServiceOptions options)
    {
        static IEnumerable<byte[]> Read(string text, string source) =>
            text.Split([',', '\n', '\r', ' '], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select((h, i) =>
                h.Length == 2 * SHA256.HashSizeInBytes && h.All(char.IsAsciiHexDigit) ? Convert.FromHexString(h)
                    : throw new InvalidOperationException($"API key hash {i + 1} of {source} is not a SHA-256 in hex (64 hex digits)"));
        return new([.. Read(options.ApiKeyHashes, "SketchService:ApiKeyHashes"),
            .. options.ApiKeyHashesFile is { Length: > 0 } file ? Read(File.ReadAllText(file), $"SketchService:ApiKeyHashesFile ({Path.GetFileName(file)})") : []]);
    }

    public static IServiceCollection AddSketchApiKeys(this IServiceCollection services)
    {
        services.AddSingleton(sp => Load(sp.GetRequiredService<IOptions<SketchServiceOptions>>().Value));
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, null);
        services.AddAuthorization();
        return services;
    }

    /// <summary>Endpoints that need a key when keys are on.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, KnownKeys keys) where TBuilder : IEndpointConventionBuilder =>
        keys.Enabled ? builder.RequireAuthorization() : builder;

    private sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> schemes, ILoggerFactory logger, UrlEncoder encoder, KnownKeys known)
        : AuthenticationHandler<AuthenticationSchemeOptions>(schemes, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            // The framework runs authentication for every request once a scheme is registered, keys on or off.
            if (!known.Enabled) return Task.FromResult(AuthenticateResult.NoResult());
            var key = Request.Headers[Header].FirstOrDefault()
                ?? (Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth[7..].Trim() : null);
            if (string.IsNullOrEmpty(key)) return Task.FromResult(AuthenticateResult.NoResult());
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            var match = false;
            foreach (var h in known.Hashes) match |= CryptographicOperations.FixedTimeEquals(hash, h); // every hash, whatever matched
            if (!match) return Task.FromResult(AuthenticateResult.Fail("the API key is not known"));
            var identity = new ClaimsIdentity([new Claim(CallerClaim, Convert.ToHexStringLower(hash)[..8])], ApiKeys.Scheme);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeys.Scheme)));
        }

        protected override Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask; // the status code pages write the problem
        }
    }
}
