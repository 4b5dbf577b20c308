using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using SketchService.Core.Model;

namespace SketchService.Core.Latent;

/// <summary>
/// Where the training drawings' encodings lie. With a KL floor the encoder spends nats on z, and real drawings no longer
/// encode where N(0, I) puts its mass (the sheep's μ have a norm of about 5.7 where N(0, I) draws 11.3). Two views of
/// the same encodings:
/// - z is sampled from their aggregate posterior, the mixture (1/N) Σ N(μₙ, σₙ²) over a sample of N training drawings
///   (<see cref="Encodings"/>). A Gaussian fitted to them also puts mass between the clusters, where the decoder draws
///   fragments (docs/experiments/sheep.md: the sheep's free samples were told apart from real ones 76.6 % of the time
///   from the Gaussian, 71.7 % from the mixture);
/// - the Gaussian N(mean, L·Lᵀ) fitted to every training μ gives the coordinates whitened interpolation walks in.
/// Stored as <see cref="ModelFolder.PriorFile"/>; an imported model has none and samples N(0, I).
/// </summary>
public sealed record LatentPrior
{
    /// <summary>μ's mean over the training split [Z].</summary>
    public required float[] Mean { get; init; }

    /// <summary>The covariance's lower-triangular Cholesky factor L [Z × Z], row-major.</summary>
    public required float[] Cholesky { get; init; }

    /// <summary>How many training drawings the Gaussian was fitted to.</summary>
    public int Drawings { get; init; }

    /// <summary>The posteriors the mixture is made of.</summary>
    public required PosteriorSample Encodings { get; init; }

    [JsonIgnore] public int Size => Mean.Length;

    /// <summary>How many training drawings the mixture keeps by default: 1 MiB of μ and σ at Z = 128 (1.4 MB in base64).</summary>
    public const int DefaultEncodings = 1024;

    /// <summary>A draw from the mixture: a training drawing's posterior picked uniformly, then z = μ + σ·ε, ε ~ N(0, I).</summary>
    public float[] Sample(Random random)
    {
        var n = random.Next(Encodings.Count(Size));
        var eps = LatentMath.SamplePrior(Size, random);
        var z = new float[Size];
        for (var i = 0; i < Size; i++) z[i] = Encodings.Mu[n * Size + i] + Encodings.Sigma[n * Size + i] * eps[i];
        return z;
    }

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
    /// Fits the prior to the training drawings' posteriors: the Gaussian to every μ (their mean and the Cholesky factor
    /// of their covariance, with a ridge of 1e-4 on the diagonal so that directions the encoder never uses stay just
    /// positive definite), and the mixture to <paramref name="keep"/> of them picked by <paramref name="seed"/>.
    /// </summary>
    public static LatentPrior Fit(IReadOnlyList<LatentCode> codes, int keep = DefaultEncodings, int seed = 1)
    {
        if (codes.Count < 2) throw new ArgumentException("a prior needs at least two encodings", nameof(codes));
        if (keep < 1) throw new ArgumentOutOfRangeException(nameof(keep), keep, "the mixture needs at least one encoding");
        int n = codes.Count, z = codes[0].Mu.Length;
        var mean = new double[z];
        foreach (var c in codes) for (var i = 0; i < z; i++) mean[i] += c.Mu[i] / (double)n;
        var cov = new double[z * z];
        foreach (var c in codes)
            for (var i = 0; i < z; i++)
            {
                var di = c.Mu[i] - mean[i];
                for (var j = 0; j <= i; j++) cov[i * z + j] += di * (c.Mu[j] - mean[j]) / (n - 1);
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
        var kept = codes.ToArray();
        new Random(seed).Shuffle(kept);
        kept = kept[..Math.Min(keep, n)];
        return new LatentPrior
        {
            Mean = [.. mean.Select(v => (float)v)], Cholesky = [.. l.Select(v => (float)v)], Drawings = n,
            Encodings = new PosteriorSample([.. kept.SelectMany(c => c.Mu)], [.. kept.SelectMany(c => c.Sigma)]),
        };
    }

    /// <summary>Null when the prior fits a model of latent size <paramref name="size"/>; otherwise what is wrong.</summary>
    public string? Problem(int size)
    {
        if (Mean.Length != size) return $"its mean has {Mean.Length} numbers, the latent size is {size}";
        if (Cholesky.Length != size * size) return $"its Cholesky factor has {Cholesky.Length} numbers, expected {size} × {size}";
        if (Encodings.Mu.Length == 0 || Encodings.Mu.Length % size != 0 || Encodings.Sigma.Length != Encodings.Mu.Length)
            return $"its encodings must be N × {size} means and as many sigmas (it has {Encodings.Mu.Length} and {Encodings.Sigma.Length} numbers)";
        if (Encodings.Count(size) > Drawings) return $"it keeps {Encodings.Count(size)} encodings of the {Drawings} drawings it was fitted to";
        if (Mean.Any(v => !float.IsFinite(v)) || Cholesky.Any(v => !float.IsFinite(v)) || Encodings.Mu.Any(v => !float.IsFinite(v)))
            return "it holds a number that is not finite";
        if (Encodings.Sigma.Any(v => !(v >= 0) || !float.IsFinite(v))) return "its encodings' sigmas must be finite and not negative";
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

    /// <summary>
    /// Posteriors N(μ, σ²) of N drawings, each [N × Z] row-major. Written as base64 of little-endian float32: exact, and
    /// a third of the size of the numbers in text.
    /// </summary>
    public sealed record PosteriorSample(
        [property: JsonConverter(typeof(Float32Base64))] float[] Mu,
        [property: JsonConverter(typeof(Float32Base64))] float[] Sigma)
    {
        public int Count(int size) => Mu.Length / size;
    }

    private sealed class Float32Base64 : JsonConverter<float[]>
    {
        public override float[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var bytes = reader.GetBytesFromBase64();
            if (bytes.Length % sizeof(float) != 0) throw new JsonException($"{bytes.Length} bytes are not a whole number of float32");
            var values = new float[bytes.Length / sizeof(float)];
            for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
            return values;
        }

        public override void Write(Utf8JsonWriter writer, float[] value, JsonSerializerOptions options)
        {
            var bytes = new byte[value.Length * sizeof(float)];
            for (var i = 0; i < value.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), value[i]);
            writer.WriteBase64StringValue(bytes);
        }
    }

    // A null or missing part is a JsonException at read, not a NullReferenceException later.
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}
