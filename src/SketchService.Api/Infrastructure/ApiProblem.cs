using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using SketchService.Runtime;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Infrastructure;

/// <summary>
/// A client error raised anywhere while handling a request; <see cref="ApiProblemHandler"/> turns it into a
/// ProblemDetails response. <see cref="Errors"/> maps field names (JSON paths such as <c>sketch.strokes[3]</c>) to messages.
/// </summary>
public sealed class ApiProblem(int status, string title, string detail, IDictionary<string, string[]>? errors = null,
    IDictionary<string, object?>? extensions = null) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public IDictionary<string, string[]>? Errors { get; } = errors;
    public IDictionary<string, object?>? Extensions { get; } = extensions;

    /// <summary>When a retry can succeed, how soon (the Retry-After header).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public static ApiProblem Invalid(string field, string message) =>
        new(StatusCodes.Status400BadRequest, "Invalid request", $"{field}: {message}", new Dictionary<string, string[]> { [field] = [message] });

    public static ApiProblem NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);

    public static ApiProblem Loading() =>
        new(StatusCodes.Status503ServiceUnavailable, "Models are loading", "The service is still loading its models; retry shortly (see /health/ready).")
        {
            RetryAfter = Retry.After,
        };

    /// <summary>The request is well-formed but the model cannot do it (e.g. a decoder-only model has no encoder).</summary>
    public static ApiProblem Unprocessable(string detail) => new(StatusCodes.Status422UnprocessableEntity, "Model cannot do this", detail);

    public ProblemDetails ToProblemDetails()
    {
        ProblemDetails problem = Errors is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(Errors);
        problem.Status = Status;
        problem.Title = Title;
        problem.Detail = Message;
        if (Extensions is not null)
            foreach (var (k, v) in Extensions) problem.Extensions[k] = v;
        return problem;
    }
}

