using System.Text.Json;
using System.Text.Json.Serialization;
using SketchService.Core.Model;

namespace SketchService.Core.Latent;

/// <summary>
/// Where the training drawings' encodings lie: a Gaussian N(mean, L·Lᵀ) fitted to the posterior means μ of the training
/// split. With a KL floor the encoder spends nats on z, and real drawings no longer encode where N(0, I) puts its mass
/// (the sheep's μ have a norm of about 5.7 where N(0, I) draws 11.3): sampling from this prior lands where drawings do.
/// Stored as <see cref="ModelFolder.PriorFile"/>; an imported or older model has none and samples N(0, I).
/// </summary>
public sealed record LatentPrior
{
    /// <summary>μ's mean over the training split [Z].</summary>
    public required float[] Mean { get; init; }

    /// <summary>The covariance's lower-triangular Cholesky factor L [Z × Z], row-major.</summary>
    public required float[] Cholesky { get; init; }

    /// <summary>How many training drawings it was fitted to.</summary>
    public int Drawings { get; init; }

    [JsonIgnore] public int Size => Mean.Length;

    /// <summary>z = mean + L·ε, ε ~ N(0, I) from <paramref name="random"/>.</summary>
    public float[] Sample(Random random) => Unwhiten(LatentMath.SamplePrior(Size, random));

    /// <summary>w = L⁻¹(z − mean): z in the prior's own coordinates, where it is N(0, I) (forward substitution).</summary>
    public float[] Whiten(ReadOnlySpan<float> z)
    {
        var w = new double[Size];
        for (var i = 0; i < Size; i++)
        {
            double sum = z[i] - Mean[i];
            for (var j = 0; j < i; j++) sum -= Cholesky[i * Size + j] * w[j];
            w[i] = sum / Cholesky[i * Size + i];
        }
        return [.. w.Select(v => (float)v)];
    }

    /// <summary>z = mean + L·w: back from the prior's coordinates.</summary>
    public float[] Unwhiten(ReadOnlySpan<float> w)
    {
        var z = (float[])Mean.Clone();
        for (var i = 0; i < Size; i++)
        {
            double sum = 0;
            for (var j = 0; j <= i; j++) sum += Cholesky[i * Size + j] * w[j];
            z[i] += (float)sum;
        }
        return z;
    }

    /// <summary>
    /// Fits the Gaussian to encodings [N][Z]: their mean and the Cholesky factor of their covariance, with a ridge of
    /// 1e-4 on the diagonal so that directions the encoder never uses stay (just) positive definite.
    /// </summary>
    public static LatentPrior Fit(IReadOnlyList<float[]> codes)
    {
        if (codes.Count < 2) throw new ArgumentException("a prior needs at least two encodings", nameof(codes));
        int n = codes.Count, z = codes[0].Length;
        var mean = new double[z];
        foreach (var c in codes) for (var i = 0; i < z; i++) mean[i] += c[i] / (double)n;
        var cov = new double[z * z];
        foreach (var c in codes)
            for (var i = 0; i < z; i++)
            {
                var di = c[i] - mean[i];
                for (var j = 0; j <= i; j++) cov[i * z + j] += di * (c[j] - mean[j]) / (n - 1);
            }
        for (var i = 0; i < z; i++) cov[i * z + i] += 1e-4;
        // Cholesky–Banachiewicz on the lower triangle.
        var l = new double[z * z];
        for (var i = 0; i < z; i++)
            for (var j = 0; j <= i; j++)
            {
                var sum = cov[i * z + j];
                for (var k = 0; k < j; k++) sum -= l[i * z + k] * l[j * z + k];
                l[i * z + j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-12)) : sum / l[j * z + j];
            }
        return new LatentPrior { Mean = [.. mean.Select(v => (float)v)], Cholesky = [.. l.Select(v => (float)v)], Drawings = n };
    }

    /// <summary>Null when the prior fits a model of latent size <paramref name="size"/>; otherwise what is wrong.</summary>
    public string? Problem(int size)
    {
        if (Mean.Length != size) return $"its mean has {Mean.Length} numbers, the latent size is {size}";
        if (Cholesky.Length != size * size) return $"its Cholesky factor has {Cholesky.Length} numbers, expected {size} × {size}";
        if (Mean.Any(v => !float.IsFinite(v)) || Cholesky.Any(v => !float.IsFinite(v))) return "it holds a number that is not finite";
        for (var i = 0; i < size; i++)
        {
            if (!(Cholesky[i * size + i] > 0)) return $"its Cholesky factor's diagonal must be positive (row {i})";
            for (var j = i + 1; j < size; j++)
                if (Cholesky[i * size + j] != 0) return "its Cholesky factor must be lower-triangular";
        }
        return null;
    }

    public void Write(string folder) =>
        File.WriteAllText(Path.Combine(folder, ModelFolder.PriorFile), JsonSerializer.Serialize(this, Json));

    public static LatentPrior Read(string folder) =>
        JsonSerializer.Deserialize<LatentPrior>(File.ReadAllText(Path.Combine(folder, ModelFolder.PriorFile)), Json)
        ?? throw new InvalidDataException($"{ModelFolder.PriorFile} is empty");

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
