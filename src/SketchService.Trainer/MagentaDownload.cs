using SketchService.Core.Model;
using SketchService.Export;

namespace SketchService.Trainer;

/// <summary>
/// `import-magenta`: converts a sketch-rnn-js JSON model (a local file, a URL, or a Quick Draw category name
/// resolved to Google's public location) into a model folder. Uses no TorchSharp.
/// </summary>
public static class MagentaDownload
{
    /// <summary>Where Google serves the pretrained sketch-rnn-js models ("large" = 1000-unit decoders for most classes).</summary>
    public const string UrlPattern = "https://storage.googleapis.com/quickdraw-models/sketchRNN/large_models/{0}.gen.json";

    public static async Task<ModelManifest> ImportAsync(string source, string? outFolder, TextWriter log, CancellationToken ct = default)
    {
        var url = File.Exists(source) ? null
            : source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? source
            : System.Text.RegularExpressions.Regex.IsMatch(source, "^[a-z0-9_]+$") ? string.Format(UrlPattern, source)
            : throw new FileNotFoundException($"'{source}' is neither a file, an http(s) URL nor a category name like 'cat'");
        var name = Path.GetFileName(url is null ? source : new Uri(url).AbsolutePath);
        name = name.Replace(".gen.json", "").Replace(".vae.json", "").Replace(".json", "");
        var folder = outFolder ?? Path.Combine("models", name);
        if (url is null) return MagentaModel.Import(source, folder, Path.GetFileName(source)); // a name, not this machine's path

        log.WriteLine($"downloading {url}");
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode) throw new InvalidDataException($"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        var total = response.Content.Headers.ContentLength;
        using var buffer = new MemoryStream();
        await using (var body = await response.Content.ReadAsStreamAsync(ct))
        {
            var chunk = new byte[81920];
            int n;
            var lastReport = 0L;
            while ((n = await body.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length - lastReport >= 1 << 20)
                {
                    lastReport = buffer.Length;
                    log.Write(total is { } t ? $"\r  {buffer.Length / 1e6:F1} / {t / 1e6:F1} MB ({100.0 * buffer.Length / t:F0} %)" : $"\r  {buffer.Length / 1e6:F1} MB");
                }
            }
        }
        log.WriteLine($"\r  {buffer.Length / 1e6:F1} MB downloaded");
        buffer.Position = 0;
        return MagentaModel.Import(buffer, folder, url);
    }
}
