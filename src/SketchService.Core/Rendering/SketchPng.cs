using System.Buffers.Binary;
using System.IO.Compression;
using SketchService.Core.Strokes;

namespace SketchService.Core.Rendering;

/// <summary>
/// A small managed rasteriser and PNG encoder: black anti-aliased strokes on white, 8-bit grayscale, laid out
/// like <see cref="SketchService.Core.Rendering.SketchSvg.Grid"/>. No native dependencies. A segment costs in
/// proportion to its length (only the pixels near it are visited), the image is at most the grid of cells asked for,
/// and drawing stops when <c>cancellationToken</c> fires (the client left).
/// </summary>
public static class SketchPng
{
    /// <summary>Ink of what a person drew (<c>given</c> points), when a picture tells it from what the model drew (full black).</summary>
    public const float GivenInk = 0.5f;

    /// <summary>The sketches as a grid PNG; the first <paramref name="given"/>[i] points of sketch i (a person's) are grey.</summary>
    public static byte[] Grid(IReadOnlyList<StrokePoint[]> sketches, int columns, int cell = 256, float strokeWidth = 2f, CancellationToken cancellationToken = default,
        IReadOnlyList<int>? given = null)
    {
        columns = Math.Max(1, Math.Min(columns, sketches.Count));
        var rows = Math.Max(1, (sketches.Count + columns - 1) / columns);
        var pixels = Pixels(sketches, columns, cell, strokeWidth, cancellationToken, given);
        var gray = new byte[pixels.Length];
        for (var i = 0; i < gray.Length; i++) gray[i] = (byte)Math.Round(Math.Clamp(pixels[i], 0, 1) * 255);
        return Encode(gray, columns * cell, rows * cell);
    }

    /// <summary>The grid's pixels, 1 = white, row by row.</summary>
    internal static float[] Pixels(IReadOnlyList<StrokePoint[]> sketches, int columns, int cell, float strokeWidth, CancellationToken cancellationToken,
        IReadOnlyList<int>? given = null)
    {
        columns = Math.Max(1, Math.Min(columns, sketches.Count));
        var rows = Math.Max(1, (sketches.Count + columns - 1) / columns);
        int width = columns * cell, height = rows * cell;
        var pixels = new float[width * height];
        Array.Fill(pixels, 1f);
        for (var i = 0; i < sketches.Count; i++)
        {
            var (mine, theirs) = StrokeFormats.Split(sketches[i], given is not null && i < given.Count ? given[i] : 0);
            var frame = StrokeFormats.ToPolylines(sketches[i]);
            foreach (var (lines, ink) in new[] { (mine, GivenInk), (theirs, 1f) })
                Draw(pixels, width, height, lines, frame, ink, i % columns * cell, i / columns * cell, cell, cell * 0.08f, strokeWidth / 2, cancellationToken);
        }
        return pixels;
    }

    /// <summary>Draws <paramref name="lines"/> with <paramref name="ink"/> (1 = black), placed as <paramref name="frame"/> (the whole sketch) fits the cell.</summary>
    private static void Draw(float[] px, int width, int height, IReadOnlyList<Polyline> lines, IReadOnlyList<Polyline> frame, float ink,
        float x0, float y0, float size, float margin, float half, CancellationToken ct)
    {
        var all = lines.Where(l => l.Count > 0).ToList();
        var framed = frame.Where(l => l.Count > 0).ToList();
        if (all.Count == 0 || framed.Count == 0) return;
        var box = StrokeFormats.Bounds(framed);
        var scale = (size - 2 * margin) / Math.Max(1e-6f, Math.Max(box.Width, box.Height));
        var ox = x0 + margin + ((size - 2 * margin) - box.Width * scale) / 2 - box.MinX * scale;
        var oy = y0 + margin + ((size - 2 * margin) - box.Height * scale) / 2 - box.MinY * scale;
        foreach (var l in all)
        {
            ct.ThrowIfCancellationRequested();
            if (l.Count == 1) Segment(px, width, height, ox + l.X[0] * scale, oy + l.Y[0] * scale, ox + l.X[0] * scale, oy + l.Y[0] * scale, half, ink);
            for (var i = 1; i < l.Count; i++)
            {
                if ((i & 255) == 0) ct.ThrowIfCancellationRequested();
                Segment(px, width, height, ox + l.X[i - 1] * scale, oy + l.Y[i - 1] * scale, ox + l.X[i] * scale, oy + l.Y[i] * scale, half, ink);
            }
        }
    }

    /// <summary>
    /// Darkens pixels by their coverage of a round-capped segment (distance-based anti-aliasing). Each row visits only
    /// the pixels within reach of the line: a pixel at distance ≤ reach from the segment lies within reach / |sin θ|
    /// of the line's crossing of its row, or within reach of an end (reach · (1 + |cot θ|) of the crossing); so the
    /// work follows the segment's length, not its bounding box.
    /// </summary>
    private static void Segment(float[] px, int width, int height, float ax, float ay, float bx, float by, float half, float ink)
    {
        var reach = half + 1;
        int minX = Math.Max(0, (int)MathF.Floor(MathF.Min(ax, bx) - reach)), maxX = Math.Min(width - 1, (int)MathF.Ceiling(MathF.Max(ax, bx) + reach));
        int minY = Math.Max(0, (int)MathF.Floor(MathF.Min(ay, by) - reach)), maxY = Math.Min(height - 1, (int)MathF.Ceiling(MathF.Max(ay, by) + reach));
        float dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        var len = MathF.Sqrt(len2);
        var steep = MathF.Abs(dy) > 1e-3f;
        var halfRow = steep ? reach * len / MathF.Abs(dy) + reach : 0; // reach / |sin θ| + reach ≥ reach · (1 + |cot θ|)
        for (var y = minY; y <= maxY; y++)
        {
            int fromX = minX, toX = maxX;
            if (steep)
            {
                var crossing = ax + (y + 0.5f - ay) * dx / dy;
                fromX = Math.Max(minX, (int)MathF.Floor(crossing - halfRow));
                toX = Math.Min(maxX, (int)MathF.Ceiling(crossing + halfRow));
            }
            for (var x = fromX; x <= toX; x++)
            {
                float cx = x + 0.5f - ax, cy = y + 0.5f - ay;
                var t = len2 > 0 ? Math.Clamp((cx * dx + cy * dy) / len2, 0, 1) : 0;
                float ex = cx - t * dx, ey = cy - t * dy;
                var coverage = Math.Clamp(half + 0.5f - MathF.Sqrt(ex * ex + ey * ey), 0, 1);
                ref var p = ref px[y * width + x];
                p = MathF.Min(p, 1 - coverage * ink);
            }
        }
    }

    /// <summary>8-bit grayscale PNG: IHDR, one zlib IDAT of unfiltered rows, IEND.</summary>
    public static byte[] Encode(byte[] gray, int width, int height)
    {
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(gray, y * width, width);
            }
        }
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (grayscale), compression, filter, interlace all 0
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        var crc = Crc32(Crc32(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        s.Write(word);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(uint crc, byte[] data)
    {
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}
