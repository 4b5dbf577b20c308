using TorchSharp;

namespace SketchService.Trainer;

public static class Commands
{
    private const string Usage = """
        sketch-trainer — trains Sketch-RNN models and writes model folders for SketchService

          train     --data <file.npz|file.ndjson>... --out <run dir> [--max-steps N] [--time-budget 90m]
                    [--resume] [--seed 1] [--threads N] [--valid-every 500]
                    [--enc 256] [--dec 512] [--z 128] [--mixtures 20] [--batch 100] [--max-seq-len 250]
                    [--lr 1e-3] [--lr-decay 0.9999] [--min-lr 1e-5] [--kl-weight 0.5] [--kl-weight-start 0.01]
                    [--kl-decay 0.99995] [--kl-tolerance 0.2] [--grad-clip 1.0] [--random-scale 0.15]
                    [--drop-prob 0.1] [--unconditional]
          evaluate  --run <run dir> [--checkpoint best|checkpoint] [--data <file>...]   prints valid/test Lr and KL
          export    --run <run dir> --out <model folder> [--name NAME] [--checkpoint best|checkpoint] [--data <file>...]
          import-magenta <file | URL | category> [--out models/<name>]
                    converts a sketch-rnn-js JSON model (e.g. `import-magenta cat` downloads Google's cat model)
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help") { Console.WriteLine(Usage); return args.Length == 0 ? 1 : 0; }
        try
        {
            var cli = new Cli(args.Skip(1), new HashSet<string> { "resume", "unconditional" });
            if (args[0] is "train" or "evaluate" or "export" && TorchPreflight() is { } why) { Console.Error.WriteLine(why); return 3; }
            return args[0] switch
            {
                "train" => Train(cli),
                "evaluate" => Evaluate(cli),
                "export" => ExportModel(cli),
                "import-magenta" => ImportMagenta(cli),
                _ => throw new ArgumentException($"unknown command '{args[0]}'\n\n{Usage}"),
            };
        }
        catch (ArgumentException e) { Console.Error.WriteLine("error: " + e.Message); return 1; }
        catch (HttpRequestException e) { Console.Error.WriteLine($"error: download failed: {e.Message}"); return 1; }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or DirectoryNotFoundException) { Console.Error.WriteLine("error: " + e.Message); return 1; }
        catch (Exception e) when (TorchLoadError(e) is { } why) { Console.Error.WriteLine(why); return 3; }
    }

    /// <summary>
    /// Loads TorchSharp's native library the way TorchSharp would, before TorchSharp itself tries: its own
    /// failure prints pages of probing trace and copies libtorch into bin/. Returns an explanation or null.
    /// </summary>
    private static string? TorchPreflight()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var lib = new[] { "libLibTorchSharp.so", Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so") }
            .Select(p => Path.Combine(AppContext.BaseDirectory, p)).FirstOrDefault(File.Exists);
        if (lib is null) return null; // let TorchSharp report a missing package itself
        try
        {
            System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(lib));
            return null;
        }
        catch (DllNotFoundException e) { return Explain(e.Message); }
    }

    /// <summary>Turns libtorch's load failure into an explanation instead of a stack trace.</summary>
    private static string? TorchLoadError(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException || x.Message.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || x.Message.Contains("GLIBCXX", StringComparison.Ordinal))
                return Explain(x.Message);
        return null;
    }

    private static string Explain(string message) => $"""
                    error: TorchSharp could not load libtorch: {message.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("GLIBCXX")) ?? message.Split('\n')[0]}
                    libtorch 2.10 needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+); Debian 12 ships 3.4.30.
                    On such a machine run the trainer through the newer loader the repository provisions:
                        scripts/trainer.sh {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}
                    (scripts/torch-loader.sh unpacks Debian trixie's libc/libstdc++ into .tools/ and patches a dotnet copy.)
                    """;

    private static int ImportMagenta(Cli cli)
    {
        if (cli.Positional is not [var source]) throw new ArgumentException("import-magenta takes one file, URL or category name");
        var outFolder = cli.Get("out");
        cli.EnsureAllUsed();
        var m = MagentaDownload.ImportAsync(source, outFolder, Console.Out).GetAwaiter().GetResult();
        Console.WriteLine($"imported {m.Name}: {m.Kind}, decoder {m.DecoderSize}, scale factor {m.ScaleFactor:F3}, max_seq_len {m.MaxSeqLen} → {outFolder ?? Path.Combine("models", m.Name)}");
        return 0;
    }

    private static int Evaluate(Cli cli)
    {
        var (run, which, data) = (cli.Required("run"), cli.Get("checkpoint") ?? Training.BestDir, cli.All("data"));
        cli.EnsureAllUsed();
        var (model, state) = Export.LoadCheckpoint(run, which);
        using (model)
        {
            var (valid, test) = Export.Evaluate(model, state, Export.LoadData(state, data));
            Console.WriteLine($"checkpoint {which} at step {state.Step}");
            Console.WriteLine($"valid: Lr {valid.Reconstruction:F4} KL {valid.Kl:F4}");
            Console.WriteLine($"test:  Lr {test.Reconstruction:F4} KL {test.Kl:F4}");
            return double.IsFinite(valid.Reconstruction) && double.IsFinite(test.Reconstruction) ? 0 : 2;
        }
    }

    private static int ExportModel(Cli cli)
    {
        var (run, outFolder, which, data) = (cli.Required("run"), cli.Required("out"), cli.Get("checkpoint") ?? Training.BestDir, cli.All("data"));
        var name = cli.Get("name") ?? Path.GetFileName(Path.GetFullPath(outFolder));
        cli.EnsureAllUsed();
        var (model, state) = Export.LoadCheckpoint(run, which);
        using (model)
        {
            var trainingData = Export.LoadData(state, data);
            var manifest = Export.Write(model, state, trainingData, outFolder, name, Console.Out);
            var log = Path.Combine(run, Training.LogFile);
            if (File.Exists(log)) File.Copy(log, Path.Combine(outFolder, Training.LogFile), overwrite: true);
            Pictures.Draw(outFolder, trainingData.Test, log);
            Console.WriteLine($"wrote {outFolder}: {manifest.Kind}, {string.Join(", ", manifest.Sha256.Keys)}, {Training.LogFile}, {Pictures.LossCurveFile}, {Pictures.SamplesFile} (step {manifest.StepsTrained})");
            return 0;
        }
    }

    private static int Train(Cli cli)
    {
        var d = new HParams();
        var hp = new HParams
        {
            EncoderSize = cli.Int("enc", d.EncoderSize), DecoderSize = cli.Int("dec", d.DecoderSize), LatentSize = cli.Int("z", d.LatentSize),
            Mixtures = cli.Int("mixtures", d.Mixtures), BatchSize = cli.Int("batch", d.BatchSize), MaxSeqLen = cli.Int("max-seq-len", d.MaxSeqLen),
            LearningRate = cli.Double("lr", d.LearningRate), LearningRateDecay = cli.Double("lr-decay", d.LearningRateDecay),
            MinLearningRate = cli.Double("min-lr", d.MinLearningRate), KlWeight = cli.Double("kl-weight", d.KlWeight),
            KlWeightStart = cli.Double("kl-weight-start", d.KlWeightStart), KlDecayRate = cli.Double("kl-decay", d.KlDecayRate),
            KlTolerance = cli.Double("kl-tolerance", d.KlTolerance), GradClip = cli.Double("grad-clip", d.GradClip),
            RandomScale = cli.Double("random-scale", d.RandomScale), AugmentDropProb = cli.Double("drop-prob", d.AugmentDropProb),
            Conditional = !cli.Flag("unconditional"),
        };
        var options = new TrainOptions
        {
            Data = cli.All("data"), Out = cli.Required("out"), HParams = hp, MaxSteps = cli.Long("max-steps", 10_000),
            TimeBudget = cli.Duration("time-budget"), Resume = cli.Flag("resume"), Seed = cli.Int("seed", 1),
            ValidEvery = cli.Int("valid-every", 500),
        };
        var threads = cli.Int("threads", Environment.ProcessorCount);
        cli.EnsureAllUsed();
        torch.set_num_threads(threads);
        var training = new Training(options, Console.Out);
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; training.RequestStop(); Console.Error.WriteLine("\nCtrl-C: saving a checkpoint after this step…"); };
        // `docker stop` and process managers send SIGTERM: save as for Ctrl-C.
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            c => { c.Cancel = true; training.RequestStop(); Console.Error.WriteLine("\nSIGTERM: saving a checkpoint after this step…"); });
        return training.Run();
    }
}
