using System.Text;
using System.Text.Json.Nodes;

namespace SketchService.Client;

// What each endpoint answers (docs/api.md). Fields the service adds later are ignored, so an older client keeps working.

/// <summary>A drawing the model made, in both forms.</summary>
public sealed record DrawnSketch(IReadOnlyList<StrokeRow> Strokes, IReadOnlyList<Polyline> Polylines, int Steps, bool EndedByItself);

/// <summary>How one decoding went: steps, time, and how many drawings ended by themselves.</summary>
public sealed record DecodeStats(int Steps, double DurationMs, double QueuedMs, int EndedByThemselves, int Samples);

/// <summary>The answer of /encode.</summary>
public sealed record SketchEncoding(string Model, float[] Mu, float[] Sigma, float[]? Z, int? Seed);

/// <summary>The answer of /complete: each sketch is the given points followed by the model's.</summary>
public sealed record Completion(string Model, string Condition, float[]? Z, int Seed, double Temperature, int PrefixPoints,
    IReadOnlyList<DrawnSketch> Sketches, DecodeStats Stats);

/// <summary>The answer of /decode and /generate: one z per drawing (null for decoder-only models).</summary>
public sealed record Drawings(string Model, int Seed, double Temperature, IReadOnlyList<float[]?> Z, IReadOnlyList<DrawnSketch> Sketches,
    DecodeStats Stats)
{
    /// <summary>/generate: data, standard or none (decoder-only).</summary>
    public string? Prior { get; init; }
}

/// <summary>One frame of an interpolation.</summary>
public sealed record InterpolationFrame(double T, float[] Z, DrawnSketch Sketch);

/// <summary>The answer of /interpolate.</summary>
public sealed record Interpolation(string Model, string Method, int Seed, double Temperature, IReadOnlyList<InterpolationFrame> Frames, DecodeStats Stats);

/// <summary>The answer of /arithmetic: the expression's z, each operand's z, and the drawing.</summary>
public sealed record ArithmeticResult(string Model, string Expression, float[] Z, IReadOnlyDictionary<string, float[]> Operands, int Seed,
    double Temperature, DrawnSketch Sketch, DecodeStats Stats);

/// <summary>A served model.</summary>
public sealed record ModelSummary(string Id, string Name, string Kind, string Source, int DecoderSize, int LatentSize, bool IsDefault);

/// <summary>The answer of GET /models: the models served, and the folders that could not be loaded with why.</summary>
public sealed record ModelList(IReadOnlyList<ModelSummary> Models, IReadOnlyDictionary<string, string> Failed);

/// <summary>The answer of GET /models/{id}: its model.json and its ONNX graphs' inputs and outputs, as JSON.</summary>
public sealed record ModelDetails(string Id, bool IsDefault, JsonObject Manifest, JsonArray Graphs);

/// <summary>The pen after a streamed point (on the wire: down, up, end).</summary>
public enum Pen
{
    /// <summary>The pen stays down: a line goes to the next point.</summary>
    Down,
    /// <summary>The pen lifts: the next point starts a new stroke.</summary>
    Up,
    /// <summary>The drawing ends; this point is not part of it.</summary>
    End,
}

/// <summary>One point of a streamed completion, in the caller's units: the offset and the absolute position.</summary>
public sealed record CompletionPoint(int Sample, int Step, double Dx, double Dy, double X, double Y, Pen Pen);

/// <summary>A drawing as a picture.</summary>
public sealed record SketchImage(string ContentType, byte[] Bytes)
{
    /// <summary>The SVG markup (for <see cref="ImageFormat.Svg"/>).</summary>
    public string Text => Encoding.UTF8.GetString(Bytes);
}
