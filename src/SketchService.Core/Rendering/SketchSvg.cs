using System.Globalization;
using System.Text;
using SketchService.Core.Strokes;

namespace SketchService.Core.Rendering;

/// <summary>Draws stroke-3 sketches as SVG: one sketch, or a grid of sketches with optional captions.</summary>
public static class SketchSvg
{
    /// <summary>An SVG path "M x y L x y …" for one sketch, scaled and translated to fit a cell.</summary>
    public static string Path(IReadOnlyList<Polyline> lines, float x0, float y0, float size, float margin)
    {
        var all = lines.Where(l => l.Count > 0).ToList();
        if (all.Count == 0) return "";
        var box = StrokeFormats.Bounds(all);
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

    /// <summary>A grid of sketches, <paramref name="columns"/> per row, each in a square cell, captions below.</summary>
    public static string Grid(IReadOnlyList<StrokePoint[]> sketches, int columns, float cell = 160, IReadOnlyList<string>? captions = null, string? title = null)
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
            var d = Path(StrokeFormats.ToPolylines(sketches[i]), x, y, cell, cell * 0.08f);
            sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{d}\" fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\n");
            if (captions is not null && i < captions.Count)
                sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x + cell / 2)}\" y=\"{F(y + cell + 13)}\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\">{Escape(captions[i])}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string F(float v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
