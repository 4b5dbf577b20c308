using Xunit;
namespace SketchService.Tests.Onnx;

/// <summary>Element-wise comparison of ORT outputs with a reference, reporting the largest difference.</summary>
internal static class Parity
{
    public const float Tolerance = 1e-5f;

    public static float MaxDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float max = 0;
        for (int k = 0; k < expected.Length; k++) max = Math.Max(max, Math.Abs(expected[k] - actual[k]));
        return max;
    }

    /// <summary>Asserts the largest |Δ| is within <see cref="Tolerance"/> and logs it to the test output.</summary>
    public static void Check(string what, float maxDiff)
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"{what}: max |Δ| = {maxDiff:E2}");
        Assert.True(maxDiff <= Tolerance, $"{what}: max |Δ| = {maxDiff:E2} > {Tolerance:E0}");
    }

    public static void Check(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual) => Check(what, MaxDiff(expected, actual));

    /// <summary>Row <paramref name="b"/> of a [B, n] batch.</summary>
    public static ReadOnlySpan<float> Row(float[] batch, int b, int n) => batch.AsSpan(b * n, n);
}
