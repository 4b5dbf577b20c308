namespace SketchService.Runtime.Models;

/// <summary>A model folder that cannot be served; <see cref="Exception.Message"/> says why.</summary>
public sealed class ModelLoadException(string folder, string reason, Exception? inner = null)
    : Exception($"{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}: {reason}", inner)
{
    public string Reason { get; } = reason;
}
