namespace SketchService.Api.Responses;

/// <summary>How an answer is sent.</summary>
public enum OutputFormat { Json, Svg, Png, EventStream }

public static class OutputFormats
{
    /// <summary>The media type an answer is sent as.</summary>
    public static string MediaType(this OutputFormat format) => format switch
    {
        OutputFormat.EventStream => "text/event-stream",
        OutputFormat.Svg => "image/svg+xml",
        OutputFormat.Png => "image/png",
        _ => "application/json",
    };
}
