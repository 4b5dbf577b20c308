namespace SketchService.Trainer.Tests;

/// <summary>Locates ../shared (beside the project root) from the test binary's folder.</summary>
public static class SharedData
{
    public static readonly string Root = Find();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "SketchService.sln")))
                return System.IO.Path.Combine(dir.Parent!.FullName, "shared");
        }
        throw new DirectoryNotFoundException("cannot find SketchService.sln above " + AppContext.BaseDirectory);
    }
}
