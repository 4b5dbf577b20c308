using System.Text.Json;
using System.Text.Json.Serialization;

namespace SketchService.DataFetch;

/// <summary>One file of the shared data: where it goes, what it must be, and where to get it.</summary>
/// <param name="Path">Relative to the data folder, with '/' separators (e.g. data/sketchrnn/aaron_sheep.npz).</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">Its SHA-256, lower-case hex.</param>
/// <param name="Urls">Where to download it, tried in order until one gives the right bytes; none: not downloadable.</param>
/// <param name="Lines">When set, the file is the first this many lines of the download (Quick Draw's files are large).</param>
/// <param name="FinalNewline">With <paramref name="Lines"/>: whether the last kept line keeps its newline.</param>
/// <param name="Note">Why a file has no URL, or anything else a user should know about it.</param>
public sealed record DataFile(
    string Path,
    long Size,
    string Sha256,
    IReadOnlyList<string> Urls,
    int? Lines = null,
    bool FinalNewline = true,
    string? Note = null);

/// <summary>The list of shared-data files (manifest.json beside the program).</summary>
public sealed record DataManifest(IReadOnlyList<DataFile> Files, string? Description = null)
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static DataManifest Load(string path)
    {
        try { return Parse(File.ReadAllText(path)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>Reads and checks a manifest: every path relative and inside the folder, unique, with a size, a SHA-256 and http(s) or file URLs.</summary>
    public static DataManifest Parse(string json)
    {
        DataManifest manifest;
        try { manifest = JsonSerializer.Deserialize<DataManifest>(json, Json) ?? throw new InvalidDataException("the manifest is null"); }
        catch (JsonException e) { throw new InvalidDataException($"not a valid manifest: {e.Message}", e); }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in manifest.Files)
        {
            string Bad(string why) => throw new InvalidDataException($"manifest entry '{f.Path}': {why}");
            if (f.Path.Length == 0 || f.Path.StartsWith('/') || f.Path.Contains('\\') || f.Path.Split('/').Any(part => part is "" or "." or ".."))
                Bad("the path must be relative, with '/' between non-empty names and no '.' or '..'");
            if (!seen.Add(f.Path)) Bad("listed twice");
            if (f.Size < 0) Bad("negative size");
            if (f.Sha256.Length != 64 || !f.Sha256.All(char.IsAsciiHexDigitLower)) Bad("sha256 must be 64 lower-case hex digits");
            if (f.Lines is <= 0) Bad("lines must be positive");
            foreach (var url in f.Urls)
                if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http" or "file")) Bad($"'{url}' is not an http(s) or file URL");
        }
        return manifest;
    }
}
