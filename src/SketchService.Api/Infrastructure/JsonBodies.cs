using Microsoft.Net.Http.Headers;

namespace SketchService.Api.Infrastructure;

/// <summary>
/// Request bodies are JSON in UTF-8, as RFC 8259 (section 8.1) asks of JSON between systems. A Content-Type that names
/// another charset is a 415 before anything reads the body: ASP.NET Core would decode some (latin-1, UTF-16) and throw
/// a bare InvalidOperationException, a 500, for the others.
/// </summary>
public static class JsonBodies
{
    public static IApplicationBuilder UseUtf8JsonBodies(this IApplicationBuilder app) => app.Use((http, next) =>
        NamesAnotherCharset(http.Request.ContentType)
            ? throw new ApiProblem(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", ProblemSetup.UnsupportedMediaType(http.Request))
            : next(http));

    public static bool NamesAnotherCharset(string? contentType) =>
        contentType is not null && contentType.Contains("charset", StringComparison.OrdinalIgnoreCase) // most requests stop here
        && MediaTypeHeaderValue.TryParse(contentType, out var type) && type.Charset.HasValue
        && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !type.Charset.Equals("\"utf-8\"", StringComparison.OrdinalIgnoreCase);
}
