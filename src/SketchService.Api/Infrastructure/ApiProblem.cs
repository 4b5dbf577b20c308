using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using SketchService.Inference.Batching;
using SketchService.Inference.Runtime;

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

    public static ApiProblem Invalid(string field, string message) =>
        new(StatusCodes.Status400BadRequest, "Invalid request", $"{field}: {message}", new Dictionary<string, string[]> { [field] = [message] });

    public static ApiProblem NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);

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
        ProblemDetails problem;
        switch (exception)
        {
            case ApiProblem p:
                problem = p.ToProblemDetails();
                break;
            case BadHttpRequestException b:
                problem = new ProblemDetails
                {
                    Status = b.StatusCode,
                    Title = b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request",
                    Detail = Describe(b),
                };
                break;
            case AdmissionRejectedException r:
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(r.RetryAfter.TotalSeconds)).ToString();
                problem = new ProblemDetails { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = r.Message };
                break;
            case DeadlineExceededException d:
                problem = new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Title = "Deadline exceeded", Detail = d.Message };
                break;
            case OperationCanceledException when http.RequestAborted.IsCancellationRequested:
                logger.LogInformation("Client disconnected from {Path}", http.Request.Path);
                http.Response.StatusCode = 499;
                return true;
            default:
                logger.LogError(exception, "Unhandled error on {Path}", http.Request.Path);
                problem = new ProblemDetails { Status = 500, Title = "Internal server error", Detail = "The server failed to handle the request; see its log." };
                break;
        }
        if (http.Response.HasStarted) return true; // e.g. a Server-Sent Events stream: nothing more can be said
        http.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The JSON error location ("$.sketch.strokes[2][0]") is the useful part of a System.Text.Json failure.</summary>
    private static string Describe(BadHttpRequestException b)
    {
        if (b.StatusCode == StatusCodes.Status413PayloadTooLarge) return b.Message;
        var inner = b.InnerException?.Message;
        return inner is null ? b.Message : $"{b.Message} {inner}";
    }
}

public static class ProblemSetup
{
    public static IServiceCollection AddApiProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= $"{c.HttpContext.Request.Method} {c.HttpContext.Request.Path}";
        });
        services.AddExceptionHandler<ApiProblemHandler>();
        return services;
    }
}
