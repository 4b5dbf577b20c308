using System.Xml.Linq;

namespace SketchService.Libraries.Tests.Architecture;

/// <summary>
/// The layers of docs/architecture.md, read from the project files: each project references only the projects and
/// packages its layer may use, so the service (Api → Runtime → Core) never carries the trainer's Torch, the graph
/// builders' OnnxSharp and Protobuf, or the data readers.
/// </summary>
public sealed class LayerTests
{
    private sealed record Project(string Name, string Sdk, string[] Projects, string[] Packages);

    private static readonly Dictionary<string, Project> Projects = new[] { "src", Path.Combine("clients", "dotnet") }
        .SelectMany(folder => Directory.GetDirectories(Path.Combine(SharedData.RepoRoot, folder)))
        .Select(d => Path.Combine(d, Path.GetFileName(d) + ".csproj")).Where(File.Exists).Select(Read).ToDictionary(p => p.Name);

    private static Project Read(string path)
    {
        var xml = XDocument.Load(path);
        string[] Items(string kind) => [.. xml.Descendants(kind).Select(e => (string)e.Attribute("Include")!)];
        return new Project(Path.GetFileNameWithoutExtension(path), (string)xml.Root!.Attribute("Sdk")!,
            [.. Items("ProjectReference").Select(p => Path.GetFileNameWithoutExtension(p.Replace('\\', '/')))], Items("PackageReference"));
    }

    /// <summary>What each project may reference directly: projects, and package name prefixes.</summary>
    private static readonly (string Name, string[] Projects, string[] Packages)[] Layers =
    [
        ("SketchService.Core", [], []),
        ("SketchService.Data", ["SketchService.Core"], []),
        ("SketchService.Export", ["SketchService.Core"], ["OnnxSharp", "Google.Protobuf"]),
        ("SketchService.Runtime", ["SketchService.Core"], ["Microsoft.ML.OnnxRuntime", "Microsoft.Extensions.Logging.Abstractions"]),
        ("SketchService.Api", ["SketchService.Runtime"], ["Microsoft.ML.OnnxRuntime", "Swashbuckle.", "Serilog.", "OpenTelemetry."]),
        ("SketchService.Trainer", ["SketchService.Runtime", "SketchService.Data", "SketchService.Export"], ["TorchSharp", "libtorch-", "System.CommandLine", "Spectre.Console"]),
        ("SketchService.DataFetch", [], ["System.CommandLine", "Spectre.Console"]),
        // The client is what apps take: nothing of the service, only SseParser where the framework lacks it (net8.0).
        ("SketchService.Client", [], ["System.Net.ServerSentEvents"]),
        ("SketchService.Client.Example", ["SketchService.Client"], []),
    ];

    public static TheoryData<string, string[], string[]> Allowed => new(Layers);

    [Theory]
    [MemberData(nameof(Allowed))]
    public void A_project_references_only_what_its_layer_may(string name, string[] projects, string[] packagePrefixes)
    {
        var project = Projects[name];
        Assert.All(project.Projects, p => Assert.Contains(p, projects));
        Assert.All(project.Packages, p => Assert.Contains(packagePrefixes, prefix => p.StartsWith(prefix, StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_project_has_a_layer()
    {
        Assert.Equal(Layers.Select(l => l.Name).Order(), Projects.Keys.Order());
    }

    [Fact]
    public void The_service_reaches_no_trainer_code_torch_or_graph_builder()
    {
        var reached = new HashSet<string>();
        void Walk(string name)
        {
            if (!reached.Add(name)) return;
            foreach (var p in Projects[name].Projects) Walk(p);
        }
        Walk("SketchService.Api");
        Assert.Equal(["SketchService.Api", "SketchService.Core", "SketchService.Runtime"], reached.Order());
        var packages = reached.SelectMany(p => Projects[p].Packages).ToArray();
        Assert.DoesNotContain(packages, p => p.StartsWith("TorchSharp") || p.StartsWith("OnnxSharp") || p.StartsWith("Google.Protobuf"));
        Assert.All(reached.Where(p => p != "SketchService.Api"), p => Assert.Equal("Microsoft.NET.Sdk", Projects[p].Sdk)); // no ASP.NET below the Api
    }
}
