using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Spectre.Console;
using TorchSharp;
using SketchService.Core.Model;
using SketchService.Runtime.Models;

namespace SketchService.Trainer;

/// <summary>
/// sketch-trainer's command line: train, average, evaluate, export, fit-prior, import-magenta, upgrade. Exit codes: 0 done; 1 bad usage or
/// input; 2 a loss or an evaluation that is not finite; 3 libtorch cannot load; 128 + n stopped by signal n
/// (130 Ctrl-C, 143 SIGTERM), after saving.
/// </summary>
public static class Commands
{
    public const int UsageError = 1, NotFinite = 2, NoTorch = 3, Interrupted = 130, Terminated = 143;

    /// <summary>Runs a command; <paramref name="stdout"/> and <paramref name="stderr"/> default to the console (and a live progress bar on a terminal).</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = new Output(stdout ?? Console.Out, stderr ?? Console.Error, Live: stdout is null && !Console.IsOutputRedirected);
        var root = new RootCommand("Trains Sketch-RNN models and writes model folders for SketchService.")
        {
            TrainCommand(output), AverageCommand(output), EvaluateCommand(output), ExportCommand(output), FitPriorCommand(output), ImportMagentaCommand(output), UpgradeCommand(output),
        };
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors) output.Err.WriteLine("error: " + e.Message);
            output.Err.WriteLine($"See '{string.Join(' ', ["sketch-trainer", .. CommandPath(parse.CommandResult).Skip(1)])} --help'.");
            return UsageError;
        }
        try
        {
            // No ProcessTerminationTimeout: System.CommandLine would end the process while a step runs; train handles the signals.
            return parse.Invoke(new InvocationConfiguration { Output = output.Out, Error = output.Err, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception e) when (TorchLoadError(e) is { } why) { output.Err.WriteLine(why); return NoTorch; }
        catch (HttpRequestException e) { output.Err.WriteLine($"error: download failed: {e.Message}"); return UsageError; }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or InvalidDataException or DirectoryNotFoundException or System.Text.Json.JsonException)
        {
            output.Err.WriteLine("error: " + e.Message);
            return UsageError;
        }
    }

    private sealed record Output(TextWriter Out, TextWriter Err, bool Live);

    private static IEnumerable<string> CommandPath(CommandResult? r) =>
        r is null ? [] : [.. CommandPath(r.Parent as CommandResult), r.Command.Name];

    private static Option<string[]> DataOption(string description) =>
        new("--data") { Description = description, HelpName = "file", AllowMultipleArgumentsPerToken = true };

    private static Option<string> CheckpointOption() =>
        new Option<string>("--checkpoint")
            {
                Description = $"Which checkpoint of the run: {Training.BestDir} by validation, the {Training.LatestDir} to resume from, or the {Training.AverageDir} that 'average' wrote.",
                DefaultValueFactory = _ => Training.BestDir,
            }
            .AcceptOnlyFromAmong(Training.BestDir, Training.LatestDir, Training.AverageDir);

    private static Command TrainCommand(Output output)
    {
        var data = DataOption("Training data: Sketch-RNN .npz or Quick Draw .ndjson (repeat for several files). With --resume, the checkpoint's by default.");
        var outDir = new Option<string>("--out") { Description = "The run folder: checkpoints and train-log.csv.", HelpName = "dir", Required = true };
        var maxSteps = Cli.Option("--max-steps", "Stop at this step, counted over the whole run.", Cli.PositiveLong, () => TrainOptions.DefaultMaxSteps, "n");
        var budget = Cli.Option<TimeSpan?>("--time-budget", $"Stop after this much training time in this session: {Cli.DurationExamples}.", s => Cli.Duration(s), helpName: "time");
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its checkpoint (a new run when it has none); hyper-parameters given must match the checkpoint's." };
        var force = new Option<bool>("--force") { Description = "Start a new run in an --out that holds one, replacing its checkpoints and log." };
        var seed = Cli.Option<int?>("--seed", "Random seed [default: 1, or the checkpoint's with --resume].", s => Cli.Int(s), helpName: "n");
        var threads = Cli.Option("--threads", "CPU threads for libtorch.", Cli.PositiveInt, () => Environment.ProcessorCount, "n");
        var validEvery = Cli.Option("--valid-every", "Validate and save a checkpoint every this many steps.", Cli.PositiveInt, () => TrainOptions.DefaultValidEvery, "n");
        var keep = new Option<bool>("--keep-checkpoints") { Description = $"Also keep the weights of every validated step, in {Training.StepsDir}/<step>, for 'average'." };
        var initFrom = new Option<string>("--init-from")
        {
            Description = $"Start a new run from the weights of a checkpoint folder (a run's {Training.BestDir}, {Training.AverageDir} or {Training.LatestDir}): " +
                          "fine-tuning. Its sizes (but a larger --dec, which widens the decoder by copying its units), data and scale factor, and Adam's state where the folder has it; the step and schedules start afresh.",
            HelpName = "dir",
        };
        var hparams = HParams.Table.Select(h => (Info: h, Option: HParamOption(h))).ToArray();

        var command = new Command("train", "Trains a Sketch-RNN; Ctrl-C (or SIGTERM) stops after the step in flight with a validation and a checkpoint.")
        {
            data, outDir, maxSteps, budget, resume, force, seed, threads, validEvery, keep, initFrom,
        };
        foreach (var (_, option) in hparams) command.Options.Add(option);
        command.Validators.Add(r =>
        {
            if (r.GetValue(resume) && r.GetValue(force)) r.AddError("--resume and --force contradict each other: continue the run, or replace it");
            if (r.GetValue(resume) && r.GetValue(initFrom) is not null) r.AddError("--resume and --init-from contradict each other: continue this run, or start one from another's weights");
        });
        command.SetAction(parse =>
        {
            var run = parse.GetRequiredValue(outDir);
            var isResume = parse.GetValue(resume);
            // Hyper-parameters start from the checkpoint's when resuming, so only the options given can differ from it.
            var from = parse.GetValue(initFrom);
            var start = (isResume ? RunState.TryRead(Path.Combine(run, Training.LatestDir)) : from is null ? null : RunState.TryRead(from))?.HParams ?? new HParams();
            var hp = hparams.Where(h => parse.GetResult(h.Option) is { Implicit: false })
                .Aggregate(start, (acc, h) => h.Info.With(acc, parse.GetResult(h.Option)!.GetValueOrDefault<object>()!));
            var options = new TrainOptions
            {
                Data = parse.GetValue(data) ?? [], Out = run, HParams = hp, MaxSteps = parse.GetValue(maxSteps), TimeBudget = parse.GetValue(budget),
                Resume = isResume, Force = parse.GetValue(force), Seed = parse.GetValue(seed), ValidEvery = parse.GetValue(validEvery),
                KeepCheckpoints = parse.GetValue(keep), InitFrom = from,
            };
            RequireTorch();
            return Train(new Training(options), parse.GetValue(threads), output);
        });
        return command;
    }

    private static Option HParamOption(HParamInfo h) => h.Get(new HParams()) switch
    {
        int d => Cli.Option(h.Option, h.Spec.Description, Cli.PositiveInt, () => d, "n"),
        double d => Cli.Option(h.Option, h.Spec.Description, s => Cli.Real(s, h.Spec.Max), () => d, "x"),
        bool => new Option<bool>(h.Option) { Description = h.Spec.Description },
        var d => throw new NotSupportedException($"{h.Option}: no option for a {d.GetType().Name} hyper-parameter"),
    };

    private static int Train(Training training, int threads, Output output)
    {
        var exitCode = 0;
        void Stop(PosixSignalContext c, int code)
        {
            c.Cancel = true;
            exitCode = code;
            training.RequestStop();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Stop(c, Interrupted));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, Terminated));
        TrainingEnd Run(ITrainingDisplay display) => WithStopSignalsElsewhere(() =>
        {
            torch.set_num_threads(threads); // its worker threads start with this thread's signal mask
            return training.Run(display);
        });
        var end = output.Live
            ? AnsiConsole.Progress().AutoRefresh(false).AutoClear(false)
                .Columns(new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
                .Start(ctx => Run(new LiveDisplay(ctx)))
            : Run(new LogDisplay(output.Out));
        return end switch
        {
            TrainingEnd.NotFinite => NotFinite,
            TrainingEnd.Interrupted => exitCode,
            _ => 0,
        };
    }

    /// <summary>
    /// Runs <paramref name="work"/> with SIGINT and SIGTERM blocked on this thread and on the libtorch threads it starts,
    /// so the kernel hands them to one of the runtime's threads, whose handler then asks the training to stop. Taken by
    /// the training thread, the signal interrupts libtorch's MKL and oneDNN kernels, and Ctrl-C corrupted the native heap
    /// ("corrupted size vs. prev_size while consolidating", or a segfault) in about one stop in three.
    /// </summary>
    private static T WithStopSignalsElsewhere<T>(Func<T> work)
    {
        if (!OperatingSystem.IsLinux()) return work();
        var signals = new ulong[16]; // glibc's sigset_t: 1024 bits
        signals[0] = 1UL << (2 - 1) | 1UL << (15 - 1); // SIGINT, SIGTERM
        var before = new ulong[16];
        if (pthread_sigmask(SigBlock, signals, before) != 0) return work();
        try { return work(); }
        finally { pthread_sigmask(SigSetMask, before, null); }
    }

    private const int SigBlock = 0, SigSetMask = 2;

    [DllImport("libc", SetLastError = true)]
    private static extern int pthread_sigmask(int how, ulong[] set, ulong[]? oldSet);

    /// <summary>Spectre's progress bar, redrawn by the training thread after a step (at most 10 times a second): no refresh thread.</summary>
    private sealed class LiveDisplay(ProgressContext ctx) : ITrainingDisplay
    {
        private readonly ProgressTask _task = ctx.AddTask("starting", maxValue: 1);
        private readonly Stopwatch _sinceRefresh = Stopwatch.StartNew();

        public void Line(string text)
        {
            AnsiConsole.WriteLine(text);
            ctx.Refresh();
        }

        public void Progress(long step, double done, string status)
        {
            _task.Value = done;
            _task.Description = Markup.Escape(status);
            if (_sinceRefresh.ElapsedMilliseconds < 100) return;
            ctx.Refresh();
            _sinceRefresh.Restart();
        }
    }

    private static Command AverageCommand(Output output)
    {
        var run = new Option<string>("--run") { Description = "The run folder, trained with --keep-checkpoints.", HelpName = "dir", Required = true };
        var command = new Command("average",
            $"Averages the weights of the run's last k kept checkpoints for every k and writes the average that validates best as its '{Training.AverageDir}' checkpoint, for evaluate and export.")
        {
            run,
        };
        command.SetAction(parse =>
        {
            RequireTorch();
            var runDir = parse.GetRequiredValue(run);
            var (chosen, all) = Averaging.Run(runDir, output.Out.WriteLine);
            if (chosen is null)
            {
                output.Err.WriteLine($"error: no average of the kept checkpoints has a finite validation loss; {Path.Combine(runDir, Training.AverageDir)} not written");
                return NotFinite;
            }
            output.Out.WriteLine($"wrote {Path.Combine(runDir, Training.AverageDir)}: the last {chosen.Count} of {all.Count} kept checkpoints (steps {chosen.First}–{chosen.Last}), " +
                                 $"valid loss {chosen.Loss:F4} against {all[0].Loss:F4} for step {chosen.Last} alone");
            return 0;
        });
        return command;
    }

    private static Command EvaluateCommand(Output output)
    {
        var run = new Option<string>("--run") { Description = "The run folder.", HelpName = "dir" };
        var modelDir = new Option<string>("--model") { Description = "A model folder instead of a run (its ONNX graphs: no losses), e.g. one from git history.", HelpName = "dir" };
        var checkpoint = CheckpointOption();
        var data = DataOption("Evaluate on these files instead of the run's (or, with --model, the data set model.json names), normalised with its scale factor.");
        var pictures = new Option<string>("--pictures") { Description = "Also draw the first 20 drawings of each task, and of the real test split, as PNG files into this folder.", HelpName = "dir" };
        var seeds = Cli.Option("--seeds", "With --model: average the drawings' figures over this many seeds (new samples and classifier folds each).",
            Cli.PositiveInt, () => SketchQuality.DefaultSeeds, "n");
        var write = new Option<bool>("--write") { Description = "With --model: also write the round trip and the quality figures into the folder's model.json (its ONNX files are left as they are)." };
        var against = new Option<string>("--against")
        {
            Description = "With --model: measure this other model folder too (one from git history, say), with the same seeds on the same test drawings, " +
                          "and print each task's difference, paired seed by seed, ± its scatter (the standard deviation of that mean).",
            HelpName = "dir",
        };
        var command = new Command("evaluate", "Prints a checkpoint's Lr and KL on the valid and test splits, its latent round trip and how far its drawings " +
                                              "(prior, reconstructions, completions) are from the real test drawings.") { run, modelDir, checkpoint, data, pictures, seeds, write, against };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(run) is null) == (r.GetValue(modelDir) is null)) r.AddError("give --run (a checkpoint) or --model (a model folder)");
            if (r.GetValue(against) is not null && r.GetValue(modelDir) is null) r.AddError("--against compares two model folders: give --model too");
            if (r.GetValue(against) is not null && r.GetValue(seeds) < 2) r.AddError("--against pairs the two models seed by seed: give --seeds 2 or more, so that a difference has a scatter to be judged by");
        });
        command.SetAction(parse =>
        {
            if (parse.GetValue(modelDir) is { } folder)
            {
                using var onnx = SketchModel.Load(folder);
                var m = onnx.Manifest;
                var otherFolder = parse.GetValue(against);
                using var other = otherFolder is null ? null : SketchModel.Load(otherFolder);
                if (other?.Manifest is { } o && (o.ScaleFactor != m.ScaleFactor || o.MaxSeqLen != m.MaxSeqLen || o.Dataset?.Name != m.Dataset?.Name))
                    // Both are drawn from and judged on the test drawings as this model reads them.
                    throw new ArgumentException($"{otherFolder} was trained on other drawings than {folder} ({o.Dataset?.Name} scaled by {o.ScaleFactor}, " +
                                                $"at most {o.MaxSeqLen} points, against {m.Dataset?.Name}, {m.ScaleFactor}, {m.MaxSeqLen}): the two cannot be judged on the same test drawings");
                var test = ModelData(m, parse.GetValue(data));
                output.Out.WriteLine($"model {onnx.Id}: {test.Test.Length} test drawings of {test.Name}");
                var evaluation = new Evaluation(null, null, m.IsVae ? LatentRetrieval.Measure(onnx, test.Test, [0.1f, 0]) : null, null);
                IReadOnlyList<SketchQuality.TaskDrawings> firstSeed = [];
                var quality = SketchQuality.MeasureOverSeeds(onnx, test.Test, parse.GetValue(seeds), (seed, tasks) => { if (seed == 1) firstSeed = tasks; });
                evaluation = evaluation with { Quality = quality };
                foreach (var line in evaluation.Lines().Skip(2)) output.Out.WriteLine(line);
                output.Out.WriteLine($"  (real against real, valid against test: {SketchQuality.TwoSampleAccuracy(test.Test, test.Valid):P1})");
                if (parse.GetValue(pictures) is { } dir) Pictures.Tasks(dir, firstSeed, test.Test, m.ScaleFactor);
                if (other is not null)
                {
                    var comparisons = SketchQuality.Compare(quality, SketchQuality.MeasureOverSeeds(other, test.Test, parse.GetValue(seeds)));
                    output.Out.WriteLine($"against {otherFolder}, with the same seeds on the same test drawings (this model − that one, in points; lower is better):");
                    foreach (var c in comparisons)
                        output.Out.WriteLine($"  {c.Task,-25} {c.This:P1} against {c.Other:P1}: {100 * c.Difference:+0.0;−0.0;0.0} ± {100 * c.StandardError:0.0}, {c.Verdict}");
                }
                if (parse.GetValue(write))
                {
                    (m with { Retrieval = evaluation.Retrieval, Quality = evaluation.Quality }).Write(folder);
                    output.Out.WriteLine($"wrote the figures into {Path.Combine(folder, ModelFolder.ManifestFile)}");
                }
                return 0;
            }
            RequireTorch();
            var which = parse.GetValue(checkpoint)!;
            var (model, state) = Export.LoadCheckpoint(parse.GetValue(run)!, which);
            using (model)
            {
                var figures = Export.Evaluate(model, state, Export.LoadData(state, parse.GetValue(data) ?? []));
                output.Out.WriteLine($"checkpoint {which} at step {state.Step}");
                foreach (var line in figures.Lines()) output.Out.WriteLine(line);
                return figures.IsFinite ? 0 : NotFinite;
            }
        });
        return command;
    }

    /// <summary>The data a model folder was trained on (the file model.json's dataset names, found as a run's files are), or the files given.</summary>
    private static TrainingData ModelData(ModelManifest m, string[]? given) =>
        TrainingData.Load(given is { Length: > 0 } ? given
            : DataFiles.Find([(m.Dataset?.Name ?? "") + ".npz"], null), m.MaxSeqLen, m.ScaleFactor);

    private static Command UpgradeCommand(Output output)
    {
        var folderArgument = new Argument<string>("folder") { Description = "The model folder, rewritten in place." };
        var command = new Command("upgrade", $"Rewrites a model folder of an earlier format_version in the current one ({ModelFolder.FormatVersion}), " +
                                             "weights unchanged; a current folder is left as it is.") { folderArgument };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(folderArgument);
            var before = ModelManifest.Read(folder).FormatVersion;
            var m = SketchService.Export.ModelUpgrade.Upgrade(folder);
            output.Out.WriteLine(before == m.FormatVersion ? $"{folder} is format {m.FormatVersion} already" : $"upgraded {folder}: format {before} → {m.FormatVersion}");
            return 0;
        });
        return command;
    }

    private static Command FitPriorCommand(Output output)
    {
        var modelDir = new Option<string>("--model") { Description = "The model folder (a VAE).", HelpName = "dir", Required = true };
        var data = DataOption("Fit to these files' training split instead of the data set model.json names.");
        var command = new Command("fit-prior", $"Fits the data prior — the mixture of the training drawings' posteriors, and a Gaussian over their μ for whitened interpolation — and writes it as {ModelFolder.PriorFile} " +
                                               "into the model folder (export does this for a new model); /generate then samples z from it.") { modelDir, data };
        command.SetAction(parse =>
        {
            var folder = parse.GetRequiredValue(modelDir);
            var m = ModelManifest.Read(folder);
            if (!m.IsVae) throw new ArgumentException($"{folder} is decoder-only: it has no latent space for a prior");
            var train = ModelData(m, parse.GetValue(data)).Train;
            var prior = Export.FitPrior(folder, train);
            var norm = Math.Sqrt(prior.Mean.Sum(v => (double)v * v));
            output.Out.WriteLine($"wrote {Path.Combine(folder, ModelFolder.PriorFile)}: fitted to {prior.Drawings} training drawings, a mixture of {prior.Encodings.Count(prior.Size)}; |mean| {norm:F2}");
            return 0;
        });
        return command;
    }

    private static Command ExportCommand(Output output)
    {
        var run = new Option<string>("--run") { Description = "The run folder.", HelpName = "dir", Required = true };
        var outDir = new Option<string>("--out") { Description = "The model folder to write (replaced whole if it exists); with --format sketch-rnn-js, the .json file.", HelpName = "path", Required = true };
        var name = new Option<string>("--name") { Description = "The model's name [default: the folder's name]." };
        var checkpoint = CheckpointOption();
        var data = DataOption("Evaluate and draw from these files instead of the run's data.");
        var format = new Option<string>("--format")
        {
            Description = "onnx: a model folder for this service; sketch-rnn-js: one .vae.json / .gen.json file for Google's demos and ml5, written to --out.",
            DefaultValueFactory = _ => "onnx",
        };
        format.AcceptOnlyFromAmong("onnx", "sketch-rnn-js");
        var command = new Command("export", "Writes a checkpoint as a model folder: ONNX graphs, model.json, the run's log, loss curve and samples; or as a sketch-rnn-js file.")
        {
            run, outDir, name, checkpoint, data, format,
        };
        command.SetAction(parse =>
        {
            RequireTorch();
            var (runDir, folder) = (parse.GetRequiredValue(run), parse.GetRequiredValue(outDir));
            var (model, state) = Export.LoadCheckpoint(runDir, parse.GetValue(checkpoint)!);
            using (model)
            {
                if (parse.GetValue(format) == "sketch-rnn-js")
                {
                    var jsName = parse.GetValue(name) ?? Path.GetFileName(folder).Split('.')[0];
                    Export.WriteSketchRnnJs(model, state, folder, jsName);
                    output.Out.WriteLine($"wrote {folder}: sketch-rnn-js {(state.HParams.DecoderOnly ? "decoder-only" : "VAE")} '{jsName}' (step {state.Step}; int16 weights)");
                    return 0;
                }
                var trainingData = Export.LoadData(state, parse.GetValue(data) ?? []);
                var figures = Export.Losses(model, state, trainingData);
                if (!figures.IsFinite)
                {
                    foreach (var line in figures.Lines()) output.Out.WriteLine(line);
                    output.Err.WriteLine($"error: the checkpoint's figures are not finite; {folder} not written");
                    return NotFinite;
                }
                var log = Path.Combine(runDir, Training.LogFile);
                ModelManifest manifest = null!;
                Export.WriteFolder(folder, tmp =>
                {
                    (manifest, figures) = Export.WriteOnnx(model, state, trainingData, figures, tmp, parse.GetValue(name) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))));
                    if (File.Exists(log)) File.Copy(log, Path.Combine(tmp, Training.LogFile));
                    Pictures.Draw(tmp, trainingData.Test, log);
                });
                foreach (var line in figures.Lines()) output.Out.WriteLine(line);
                output.Out.WriteLine($"wrote {folder}: {manifest.Kind}, {string.Join(", ", manifest.Sha256.Keys)}, {Training.LogFile}, {Pictures.LossCurveFile}, {Pictures.SamplesFile} (step {manifest.StepsTrained})");
                return 0;
            }
        });
        return command;
    }

    private static Command ImportMagentaCommand(Output output)
    {
        var source = new Argument<string>("source") { Description = "A sketch-rnn-js JSON model: a file, an http(s) URL, or a Quick Draw category (e.g. cat) to download Google's." };
        var outDir = new Option<string>("--out") { Description = "The model folder [default: models/<name>].", HelpName = "dir" };
        var command = new Command("import-magenta", "Converts a sketch-rnn-js model into a model folder.") { source, outDir };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(outDir);
            var m = MagentaDownload.ImportAsync(parse.GetValue(source)!, folder, output.Out).GetAwaiter().GetResult();
            output.Out.WriteLine($"imported {m.Name}: {m.Kind}, decoder {m.DecoderSize}, scale factor {m.ScaleFactor:F3}, max_seq_len {m.MaxSeqLen} → {folder ?? Path.Combine("models", m.Name)}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Loads TorchSharp's native library the way TorchSharp would, before TorchSharp itself tries: its own
    /// failure prints pages of probing trace and copies libtorch into bin/.
    /// </summary>
    private static void RequireTorch()
    {
        if (!OperatingSystem.IsLinux()) return;
        var lib = new[] { "libLibTorchSharp.so", Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so") }
            .Select(p => Path.Combine(AppContext.BaseDirectory, p)).FirstOrDefault(File.Exists);
        if (lib is null) return; // let TorchSharp report a missing package itself
        NativeLibrary.Free(NativeLibrary.Load(lib)); // a DllNotFoundException is explained by TorchLoadError
    }

    /// <summary>Turns libtorch's load failure (not a torch error at run time) into an explanation instead of a stack trace.</summary>
    private static string? TorchLoadError(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException || x is NotSupportedException && x.Message.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || x.Message.Contains("GLIBCXX", StringComparison.Ordinal))
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
}
