namespace SketchService.Tests;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sketch-tests-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);

    /// <summary>Copies the files of folder <paramref name="from"/> (not its subfolders) into <paramref name="to"/>, created if needed.</summary>
    public static void CopyFiles(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, System.IO.Path.Combine(to, System.IO.Path.GetFileName(file)));
    }
}
