using System.Text.Json;
using SketchService.Core.Model;
using SketchService.Export;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;

namespace SketchService.Libraries.Tests.Onnx;

/// <summary>
/// A format-1 folder (tests/fixtures/format1-vae: random weights, written by the format-1 ModelWriter, with the greedy
/// drawing the format-1 runtime made from a fixed z) upgraded to the current format draws the same.
/// </summary>
public sealed class ModelUpgradeTests
{
    private sealed record Expected(float[] Z, float[][] Points, bool Ended);

    [Fact]
    public void An_upgraded_format_1_folder_loads_and_draws_what_it_drew_before()
    {
        using var dir = new TempFolder();
        var fixture = Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "format1-vae");
        TempFolder.CopyFiles(fixture, dir.Path);
        Assert.Contains("format_version 1 is not supported", Assert.Throws<ModelLoadException>(() => SketchModel.Load(dir.Path)).Message);

        var upgraded = ModelUpgrade.Upgrade(dir.Path);
        Assert.Equal(ModelFolder.FormatVersion, upgraded.FormatVersion);
        Assert.Equal(ModelManifest.Read(fixture).Sha256[ModelFolder.EncoderFile], upgraded.Sha256[ModelFolder.EncoderFile]); // the encoder is kept as it was

        var expected = JsonSerializer.Deserialize<Expected>(File.ReadAllText(Path.Combine(fixture, "expected-greedy.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        using var model = SketchModel.Load(dir.Path);
        var drawn = SketchDecoder.Decode(model, new DecodeOptions { Temperature = 0, Z = [expected.Z], Seed = 1, MaxSteps = 40 }, TestContext.Current.CancellationToken)[0];
        Assert.Equal(expected.Ended, drawn.Ended);
        Assert.Equal(expected.Points.Length, drawn.Points.Length);
        for (int i = 0; i < drawn.Points.Length; i++)
        {
            Assert.Equal(expected.Points[i][0], drawn.Points[i].Dx, 1e-4f);
            Assert.Equal(expected.Points[i][1], drawn.Points[i].Dy, 1e-4f);
            Assert.Equal(expected.Points[i][2] > 0, drawn.Points[i].PenLifted);
        }
    }
}