/// <summary>
/// Maps exceptions to ProblemDetails: <see cref="ApiProblem"/> to its status, a full model to 429 with Retry-After, a
/// passed deadline to 503, malformed JSON / bad parameters
/// (<see cref="BadHttpRequestException"/>) to 400 or 413, a client that went away to 499, anything else to 500
/// (logged, without internals in the body).
/// </summary>
public sealed class ApiProblemHandler(IProblemDetailsService problems, ILogger<ApiProblemHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (http.RequestAborted.IsCancellationRequested)
        {
            // The client has gone: whatever went wrong, nobody reads an answer, and writing one would only fail.
            logger.LogInformation("Client disconnected from {Path} ({Reason})", http.Request.Path, exception.GetType().Name);
            http.Response.StatusCode = 499;
            return true;
        }
        ProblemDetails problem;
        switch (exception)
        {
            case ApiProblem p:
                if (p.RetryAfter is { } after) RetryAfter(http, after);
                problem = p.ToProblemDetails();
                break;
            case BadHttpRequestException { InnerException: JsonException json }:
                problem = JsonProblem(json).ToProblemDetails();
                break;
            case BadHttpRequestException b:
                problem = new ProblemDetails
                {
                    Status = b.StatusCode,
                    Title = b.StatusCode switch
                    {
                        StatusCodes.Status413PayloadTooLarge => "Request body too large",
                        StatusCodes.Status400BadRequest => "Bad request",
                        _ => null, // the status's reason phrase, as the status code pages give it
                    },
                    Detail = Describe(b, http),
                };
                break;
            case AdmissionRejectedException r:
                RetryAfter(http, r.RetryAfter);
                problem = new ProblemDetails { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = r.Message };
                break;
            case var e when DecodingStopped(e) is { } stopped:
                if (e is ServiceDrainingException d) RetryAfter(http, d.RetryAfter);
                problem = stopped;
                break;
            default:
                logger.LogError(exception, "Unhandled error on {Path}", http.Request.Path);
                problem = new ProblemDetails { Status = 500, Title = "Internal server error", Detail = "The server failed to handle the request; see its log." };
                break;
        }
        if (http.Response.HasStarted) return true; // e.g. a Server-Sent Events stream: nothing more can be said
        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The Retry-After header: whole seconds, rounded up.</summary>
    public static void RetryAfter(HttpContext http, TimeSpan after) => http.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString();

    /// <summary>
    /// A decoding stopped for a reason the client should hear (shutdown, deadline, a model output it cannot continue);
    /// null for anything else. Also what an event stream that already started says in its <c>event: error</c>.
    /// </summary>
    public static ProblemDetails? DecodingStopped(Exception e) => e switch
    {
        ServiceDrainingException => new() { Status = StatusCodes.Status503ServiceUnavailable, Title = "Shutting down", Detail = e.Message },
        DeadlineExceededException => new() { Status = StatusCodes.Status503ServiceUnavailable, Title = "Deadline exceeded", Detail = e.Message },
        NonFiniteOutputException => new() { Status = StatusCodes.Status422UnprocessableEntity, Title = "Model cannot do this", Detail = e.Message },
        _ => null,
    };

    private static string Describe(BadHttpRequestException b, HttpContext http)
    {
        if (b.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return limit is { } bytes ? $"the request body is over the limit of {bytes} bytes (SketchService:MaxBodyBytes)" : b.Message;
        }
        // ASP.NET Core's words for a missing body speak to the endpoint's author, not to the caller.
        if (b.Message.Contains("no body was provided", StringComparison.Ordinal)) return "the request needs a JSON object as its body";
        if (b.StatusCode == StatusCodes.Status415UnsupportedMediaType) return ProblemSetup.UnsupportedMediaType(http.Request);
        return ProblemSetup.Echo(b.Message, 1000);
    }

    /// <summary>
    /// A body System.Text.Json could not read, as a 400 naming the field by its JSON path ("sketch.strokes[2][0]") in the
    /// API's words: its messages name .NET types and members, which mean nothing to a caller.
    /// </summary>
    public static ApiProblem JsonProblem(JsonException e)
    {
        var path = e.Path is null or "$" ? "" : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path.TrimStart('$');
        var text = e.Message;
        string Quoted(string after) => text.IndexOf(after, StringComparison.Ordinal) is var i and >= 0 && text.IndexOf('\'', i + after.Length) is var j and >= 0
            ? text[(i + after.Length)..j] : "?";
        if (text.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var name = Quoted("The JSON property '");
            // The path ends at the unknown member itself, or at the object holding it.
            var member = path.Length == 0 ? name : path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path : $"{path}.{name}";
            // The snake_case hint only where the name is not snake_case already ("maxSteps"); "prior" on /complete needs none.
            var hint = name.Any(char.IsUpper) || name.Contains('-') ? " (fields are snake_case, e.g. max_steps)" : "";
            return ApiProblem.Invalid(ProblemSetup.Echo(member), "is not a field of this request" + hint);
        }
        var field = ProblemSetup.Echo(path.Length == 0 ? "body" : path);
        if (text.Contains("Duplicate", StringComparison.OrdinalIgnoreCase)) return ApiProblem.Invalid(field, "is given twice");
        if (text.Contains("could not be converted to", StringComparison.Ordinal))
        {
            var type = text[(text.IndexOf("could not be converted to", StringComparison.Ordinal) + 26)..];
            var expected = type.Contains("[]") || type.Contains("List") ? "must be an array"
                : type.Contains("Dictionary") ? "must be an object of named values"
                // System.Text.Json does not say which of quotes, a fraction, an exponent or a value past 32 bits it met;
                // the field's own range is checked once it is read (RequestPolicy).
                : type.Contains("Int32") || type.Contains("Int64") ? "must be a 32-bit integer: a JSON number without quotes, fraction or exponent"
                : type.Contains("Double") || type.Contains("Single") ? "must be a number"
                : type.Contains("String") ? "must be a string"
                : type.Contains("Boolean") ? "must be true or false"
                : "must be a JSON object";
            return ApiProblem.Invalid(field, expected);
        }
        // Malformed JSON: System.Text.Json's reason, without the position trailer the path already gives.
        var reason = text.IndexOf(" Path:", StringComparison.Ordinal) is var cut and > 0 ? text[..cut] : text;
        return ApiProblem.Invalid(field, $"is not valid JSON ({ProblemSetup.Echo(reason.TrimEnd('.'), 200)})");
    }
}

