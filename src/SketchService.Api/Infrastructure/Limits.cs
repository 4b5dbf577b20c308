using Microsoft.Extensions.Options;

namespace SketchService.Api.Infrastructure;

/// <summary>Checks request numbers against <see cref="SketchServiceOptions"/>, naming the field and the limit.</summary>
public sealed class Limits(IOptions<SketchServiceOptions> options)
{
    public SketchServiceOptions Options { get; } = options.Value;

    public int Steps(int? value, string field = "max_steps")
    {
        var v = value ?? Math.Min(Options.DefaultSteps, Options.MaxSteps);
        if (v < 1 || v > Options.MaxSteps) throw ApiProblem.Invalid(field, $"must be between 1 and {Options.MaxSteps}; got {v}");
        return v;
    }

    public int Samples(int? value, string field = "samples")
    {
        var v = value ?? 1;
        if (v < 1 || v > Options.MaxSamples) throw ApiProblem.Invalid(field, $"must be between 1 and {Options.MaxSamples}; got {v}");
        return v;
    }

    public double Temperature(double? value, string field = "temperature")
    {
        var v = value ?? Options.DefaultTemperature;
        if (!double.IsFinite(v) || v < 0 || v > Options.MaxTemperature)
            throw ApiProblem.Invalid(field, $"must be a number between 0 and {Options.MaxTemperature}; got {v}");
        return v;
    }

    /// <summary>The seed as given, or a fresh random one (returned in the response so the result can be reproduced).</summary>
    public static int Seed(int? value) => value ?? Random.Shared.Next();

    public static float[] Latent(float[]? z, int size, string field)
    {
        if (z is null) throw ApiProblem.Invalid(field, $"a latent vector of {size} numbers is required");
        if (z.Length != size) throw ApiProblem.Invalid(field, $"must have {size} numbers (the model's latent size); got {z.Length}");
        for (var i = 0; i < z.Length; i++)
            if (!float.IsFinite(z[i])) throw ApiProblem.Invalid($"{field}[{i}]", "must be a finite number");
        return z;
    }
}
