namespace SketchService.Core;

/// <summary>
/// The random stream of a request's 32-bit seed: the same seed gives the same drawing, and different seeds different
/// ones. <see cref="Random(int)"/> alone cannot promise the second: it takes the seed's absolute value, so s and −s draw
/// the same drawing, and int.MinValue, int.MaxValue and 0 nearly so. Seeds 0 to int.MaxValue − 1 use
/// <see cref="Random(int)"/>'s own stream; the others get one of their own from SplitMix64 (Steele, Lea and Flood 2014).
/// </summary>
public static class SeededRandom
{
    public static Random Create(int seed) => seed is >= 0 and < int.MaxValue ? new Random(seed) : new SplitMix64(seed);

    /// <summary>Every Random method the callers could use, from one 64-bit state (the base class's own state is not used).</summary>
    private sealed class SplitMix64(int seed) : Random
    {
        // Neighbouring seeds may start from neighbouring states: SplitMix64's output function decorrelates them.
        private ulong state = 0x5EED_0000_0000_0000UL ^ (uint)seed;

        private ulong NextUInt64()
        {
            var z = state += 0x9E37_79B9_7F4A_7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>A whole number in [0, <paramref name="range"/>), each equally likely (Lemire 2019: multiply-shift, rejecting the few draws that would favour some).</summary>
        private ulong Below(ulong range)
        {
            var product = (UInt128)NextUInt64() * range;
            if ((ulong)product < range)
            {
                var threshold = (0UL - range) % range;
                while ((ulong)product < threshold) product = (UInt128)NextUInt64() * range;
            }
            return (ulong)(product >> 64);
        }

        protected override double Sample() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
        public override double NextDouble() => Sample();
        public override float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));
        public override int Next() => (int)Below(int.MaxValue);

        public override int Next(int maxValue) => (int)NextInt64(maxValue);
        public override int Next(int minValue, int maxValue) => (int)NextInt64(minValue, maxValue);

        public override long NextInt64() => (long)Below(long.MaxValue);

        public override long NextInt64(long maxValue)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(maxValue);
            return (long)Below((ulong)maxValue);
        }

        public override long NextInt64(long minValue, long maxValue)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(minValue, maxValue);
            return minValue + (long)Below((ulong)(maxValue - minValue));
        }

        public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

        public override void NextBytes(Span<byte> buffer)
        {
            for (var i = 0; i < buffer.Length; i++) buffer[i] = (byte)NextUInt64();
        }
    }
}
