using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace SketchService.Data;

/// <summary>Reads numpy .npy arrays and .npz archives (numeric arrays and pickled object arrays).</summary>
public static partial class Npy
{
    /// <summary>Reads one .npy: an NdArray for numeric dtypes, object?[] for object arrays.</summary>
    public static object? Read(byte[] npy)
    {
        if (npy.Length < 10 || npy[0] != 0x93 || Encoding.ASCII.GetString(npy, 1, 5) != "NUMPY")
            throw new InvalidDataException("not a .npy file (bad magic)");
        int major = npy[6];
        var (headerLen, start) = major == 1
            ? (BinaryPrimitives.ReadUInt16LittleEndian(npy.AsSpan(8)), 10)
            : ((int)BinaryPrimitives.ReadUInt32LittleEndian(npy.AsSpan(8)), 12);
        var header = Encoding.Latin1.GetString(npy, start, headerLen);
        var descr = DescrRegex().Match(header).Groups[1].Value;
        if (FortranRegex().IsMatch(header)) throw new InvalidDataException("Fortran-ordered .npy arrays are not supported");
        var shape = ShapeRegex().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var dataStart = start + headerLen;
        if (descr.EndsWith('O')) return Pickle.Load(npy, dataStart);
        var count = shape.Aggregate(1, (a, b) => a * b);
        return new NdArray(shape, Decode(npy.AsSpan(dataStart).ToArray(), descr[0], descr[1..], count));
    }

    /// <summary>Reads every array of an .npz archive by name (without ".npy").</summary>
    public static Dictionary<string, object?> ReadNpz(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var result = new Dictionary<string, object?>();
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            result[Path.GetFileNameWithoutExtension(entry.Name)] = Read(ms.ToArray());
        }
        return result;
    }

    /// <summary>Decodes raw array bytes of dtype (order, code), e.g. ('&lt;', "i2"), into doubles.</summary>
    internal static double[] Decode(byte[] raw, char order, string code, int count)
    {
        var big = order == '>';
        var size = int.Parse(code.AsSpan(1));
        if (raw.Length < count * size) throw new InvalidDataException($"array data too short: {raw.Length} bytes for {count} × {code}");
        var r = new double[count];
        var s = raw.AsSpan();
        for (var i = 0; i < count; i++)
        {
            var x = s.Slice(i * size, size);
            r[i] = (code[0], size) switch
            {
                ('i', 1) => (sbyte)x[0],
                ('u', 1) or ('b', 1) => x[0],
                ('i', 2) => big ? BinaryPrimitives.ReadInt16BigEndian(x) : BinaryPrimitives.ReadInt16LittleEndian(x),
                ('u', 2) => big ? BinaryPrimitives.ReadUInt16BigEndian(x) : BinaryPrimitives.ReadUInt16LittleEndian(x),
                ('i', 4) => big ? BinaryPrimitives.ReadInt32BigEndian(x) : BinaryPrimitives.ReadInt32LittleEndian(x),
                ('u', 4) => big ? BinaryPrimitives.ReadUInt32BigEndian(x) : BinaryPrimitives.ReadUInt32LittleEndian(x),
                ('i', 8) => big ? BinaryPrimitives.ReadInt64BigEndian(x) : BinaryPrimitives.ReadInt64LittleEndian(x),
                ('f', 2) => (double)(big ? BinaryPrimitives.ReadHalfBigEndian(x) : BinaryPrimitives.ReadHalfLittleEndian(x)),
                ('f', 4) => big ? BinaryPrimitives.ReadSingleBigEndian(x) : BinaryPrimitives.ReadSingleLittleEndian(x),
                ('f', 8) => big ? BinaryPrimitives.ReadDoubleBigEndian(x) : BinaryPrimitives.ReadDoubleLittleEndian(x),
                _ => throw new InvalidDataException($"unsupported dtype {order}{code}"),
            };
        }
        return r;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")] private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*True")] private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRegex();
}
