using System.Globalization;
using System.Text;
using SketchService.Core.Strokes;

namespace SketchService.Core.Rendering;

/// <summary>Draws stroke-3 sketches as SVG: one sketch, or a grid of sketches with optional captions.</summary>
public static class SketchSvg
{
    /// <summary>The colour of what the person drew, when a picture tells it from what the model drew (black).</summary>
    public const string GivenColour = "#888888";

    /// <summary>An SVG path "M x y L x y …" for one sketch, scaled and translated to fit a cell.</summary>
    public static string Path(IReadOnlyList<Polyline> lines, float x0, float y0, float size, float margin) => Path(lines, lines, x0, y0, size, margin);

    /// <summary>The path of <paramref name="lines"/>, placed as <paramref name="frame"/> (all of the sketch) fits the cell.</summary>
    private static string Path(IReadOnlyList<Polyline> lines, IReadOnlyList<Polyline> frame, float x0, float y0, float size, float margin)
    {
        var all = lines.Where(l => l.Count > 0).ToList();
        var framed = frame.Where(l => l.Count > 0).ToList();
        if (all.Count == 0 || framed.Count == 0) return "";
        var box = StrokeFormats.Bounds(framed);
        var scale = (size - 2 * margin) / Math.Max(1e-6f, Math.Max(box.Width, box.Height));
        var ox = x0 + margin + ((size - 2 * margin) - box.Width * scale) / 2 - box.MinX * scale;
        var oy = y0 + margin + ((size - 2 * margin) - box.Height * scale) / 2 - box.MinY * scale;
        var sb = new StringBuilder();
        foreach (var l in all)
        {
            for (var i = 0; i < l.Count; i++)
                sb.Append(i == 0 ? 'M' : 'L').Append(F(ox + l.X[i] * scale)).Append(' ').Append(F(oy + l.Y[i] * scale)).Append(' ');
            if (l.Count == 1) sb.Append("l 0.01 0 ");
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>
    /// A grid of sketches, <paramref name="columns"/> per row, each in a square cell, captions below. The first
    /// <paramref name="given"/>[i] points of sketch i (what a person drew, before the model went on) are grey.
    /// </summary>
    public static string Grid(IReadOnlyList<StrokePoint[]> sketches, int columns, float cell, IReadOnlyList<string>? captions = null, string? title = null,
        IReadOnlyList<int>? given = null)
    {
        var rows = (sketches.Count + columns - 1) / columns;
        var top = title is null ? 0 : 28;
        var captionH = captions is null ? 0 : 18;
        var w = columns * cell;
        var h = top + rows * (cell + captionH);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(w)}\" height=\"{F(h)}\" viewBox=\"0 0 {F(w)} {F(h)}\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        if (title is not null) sb.Append(CultureInfo.InvariantCulture, $"<text x=\"8\" y=\"20\" font-family=\"sans-serif\" font-size=\"16\">{Escape(title)}</text>\n");
        for (var i = 0; i < sketches.Count; i++)
        {
            float x = i % columns * cell, y = top + i / columns * (cell + captionH);
            var all = StrokeFormats.ToPolylines(sketches[i]);
            var (mine, theirs) = StrokeFormats.Split(sketches[i], given is not null && i < given.Count ? given[i] : 0);
            foreach (var (lines, colour) in new[] { (mine, GivenColour), (theirs, "black") })
                if (Path(lines, all, x, y, cell, cell * 0.08f) is { Length: > 0 } d)
                    sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\n");
            if (captions is not null && i < captions.Count)
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x + cell / 2)}\" y=\"{F(y + cell + 13)}\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\">{Escape(captions[i])}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string F(float v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
