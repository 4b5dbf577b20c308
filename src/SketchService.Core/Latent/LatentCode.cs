namespace SketchService.Core.Latent;

/// <summary>The encoder's posterior for one sketch: z ~ N(Mu, Sigma²), Sigma = exp(presig / 2).</summary>
public sealed record LatentCode(float[] Mu, float[] Sigma)
{
    /// <summary>z = mu + sigma·ε with ε ~ N(0, I) drawn from <paramref name="seed"/>.</summary>
    public float[] Sample(int seed)
    {
        var eps = LatentMath.SamplePrior(Mu.Length, SeededRandom.Create(seed));
        return [.. Mu.Select((m, i) => m + Sigma[i] * eps[i])];
    }
}
