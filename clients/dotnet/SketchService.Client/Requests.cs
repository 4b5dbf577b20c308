namespace SketchService.Client;

// What each endpoint takes. A property left null is not sent, and the service uses its default (docs/api.md).

/// <summary>POST /encode: a sketch → its latent code (VAE models).</summary>
public sealed record EncodeRequest
{
    /// <summary>Model id; default: the service's default model.</summary>
    public string? Model { get; init; }
    /// <summary>The whole drawing to encode.</summary>
    public required SketchInput Sketch { get; init; }
    /// <summary>With a seed, z = μ + σ·ε is sampled too.</summary>
    public int? Seed { get; init; }
}

/// <summary>POST /complete: continue a partial sketch.</summary>
public sealed record CompleteRequest
{
    /// <summary>Model id; default: the service's default model.</summary>
    public string? Model { get; init; }
    /// <summary>The partial drawing to continue.</summary>
    public required SketchInput Sketch { get; init; }
    /// <summary>auto (default), z, encoding, prior or none.</summary>
    public string? Condition { get; init; }
    /// <summary>The latent z to condition on (condition z).</summary>
    public float[]? Z { get; init; }
    /// <summary>How many continuations (default 1).</summary>
    public int? Samples { get; init; }
    /// <summary>Sampling temperature τ (default the service's, 0.5).</summary>
    public double? Temperature { get; init; }
    /// <summary>The same seed, model and request give the same drawings.</summary>
    public int? Seed { get; init; }
    /// <summary>Most points to draw after the given ones.</summary>
    public int? MaxSteps { get; init; }
}

/// <summary>POST /decode: a latent z → drawings (VAE models).</summary>
public sealed record DecodeRequest
{
    /// <summary>Model id; default: the service's default model.</summary>
    public string? Model { get; init; }
    /// <summary>The latent vector (the model's latent_size numbers).</summary>
    public required float[] Z { get; init; }
    /// <summary>How many drawings from this z (default 1).</summary>
    public int? Samples { get; init; }
    /// <summary>Sampling temperature τ.</summary>
    public double? Temperature { get; init; }
    /// <summary>Random seed.</summary>
    public int? Seed { get; init; }
    /// <summary>Most points per drawing.</summary>
    public int? MaxSteps { get; init; }
}

/// <summary>POST /generate: new drawings from the model's prior.</summary>
public sealed record GenerateRequest
{
    /// <summary>Model id; default: the service's default model.</summary>
    public string? Model { get; init; }
    /// <summary>How many drawings (default 1).</summary>
    public int? Samples { get; init; }
    /// <summary>data (the model's fitted prior, the default when it has one) or standard (N(0, I)).</summary>
    public string? Prior { get; init; }
    /// <summary>Sampling temperature τ.</summary>
    public double? Temperature { get; init; }
    /// <summary>Random seed.</summary>
    public int? Seed { get; init; }
    /// <summary>Most points per drawing.</summary>
    public int? MaxSteps { get; init; }
}

/// <summary>A latent value: a z, or a sketch whose encoding (posterior mean) stands for it.</summary>
public sealed record LatentOperand
{
    /// <summary>A latent vector.</summary>
    public float[]? Z { get; init; }
    /// <summary>Or a sketch as stroke-3 rows.</summary>
    public IReadOnlyList<StrokeRow>? Strokes { get; init; }
    /// <summary>Or a sketch as absolute strokes.</summary>
    public IReadOnlyList<Polyline>? Polylines { get; init; }
    /// <summary>With polylines: the side of the square they were drawn in; without it, the drawing is resized to its own box.</summary>
    public double? Frame { get; init; }

    /// <summary>A z given as is.</summary>
    public static LatentOperand FromZ(float[] z) => new() { Z = z };

    /// <summary>The encoding of a sketch, a whole drawing: polylines are drawn in their Frame when they give one, else resized to their own box.</summary>
    public static LatentOperand FromSketch(SketchInput sketch) => new() { Strokes = sketch.Strokes, Polylines = sketch.Polylines, Frame = sketch.Polylines is null ? null : sketch.Frame };

    /// <summary>A z, as an operand.</summary>
    public static implicit operator LatentOperand(float[] z) => FromZ(z);

    /// <summary>A sketch, as an operand.</summary>
    public static implicit operator LatentOperand(SketchInput sketch) => FromSketch(sketch);
}

/// <summary>POST /interpolate: drawings along the way between two latent values.</summary>
public sealed record InterpolateRequest
{
    /// <summary>Model id; default: the service's default model.</summary>
    public string? Model { get; init; }
    /// <summary>Where the frames start.</summary>
    public required LatentOperand From { get; init; }
    /// <summary>Where they end.</summary>
    public required LatentOperand To { get; init; }
    /// <summary>Frames, both ends included (default 5).</summary>
    public int? N { get; init; }
    /// <summary>slerp (default) or lerp.</summary>
    public string? Method { get; init; }
    /// <summary>Sampling temperature τ.</summary>
    public double? Temperature { get; init; }
    /// <summary>Random seed.</summary>
    public int? Seed { get; init; }
    /// <summary>Most points per frame.</summary>
    public int? MaxSteps { get; init; }
}

/// <summary>POST /arithmetic: decode a latent expression such as <c>cat_head + (pig_body - pig_head)</c>.</summary>
public sealed record ArithmeticRequest
{
    /// <summary>Model id; default: the service's default model.</summary>
    public string? Model { get; init; }
    /// <summary>The expression: names, numbers, + − × / and parentheses.</summary>
    public required string Expression { get; init; }
    /// <summary>A value for every name in the expression.</summary>
    public required IReadOnlyDictionary<string, LatentOperand> Operands { get; init; }
    /// <summary>Sampling temperature τ.</summary>
    public double? Temperature { get; init; }
    /// <summary>Random seed.</summary>
    public int? Seed { get; init; }
    /// <summary>Most points to draw.</summary>
    public int? MaxSteps { get; init; }
}

/// <summary>How a drawing comes back as a picture.</summary>
public enum ImageFormat
{
    /// <summary>image/svg+xml.</summary>
    Svg,
    /// <summary>image/png (8-bit grayscale).</summary>
    Png,
}