public sealed class ProblemJsonWriter(IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    private static readonly Dictionary<int, string> Types = new()
    {
        [400] = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        [401] = "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        [404] = "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        [405] = "https://tools.ietf.org/html/rfc9110#section-15.5.6",
        [413] = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        [406] = "https://tools.ietf.org/html/rfc9110#section-15.5.7",
        [408] = "https://tools.ietf.org/html/rfc9110#section-15.5.9",
        [415] = "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        [422] = "https://tools.ietf.org/html/rfc9110#section-15.5.21",
        [429] = "https://tools.ietf.org/html/rfc6585#section-4",
        [500] = "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        [503] = "https://tools.ietf.org/html/rfc9110#section-15.6.4",
    };

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Title ??= Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        problem.Type ??= Types.GetValueOrDefault(problem.Status.Value);
        var naming = json.Value.SerializerOptions.PropertyNamingPolicy;
        problem.Extensions.TryAdd(naming?.ConvertName("traceId") ?? "traceId", System.Diagnostics.Activity.Current?.Id ?? http.TraceIdentifier);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return WriteAsync(http, problem);
    }

    private async ValueTask WriteAsync(HttpContext http, ProblemDetails problem)
    {
        try
        {
            await http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json", http.RequestAborted);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && http.RequestAborted.IsCancellationRequested)
        {
            // The client went while its problem was written (a 429 in an overload, say): not a server error.
        }
    }
}

public static class ProblemSetup
{
    /// <summary>Longest input value echoed back in an error: a client's 1 MB model id is not sent back to it.</summary>
    public const int MaxEcho = 100;

    /// <summary><paramref name="value"/> as is, or its first <see cref="MaxEcho"/> characters and how many were left out.</summary>
    public static string Echo(string value, int max = MaxEcho) => value.Length <= max ? value : $"{value[..max]}… ({value.Length - max} more characters)";

    /// <summary>What a 415 says, whichever part of ASP.NET Core refused the body.</summary>
    public static string UnsupportedMediaType(HttpRequest request) =>
        $"the body must be JSON in UTF-8, sent as Content-Type: application/json; got '{Echo(request.ContentType is { Length: > 0 } type ? type : "none")}'";

    public static IServiceCollection AddApiProblems(this IServiceCollection services)
    {
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>(); // before AddProblemDetails' own writer, so it is asked first
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            var request = c.HttpContext.Request;
            c.ProblemDetails.Instance ??= $"{request.Method} {Echo(request.Path.Value ?? "")}";
            c.ProblemDetails.Detail ??= c.ProblemDetails.Status switch
            {
                StatusCodes.Status401Unauthorized => $"this service needs an API key: send it as Authorization: Bearer <key> or {ApiKeys.Header}: <key>",
                StatusCodes.Status404NotFound => $"no endpoint at {Echo(request.Path.Value ?? "")}; GET /swagger lists them",
                StatusCodes.Status405MethodNotAllowed => $"{Echo(request.Method)} is not allowed on {Echo(request.Path.Value ?? "")}"
                    + (c.HttpContext.Response.Headers.Allow is { Count: > 0 } allow ? $"; allowed: {allow}" : ""),
                StatusCodes.Status413PayloadTooLarge => c.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
                    ? $"the request body is over the limit of {limit} bytes (SketchService:MaxBodyBytes)" : "the request body is too large",
                StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType(request),
                _ => null,
            };
        });
        services.AddExceptionHandler<ApiProblemHandler>();
        return services;
    }
}
