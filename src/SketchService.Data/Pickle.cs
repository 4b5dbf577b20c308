using System.Buffers.Binary;
using System.Text;

namespace SketchService.Data;

/// <summary>A numpy array decoded from a pickle or .npy: its shape and its values widened to double.</summary>
public sealed record NdArray(int[] Shape, double[] Data);

/// <summary>
/// A small pickle reader for what numpy writes into object arrays (protocols 2–4): ndarrays rebuilt
/// through numpy.core.multiarray._reconstruct + BUILD, dtypes, tuples, lists, and the
/// _codecs.encode(latin1) wrapping that Python 3 uses for Python 2 byte strings (float64 data).
/// Anything else fails loudly rather than guessing.
/// </summary>
internal sealed class Pickle
{
    private sealed record Global(string Module, string Name);
    private sealed class Mark;
    private sealed class DType(string code) { public string Code = code; public char Order = '<'; }
    private sealed class ArrayBuilder { public NdArray? Numeric; public object?[]? Objects; }

    private readonly byte[] _b;
    private int _pos;
    private readonly List<object?> _stack = [];
    private readonly Dictionary<int, object?> _memo = [];
    private static readonly Mark MarkObj = new();

    private Pickle(byte[] bytes, int start) { _b = bytes; _pos = start; }

    /// <summary>Unpickles the object at <paramref name="start"/>; ndarrays come back as NdArray or object?[].</summary>
    public static object? Load(byte[] bytes, int start = 0) => Finish(new Pickle(bytes, start).Run());

    private static object? Finish(object? o) => o switch
    {
        ArrayBuilder { Numeric: { } n } => n,
        ArrayBuilder { Objects: { } objs } => objs.Select(Finish).ToArray(),
        ArrayBuilder => throw new InvalidDataException("pickle: ndarray without state"),
        _ => o,
    };

