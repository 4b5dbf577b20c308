namespace SketchService.Core.Latent;

public enum InterpolationMode
{
    /// <summary>Straight line between the two codes.</summary>
    Linear,
    /// <summary>Great-circle path, as Magenta interpolates: stays in the typical shell of a Gaussian prior.</summary>
    Spherical,
}

/// <summary>Operations on latent codes z (float[] of size Z).</summary>
public static class LatentMath
{
    /// <summary>(1 − t)·a + t·b.</summary>
    public static float[] Lerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double t)
    {
        CheckSizes(a, b);
        var result = new float[a.Length];
        for (int i = 0; i < a.Length; i++) result[i] = (float)((1 - t) * a[i] + t * b[i]);
        return result;
    }

    /// <summary>
    /// Spherical interpolation: sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b with Ω the angle between a and b.
    /// Falls back to <see cref="Lerp"/> when either vector is zero or they are (anti)parallel within 1e-6, where
    /// sin Ω → 0 makes the weights blow up (and the great circle is undefined for opposite vectors).
    /// </summary>
    public static float[] Slerp(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double t)
    {
        CheckSizes(a, b);
        double dot = 0, normA = 0, normB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
        }
        if (normA == 0 || normB == 0) return Lerp(a, b, t);
        double omega = Math.Acos(Math.Clamp(dot / Math.Sqrt(normA * normB), -1, 1));
        double sinOmega = Math.Sin(omega);
        if (sinOmega < 1e-6) return Lerp(a, b, t);

        double wa = Math.Sin((1 - t) * omega) / sinOmega, wb = Math.Sin(t * omega) / sinOmega;
        var result = new float[a.Length];
        for (int i = 0; i < a.Length; i++) result[i] = (float)(wa * a[i] + wb * b[i]);
        return result;
    }

    /// <summary><paramref name="steps"/> codes from a to b inclusive, evenly spaced in t.</summary>
    public static float[][] Interpolate(float[] a, float[] b, int steps, InterpolationMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        var result = new float[steps][];
        for (int i = 0; i < steps; i++)
        {
            double t = (double)i / (steps - 1);
            result[i] = mode == InterpolationMode.Spherical ? Slerp(a, b, t) : Lerp(a, b, t);
        }
        return result;
    }

    /// <summary>A draw from the prior N(0, I): the caller's choice of z for "sample from the prior".</summary>
    public static float[] SamplePrior(int size, Random random)
    {
        var z = new float[size];
        for (int i = 0; i < size; i++)
        {
            double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
            z[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return z;
    }

    private static void CheckSizes(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"latent codes differ in size: {a.Length} and {b.Length}");
    }
}
