using System.Security.Cryptography;

namespace SketchService.Core.Model;

public static class FileHash
{
    /// <summary>Lower-case hex sha256 of a file, as model.json records it for every ONNX file.</summary>
    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
