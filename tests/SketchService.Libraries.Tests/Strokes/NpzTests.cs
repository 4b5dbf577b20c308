using SketchService.Data;

namespace SketchService.Libraries.Tests.Strokes;

public class NpzTests
{
    [Theory]
    [InlineData("aaron_sheep.npz", 7400, 300, 300)]
    [InlineData("creativebirds_tiny.npz", 85, 10, 5)] // pickle protocol 3
    [InlineData("kanji_rdp200.npz", 10358, 600, 500)] // float64 pickled through _codecs.encode
    public void Every_shared_npz_loads_with_exact_counts(string file, int train, int valid, int test)
    {
        var splits = StrokeSplits.ReadNpz(SharedData.Path("data", "sketchrnn", file));
        Assert.Equal((train, valid, test), (splits.Train.Length, splits.Valid.Length, splits.Test.Length));
        Assert.All(splits.Train.Concat(splits.Valid).Concat(splits.Test), s =>
        {
            Assert.NotEmpty(s);
            Assert.All(s, p => Assert.True(float.IsFinite(p.Dx) && float.IsFinite(p.Dy)));
            Assert.True(s[^1].PenLifted, "a sketch ends with the pen lifted");
        });
    }

    [Fact]
    public void Sheep_lengths_are_within_the_documented_range()
    {
        var splits = StrokeSplits.ReadNpz(SharedData.Path("data", "sketchrnn", "aaron_sheep.npz"));
        var lengths = splits.Train.Select(s => s.Length).ToArray();
        Assert.InRange(lengths.Min(), 20, 250);
        Assert.InRange(lengths.Max(), 20, 250);
    }

    [Fact]
    public void Numeric_npy_little_and_big_endian_decode()
    {
        static byte[] Npy(string descr, string shape, byte[] data)
        {
            var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}";
            header = header.PadRight(118) + "\n";
            var bytes = new List<byte> { 0x93 };
            bytes.AddRange("NUMPY"u8.ToArray());
            bytes.AddRange([1, 0, (byte)header.Length, 0]);
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
            bytes.AddRange(data);
            return [.. bytes];
        }
        var le = (NdArray)SketchService.Data.Npy.Read(Npy("<i2", "2,", [1, 0, 0xff, 0xff]))!;
        Assert.Equal([1.0, -1.0], le.Data);
        var be = (NdArray)SketchService.Data.Npy.Read(Npy(">f4", "1,1", [0x3f, 0x80, 0, 0]))!;
        Assert.Equal([1, 1], be.Shape);
        Assert.Equal([1.0], be.Data);
        Assert.Throws<InvalidDataException>(() => SketchService.Data.Npy.Read([1, 2, 3]));
    }
}
