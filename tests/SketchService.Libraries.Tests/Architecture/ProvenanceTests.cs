using System.Text.RegularExpressions;

namespace SketchService.Libraries.Tests.Architecture;

/// <summary>
/// Committed models and checkpoints record where they came from by names, steps and hashes, never by a path of the
/// machine that made them (which means nothing on another one, and leaks its layout).
/// </summary>
public sealed partial class ProvenanceTests
{
    [Fact]
    public void No_committed_model_or_checkpoint_file_holds_an_absolute_path()
    {
        var files = new[] { "models", "checkpoints" }
            .Select(d => Path.Combine(SharedData.RepoRoot, d)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories))
            .Where(f => Path.GetExtension(f) is ".json" or ".csv" or ".log" or ".md" or ".txt")
            .ToArray();
        Assert.NotEmpty(files);
        var found = files.SelectMany(f => AbsolutePath().Matches(File.ReadAllText(f)).Select(m => $"{Path.GetRelativePath(SharedData.RepoRoot, f)}: {m.Value}")).ToArray();
        Assert.True(found.Length == 0, "absolute paths in committed files:\n" + string.Join("\n", found.Take(20)));
    }

    // A quoted or spaced Unix path of two or more parts from the root ("/work/main/…"), or a Windows drive path.
    [GeneratedRegex("""(?<=["'\s(=])/(?:[\w.-]+/)+[\w.-]*|\b[A-Za-z]:\\[\w.\\-]+""")]
    private static partial Regex AbsolutePath();
}
