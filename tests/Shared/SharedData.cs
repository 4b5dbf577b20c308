namespace SketchService.Tests;

/// <summary>
/// Where the tests find their data: the real datasets and pretrained models in <c>$SKETCH_DATA</c> (default
/// <c>../shared</c> beside the repository root; not in the repository: <c>scripts/fetch-data.sh</c> downloads them), and
/// the few small drawings committed under <c>tests/fixtures</c>. One file, linked into every test project.
/// </summary>
internal static class SharedData
{
    /// <summary>The environment variable that says where the shared data is.</summary>
    public const string Variable = "SKETCH_DATA";

    /// <summary>The command that downloads the shared data into <c>$SKETCH_DATA</c>.</summary>
    public const string FetchCommand = "scripts/fetch-data.sh";

    /// <summary>The repository root: the folder above the test binary that holds SketchService.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary><c>$SKETCH_DATA</c>, or <c>../shared</c> beside the repository root.</summary>
    public static string Root { get; } = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } dir
        ? System.IO.Path.GetFullPath(dir)
        : System.IO.Path.Combine(Directory.GetParent(RepoRoot)!.FullName, "shared");

    /// <summary>Set to 1 (scripts/test.sh does under CI), a missing file fails the test instead of skipping it.</summary>
    public const string RequiredVariable = "SKETCH_DATA_REQUIRED";

    /// <summary>
    /// The path of a file or folder in the shared data. When it is missing, the current test is skipped with a reason
    /// that says what it needs and how to fetch it (or fails, with <c>SKETCH_DATA_REQUIRED=1</c>).
    /// </summary>
    public static string Path(params string[] parts)
    {
        if (TryPath(parts) is { } path) return path;
        var reason = MissingReason(parts);
        if (Environment.GetEnvironmentVariable(RequiredVariable) == "1") throw new FileNotFoundException($"{reason} ({RequiredVariable}=1)");
        Assert.Skip(reason);
        throw new System.Diagnostics.UnreachableException();
    }

    /// <summary>The path of a file or folder in the shared data, or null when it is not there (for fixtures, which cannot skip).</summary>
    public static string? TryPath(params string[] parts)
    {
        var path = System.IO.Path.Combine([Root, .. parts]);
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }

    public static string MissingReason(params string[] parts) =>
        $"needs {string.Join('/', parts)} in ${Variable} ({Root}): run `{FetchCommand}`, or `{FetchCommand} --mirror <a copy of shared/>` " +
        "for the files that have no public source";

    /// <summary>A file or folder committed under tests/fixtures (always there).</summary>
    public static string Fixture(params string[] parts) => System.IO.Path.Combine([RepoRoot, "tests", "fixtures", .. parts]);

    /// <summary>
    /// A Quick Draw folder, <paramref name="form"/> "raw" or "simplified", from <paramref name="source"/>: "fixtures"
    /// (the committed handful of drawings) or "shared" (the shared data's; skips without it).
    /// </summary>
    public static string QuickDraw(string source, string form) => source switch
    {
        "fixtures" => Fixture("quickdraw", form),
        "shared" => Path("data", "quickdraw", form),
        _ => throw new ArgumentException($"unknown data source '{source}'", nameof(source)),
    };

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "SketchService.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("no SketchService.sln above " + AppContext.BaseDirectory);
    }
}
