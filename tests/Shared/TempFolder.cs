namespace SketchService.Tests;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("sketch-tests-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