    private object? Run()
    {
        while (true)
        {
            var op = _b[_pos++];
            switch (op)
            {
                case 0x80: _pos++; break; // PROTO
                case 0x95: _pos += 8; break; // FRAME
                case (byte)'c': Push(new Global(Line(), Line())); break;
                case 0x93: { var name = (string)Pop()!; var module = (string)Pop()!; Push(new Global(module, name)); break; }
                case (byte)'q': _memo[_b[_pos++]] = Top(); break;
                case (byte)'r': _memo[I32()] = Top(); break;
                case 0x94: _memo[_memo.Count] = Top(); break;
                case (byte)'h': Push(_memo[_b[_pos++]]); break;
                case (byte)'j': Push(_memo[I32()]); break;
                case (byte)'(': Push(MarkObj); break;
                case (byte)'t': Push(PopToMark().ToArray()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'K': Push((long)_b[_pos++]); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(_b.AsSpan(_pos))); _pos += 2; break;
                case (byte)'J': Push((long)I32()); break;
                case 0x8a: { int n = _b[_pos++]; long v = 0; for (var i = n - 1; i >= 0; i--) v = (v << 8) | _b[_pos + i]; if (n is > 0 and < 8 && (_b[_pos + n - 1] & 0x80) != 0) v -= 1L << (8 * n); _pos += n; Push(v); break; }
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(_b.AsSpan(_pos))); _pos += 8; break;
                case (byte)'U': Push(Bytes(_b[_pos++])); break; // Python 2 str: kept as bytes
                case (byte)'T': Push(Bytes(I32())); break;
                case (byte)'C': Push(Bytes(_b[_pos++])); break;
                case (byte)'B': Push(Bytes(I32())); break;
                case 0x8e: { var n = checked((int)BinaryPrimitives.ReadInt64LittleEndian(_b.AsSpan(_pos))); _pos += 8; Push(Bytes(n)); break; }
                case (byte)'X': { var n = I32(); Push(Encoding.UTF8.GetString(_b, _pos, n)); _pos += n; break; }
                case 0x8c: { int n = _b[_pos++]; Push(Encoding.UTF8.GetString(_b, _pos, n)); _pos += n; break; }
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'a': { var v = Pop(); ((List<object?>)Top()!).Add(v); break; }
                case (byte)'e': { var items = PopToMark(); ((List<object?>)Top()!).AddRange(items); break; }
                case (byte)'}': Push(new Dictionary<object, object?>()); break;
                case (byte)'s': { var v = Pop(); var k = Pop()!; ((Dictionary<object, object?>)Top()!)[k] = v; break; }
                case (byte)'u': { var items = PopToMark(); var d = (Dictionary<object, object?>)Top()!; for (var i = 0; i < items.Count; i += 2) d[items[i]!] = items[i + 1]; break; }
                case (byte)'R': { var args = (object?[])Pop()!; var f = (Global)Pop()!; Push(Reduce(f, args)); break; }
                case 0x81: { var args = (object?[])Pop()!; var f = (Global)Pop()!; Push(Reduce(f, args)); break; }
                case (byte)'b': { var state = Pop(); Build(Top(), state); break; }
                case (byte)'.': return Pop();
                default: throw new InvalidDataException($"pickle: unsupported opcode 0x{op:x2} at byte {_pos - 1}");
            }
        }
    }

    private static object Reduce(Global f, object?[] args) => (f.Module, f.Name) switch
    {
        ("numpy.core.multiarray" or "numpy._core.multiarray", "_reconstruct") => new ArrayBuilder(),
        ("numpy", "dtype") => new DType(Str(args[0])),
        ("_codecs", "encode") => Encoding.Latin1.GetBytes((string)args[0]!),
        _ => throw new InvalidDataException($"pickle: unsupported callable {f.Module}.{f.Name}"),
    };

    private static void Build(object? target, object? state)
    {
        switch (target)
        {
            case DType d: d.Order = Str(((object?[])state!)[1])[0]; break;
            case ArrayBuilder a:
                {
                    // ndarray.__setstate__((version, shape, dtype, is_fortran, data))
                    var s = (object?[])state!;
                    var shape = ((object?[])s[1]!).Select(x => checked((int)(long)x!)).ToArray();
                    var dtype = (DType)s[2]!;
                    if ((bool)s[3]!) throw new InvalidDataException("pickle: Fortran-ordered arrays are not supported");
                    if (dtype.Code.StartsWith('O')) a.Objects = ((List<object?>)s[4]!).ToArray();
                    else a.Numeric = new NdArray(shape, Npy.Decode(AsBytes(s[4]), dtype.Order, dtype.Code, shape.Aggregate(1, (x, y) => x * y)));
                    break;
                }
            default: throw new InvalidDataException($"pickle: BUILD on unsupported object {target?.GetType().Name}");
        }
    }

    private static string Str(object? o) => o switch { string s => s, byte[] b => Encoding.Latin1.GetString(b), _ => throw new InvalidDataException("pickle: expected a string") };
    private static byte[] AsBytes(object? o) => o switch { byte[] b => b, string s => Encoding.Latin1.GetBytes(s), _ => throw new InvalidDataException("pickle: expected array data bytes") };

    private void Push(object? o) => _stack.Add(o);
    private object? Top() => _stack[^1];
    private object? Pop() { var o = _stack[^1]; _stack.RemoveAt(_stack.Count - 1); return o; }

    private List<object?> PopToMark()
    {
        var i = _stack.FindLastIndex(o => ReferenceEquals(o, MarkObj));
        if (i < 0) throw new InvalidDataException("pickle: MARK not found");
        var items = _stack.GetRange(i + 1, _stack.Count - i - 1);
        _stack.RemoveRange(i, _stack.Count - i);
        return items;
    }

    private int I32() { var v = BinaryPrimitives.ReadInt32LittleEndian(_b.AsSpan(_pos)); _pos += 4; return v; }
    private byte[] Bytes(int n) { var r = _b.AsSpan(_pos, n).ToArray(); _pos += n; return r; }
    private string Line() { var e = Array.IndexOf(_b, (byte)'\n', _pos); var s = Encoding.ASCII.GetString(_b, _pos, e - _pos); _pos = e + 1; return s; }
}
