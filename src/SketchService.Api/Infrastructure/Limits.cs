using Microsoft.Extensions.Options;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Infrastructure;

/// <summary>Checks request numbers against <see cref="SketchServiceOptions"/>, naming the field and the limit.</summary>
public sealed class Limits(IOptions<SketchServiceOptions> options, BatchMetrics metrics)
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
        var max = Math.Min(Options.MaxSamples, Options.MaxLiveRows);
        if (v < 1 || v > max) throw ApiProblem.Invalid(field, $"must be between 1 and {max}; got {v}");
        return v;
    }

    /// <summary>
    /// One request's decoder work, samples × (prefix points + max_steps), against <see cref="SketchServiceOptions.MaxRequestCost"/>:
    /// a 400 naming the limit, counted as a cost_limit failure.
    /// </summary>
    public void Cost(string model, int samples, int prefixPoints, int maxSteps)
    {
        long cost = (long)samples * (prefixPoints + maxSteps);
        if (cost <= Options.MaxRequestCost) return;
        metrics.Failure(model, "cost_limit");
        throw new ApiProblem(StatusCodes.Status400BadRequest, "Request too costly",
            $"samples × (prefix points + max_steps) = {samples} × ({prefixPoints} + {maxSteps}) = {cost}; the limit is {Options.MaxRequestCost}",
            new Dictionary<string, string[]> { ["max_steps"] = [$"with {samples} sample(s) and {prefixPoints} prefix points, max_steps can be at most {Math.Max(0, Options.MaxRequestCost / samples - prefixPoints)}"] },
            new Dictionary<string, object?> { ["cost"] = cost, ["limit"] = Options.MaxRequestCost });
    }

    public double Temperature(double? value, string field = "temperature")
    {
        var v = value ?? Options.DefaultTemperature;
        if (!double.IsFinite(v) || v < 0 || v > Options.MaxTemperature)
            throw ApiProblem.Invalid(field, $"must be a number between 0 and {Options.MaxTemperature}; got {v}");
        return v;
    }

    /// <summary>
    /// The request's deadline (<see cref="SketchServiceOptions.RequestDeadlineSeconds"/>) joined with the client going away:
    /// encoding, decoding and drawing stop on it. Past the deadline the answer is 503.
    /// </summary>
    public CancellationTokenSource Deadline(CancellationToken requestAborted)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        if (Options.RequestDeadlineSeconds > 0) cts.CancelAfter(TimeSpan.FromSeconds(Options.RequestDeadlineSeconds));
        return cts;
    }

    /// <summary>The seed as given, or a fresh random one (returned in the response so the result can be reproduced).</summary>
    public static int Seed(int? value) => value ?? Random.Shared.Next();

    /// <summary>Largest |z| component accepted: latent codes are about N(0, 1); far beyond, the decoder's output breaks down.</summary>
    public const float MaxLatent = 1000;

    public static float[] Latent(float[]? z, int size, string field)
    {
        if (z is null) throw ApiProblem.Invalid(field, $"a latent vector of {size} numbers is required");
        if (z.Length != size) throw ApiProblem.Invalid(field, $"must have {size} numbers (the model's latent size); got {z.Length}");
        for (var i = 0; i < z.Length; i++)
            if (!(Math.Abs(z[i]) <= MaxLatent)) throw ApiProblem.Invalid($"{field}[{i}]", $"must be a finite number within ±{MaxLatent}");
        return z;
    }
}
