using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SketchService.Client;

/// <summary>
/// What the service refused or could not do: its ProblemDetails (RFC 9457) — status, title, detail and, for invalid
/// input, the errors keyed by the JSON path of each field (<c>sketch.strokes[0][2]</c>). A stream that fails after it
/// started throws this too, with the problem of its <c>event: error</c>.
/// </summary>
public sealed class SketchServiceException : Exception
{
    /// <summary>The HTTP status (400 invalid input, 401 no key, 404 no such model, 422 the model cannot do it, 429 busy, 503 unavailable or past the deadline).</summary>
    public int Status { get; }

    /// <summary>The problem's title, e.g. "Invalid request".</summary>
    public string? Title { get; }

    /// <summary>What was wrong, e.g. "sketch.strokes[0][2]: pen_lifted must be 0 or 1".</summary>
    public string? Detail { get; }

    /// <summary>Field errors: JSON path → messages. Empty when the problem names no field.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The whole problem as sent, with the members specific to it (e.g. <c>cost</c> and <c>limit</c>, <c>position</c>).</summary>
    public JsonObject? Problem { get; }

    /// <summary>How long the service asked to wait before trying again (429, 503), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    internal SketchServiceException(int status, string? title, string? detail, IReadOnlyDictionary<string, string[]> errors, JsonObject? problem, TimeSpan? retryAfter)
        : base($"{status} {title ?? ((HttpStatusCode)status).ToString()}{(string.IsNullOrEmpty(detail) ? "" : $": {detail}")}")
    {
        (Status, Title, Detail, Errors, Problem, RetryAfter) = (status, title, detail, errors, problem, retryAfter);
    }

    /// <summary>
    /// The exception for a problem document; a body that is not one (Kestrel answers some malformed requests with an
    /// empty body, a proxy may answer with HTML) becomes the detail, shortened.
    /// </summary>
    internal static SketchServiceException From(int status, string? body, TimeSpan? retryAfter)
    {
        JsonObject? problem = null;
        try { problem = string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { }
        if (problem is null)
        {
            var text = body?.Trim() ?? "";
            return new(status, null, text.Length > 300 ? text[..300] + "…" : text, new Dictionary<string, string[]>(), null, retryAfter);
        }
        var errors = new Dictionary<string, string[]>();
        if (problem["errors"] is JsonObject fields)
            foreach (var (field, messages) in fields)
                errors[field] = messages is JsonArray list ? [.. list.Select(m => m?.ToString() ?? "")] : [messages?.ToString() ?? ""];
        var statusInBody = problem["status"] is JsonValue s && s.TryGetValue<int>(out var n) ? n : status;
        return new(statusInBody, Text(problem["title"]), Text(problem["detail"]), errors, problem, retryAfter);

        static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var t) ? t : null;
    }
}
