
namespace SketchService.Libraries.Tests.Onnx;

/// <summary>
/// Collects element-wise differences between a reference and ORT outputs. The bound is 1e-5 on |Δ| / max(1, |expected|):
/// absolute for values within ±1 (h, gates, most params), relative above, where float32's own spacing
/// (1.9e-6 at 16) would otherwise eat the margin — Magenta's pen logits and c reach ±20.
/// </summary>
internal sealed class Parity(string what, float tolerance = Parity.Tolerance)
{
    public const float Tolerance = 1e-5f;

    public float MaxAbs { get; private set; }
    public float MaxScaled { get; private set; }

    public Parity Add(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            float diff = Math.Abs(expected[k] - actual[k]);
            MaxAbs = Math.Max(MaxAbs, diff);
            MaxScaled = Math.Max(MaxScaled, diff / Math.Max(1f, Math.Abs(expected[k])));
        }
        return this;
    }

    /// <summary>Logs both figures to the test output and asserts the scaled one is within the tolerance.</summary>
    public void Check()
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"{what}: max |Δ| = {MaxAbs:E2}, max |Δ|/max(1,|ref|) = {MaxScaled:E2}");
        Assert.True(MaxScaled <= tolerance, $"{what}: max |Δ|/max(1,|ref|) = {MaxScaled:E2} > {tolerance:E0} (max |Δ| = {MaxAbs:E2})");
    }

    public static void Check(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual) => new Parity(what).Add(expected, actual).Check();

    /// <summary>Row <paramref name="b"/> of a [B, n] batch.</summary>
    public static ReadOnlySpan<float> Row(float[] batch, int b, int n) => batch.AsSpan(b * n, n);
}
