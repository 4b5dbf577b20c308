namespace SketchService.Api.Requests;

/// <summary>How an answer is sent.</summary>
public enum OutputFormat { Json, Svg, Png, EventStream }
