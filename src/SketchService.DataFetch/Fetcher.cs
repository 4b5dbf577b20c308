using System.Security.Cryptography;

namespace SketchService.DataFetch;

public enum FetchOutcome
{
    /// <summary>Already there with the right size and hash: left alone.</summary>
    Present,
    /// <summary>Downloaded, checked and moved into place.</summary>
    Downloaded,
    /// <summary>Not there (or wrong), and no URL gave the right bytes.</summary>
    Failed,
    /// <summary>Not there (or wrong), and the manifest has no URL for it.</summary>
    NotDownloadable,
}

public sealed record FetchResult(DataFile File, FetchOutcome Outcome, string? Message = null);

/// <summary>
/// Brings the files of a <see cref="DataManifest"/> into a folder. A file already there with the right size and SHA-256
/// is skipped, so a stopped run simply starts again where it was. A download goes to <c>&lt;file&gt;.part</c> and is
/// renamed over the file only after its size and hash check out, so the folder never holds a half-written or wrong file
/// under its real name.
/// </summary>
public sealed class Fetcher(HttpClient http, string root)
{
    public const string PartSuffix = ".part";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Where a manifest path lies under <see cref="Root"/>.</summary>
    public string LocalPath(DataFile file) => Path.Combine(Root, file.Path.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Null when the file is there with the right size and hash; otherwise what is wrong with it.</summary>
    public string? Problem(DataFile file) => File.Exists(LocalPath(file)) ? Verify(LocalPath(file), file) : "missing";

    /// <summary>Null when the file at <paramref name="path"/> has the manifest's size and SHA-256; otherwise how it differs.</summary>
    public static string? Verify(string path, DataFile file)
    {
        var size = new FileInfo(path).Length;
        if (size != file.Size) return $"{size} bytes, expected {file.Size}";
        using var stream = File.OpenRead(path);
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        return hash == file.Sha256 ? null : $"SHA-256 {hash}, expected {file.Sha256}";
    }

    /// <summary>Makes one file right: skips it when it already is, else tries its URLs in turn.</summary>
    /// <param name="progress">Told the number of bytes written so far for the current attempt.</param>
    public async Task<FetchResult> FetchAsync(DataFile file, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        if (Problem(file) is null) return new(file, FetchOutcome.Present);
        if (file.Urls.Count == 0) return new(file, FetchOutcome.NotDownloadable, file.Note ?? "the manifest gives no URL for it");

        var target = LocalPath(file);
        var part = target + PartSuffix;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var errors = new List<string>();
        foreach (var url in file.Urls)
        {
            try
            {
                await DownloadAsync(new Uri(url), file, part, progress, ct);
                var why = Verify(part, file);
                if (why is null)
                {
                    File.Move(part, target, overwrite: true);
                    return new(file, FetchOutcome.Downloaded);
                }
                errors.Add($"{url}: got {why}");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or UnauthorizedAccessException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                errors.Add($"{url}: {e.Message}");
            }
            finally
            {
                if (File.Exists(part)) File.Delete(part);
            }
        }
        RemoveEmptyFolders(Path.GetDirectoryName(target)!);
        return new(file, FetchOutcome.Failed, string.Join("; ", errors));
    }

    /// <summary>
    /// Null when at least one host that the files' first URLs name answers at all (any HTTP status); otherwise why none
    /// does. One request per host instead of one failure per file: offline, that is a line instead of hundreds.
    /// </summary>
    public async Task<string?> UnreachableAsync(IEnumerable<DataFile> files, TimeSpan timeout, CancellationToken ct = default)
    {
        var urls = files.Where(f => f.Urls.Count > 0).Select(f => new Uri(f.Urls[0])).Where(u => u.Scheme is "http" or "https")
            .GroupBy(u => u.Host).Select(g => g.First()).ToList();
        if (urls.Count == 0) return null;
        var reasons = new List<string>();
        foreach (var url in urls)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(timeout);
            try
            {
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, wait.Token);
                return null; // it answered: the network is there, whatever this file's status
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                reasons.Add($"{url.Host}: {(e is TaskCanceledException ? $"no answer within {timeout.TotalSeconds:0} s" : e.Message)}");
            }
        }
        return string.Join("; ", reasons);
    }

    /// <summary>Removes <paramref name="folder"/> and the folders above it, up to the root, while they are empty.</summary>
    private void RemoveEmptyFolders(string folder)
    {
        for (var dir = new DirectoryInfo(folder); dir is not null && dir.FullName.Length > Root.Length && dir.Exists; dir = dir.Parent)
        {
            if (dir.EnumerateFileSystemInfos().Any()) return;
            try { dir.Delete(); } catch (IOException) { return; } // another download just put a file there
        }
    }

    /// <summary>Writes the download (whole, or its first <see cref="DataFile.Lines"/> lines) to <paramref name="part"/>.</summary>
    private async Task DownloadAsync(Uri url, DataFile file, string part, IProgress<long>? progress, CancellationToken ct)
    {
        Stream body;
        HttpResponseMessage? response = null;
        if (url.IsFile)
        {
            body = File.OpenRead(url.LocalPath);
        }
        else
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
            {
                var status = response.StatusCode;
                response.Dispose();
                throw new HttpRequestException($"HTTP {(int)status} {status}", null, status);
            }
            body = await response.Content.ReadAsStreamAsync(ct);
        }

        using (response)
        await using (body)
        await using (var output = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            var buffer = new byte[1 << 16];
            long written = 0;
            var linesLeft = file.Lines ?? -1;
            int n;
            while (linesLeft != 0 && (n = await body.ReadAsync(buffer, ct)) > 0)
            {
                var take = n;
                if (linesLeft > 0)
                {
                    // Stop after the wanted line: with its newline, or just before it.
                    for (var i = 0; i < n; i++)
                    {
                        if (buffer[i] != (byte)'\n' || --linesLeft > 0) continue;
                        take = file.FinalNewline ? i + 1 : i;
                        break;
                    }
                }
                await output.WriteAsync(buffer.AsMemory(0, take), ct);
                written += take;
                progress?.Report(written);
            }
            // A source shorter than the wanted lines: its last line may lack a newline; the size and hash check decides.
        }
    }
}
