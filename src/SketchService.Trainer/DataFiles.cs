using SketchService.Core.Model;

namespace SketchService.Trainer;

/// <summary>
/// Where a run's data files are recorded and found again: by file name and SHA-256, never by a path of the machine
/// that trained it, so checkpoints and model folders can be committed and resumed on another machine.
/// </summary>
public static class DataFiles
{
    /// <summary>The file names and SHA-256 of data files given by path.</summary>
    public static (string[] Names, string[] Sha256) Record(IReadOnlyList<string> paths) =>
        ([.. paths.Select(Path.GetFileName).Select(n => n!)], [.. paths.Select(FileHash.Sha256Hex)]);

    /// <summary>
    /// The paths of a checkpoint's data files: each found by name under $SKETCH_DATA, else under the <c>shared</c>
    /// folder beside the current folder or any folder above it, and checked against its recorded SHA-256.
    /// </summary>
    public static IReadOnlyList<string> Find(RunState state) => Find(state.Data ?? [], state.DataSha256);

    /// <summary>Data files by name (and SHA-256 where known), found as <see cref="Find(RunState)"/> finds a run's.</summary>
    public static IReadOnlyList<string> Find(IReadOnlyList<string> names, IReadOnlyList<string>? sha256)
    {
        var found = new string[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var sha = sha256 is { } hashes && i < hashes.Count ? hashes[i] : null;
            found[i] = Find(names[i], sha) ?? throw new FileNotFoundException(
                $"the run was trained on {Path.GetFileName(names[i])}{(sha is null ? "" : $" (sha256 {sha[..12]}…)")}, which is not under $SKETCH_DATA or a shared/data folder above this one: give it with --data");
        }
        return found;
    }

    private static string? Find(string name, string? sha256)
    {
        var file = Path.GetFileName(name);
        foreach (var root in Roots())
        {
            if (!Directory.Exists(root)) continue;
            foreach (var candidate in Directory.EnumerateFiles(root, file, SearchOption.AllDirectories))
                if (sha256 is null || string.Equals(FileHash.Sha256Hex(candidate), sha256, StringComparison.OrdinalIgnoreCase))
                    return candidate;
        }
        return null;
    }

    private static IEnumerable<string> Roots()
    {
        if (Environment.GetEnvironmentVariable("SKETCH_DATA") is { Length: > 0 } env) yield return Path.Combine(env, "data");
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            yield return Path.Combine(dir.FullName, "shared", "data");
    }

    /// <summary>"run/checkpoint (step N)": which checkpoint a run started from, by the names of its run folder and checkpoint folder.</summary>
    public static string Provenance(string checkpointFolder, long step)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpointFolder));
        return $"{Path.GetFileName(Path.GetDirectoryName(full))}/{Path.GetFileName(full)} (step {step})";
    }
}
