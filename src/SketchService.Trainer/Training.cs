using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using SketchService.Core.Model;
using SketchService.Core.Strokes;
using SketchService.Data;

namespace SketchService.Trainer;

public sealed record TrainOptions
{
    /// <summary>Data files; empty when resuming means the checkpoint's.</summary>
    public IReadOnlyList<string> Data { get; init; } = [];
    public required string Out { get; init; }
    /// <summary>A resumed run must be given its checkpoint's (the CLI starts from them and applies the options given).</summary>
    public HParams HParams { get; init; } = new();
    public const long DefaultMaxSteps = 10_000;
    public const int DefaultValidEvery = 500;
    public long MaxSteps { get; init; } = DefaultMaxSteps;
    /// <summary>Training time of this session, not counting what a resumed run had before.</summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>Continue from Out's checkpoint; a new run when it has none.</summary>
    public bool Resume { get; init; }
    /// <summary>Start a new run in an Out that holds one, deleting its checkpoints and log.</summary>
    public bool Force { get; init; }
    /// <summary>null: the checkpoint's when resuming, else 1.</summary>
    public int? Seed { get; init; }
    public int ValidEvery { get; init; } = DefaultValidEvery;
    /// <summary>Also keep the weights of every validated step, in steps/&lt;step&gt;, for <see cref="Averaging"/>.</summary>
    public bool KeepCheckpoints { get; init; }
    /// <summary>A checkpoint folder of another run whose weights (and Adam's state, if saved) a new run starts from (fine-tuning); its sizes must match.</summary>
    public string? InitFrom { get; init; }
}

/// <summary>What a checkpoint folder records besides the weights.</summary>
public sealed record RunState(HParams HParams, long Step, double ScaleFactor, string Dataset, int Train, int Valid, int Test,
    double BestValidLoss, long BestStep, double ElapsedSeconds, int Seed, IReadOnlyList<string> Data,
    IReadOnlyList<long>? AveragedSteps = null, string? InitFrom = null, IReadOnlyList<string>? DataSha256 = null)
{
    public const string File = "state.json";
    public const string Weights = "model.bin";
    public const string Optimizer = "optimizer.bin";

    public void Write(string folder) => System.IO.File.WriteAllText(Path.Combine(folder, File), JsonSerializer.Serialize(this, Json));
    public static RunState Read(string folder) => JsonSerializer.Deserialize<RunState>(System.IO.File.ReadAllText(Path.Combine(folder, File)), Json)!;
    public static RunState? TryRead(string folder) => System.IO.File.Exists(Path.Combine(folder, File)) ? Read(folder) : null;

    // A run without validation sketches has a NaN best loss.
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
}

/// <summary>Why a run stopped.</summary>
public enum TrainingEnd { MaxSteps, TimeBudget, Interrupted, NotFinite }

/// <summary>Where a run reports: lines that stay (data, validations, the end) and the figures after every step.</summary>
public interface ITrainingDisplay
{
    void Line(string text);
    /// <param name="done">0..1: by steps or by the time budget, whichever is closer to done.</param>
    void Progress(long step, double done, string status);
}

/// <summary>Lines into a log, the step figures every 100 steps.</summary>
public sealed class LogDisplay(TextWriter w) : ITrainingDisplay
{
    public void Line(string text)
    {
        w.WriteLine(text);
        w.Flush();
    }

    public void Progress(long step, double done, string status)
    {
        if (step % 100 == 0) Line(status);
    }
}

/// <summary>The training loop: length-bucketed batches, Magenta's loss and schedules, validation, checkpoints.</summary>
public sealed class Training(TrainOptions o)
{
    public const string LatestDir = "checkpoint";
    public const string BestDir = "best";
    /// <summary>The weights kept at every validation with --keep-checkpoints, one folder per step.</summary>
    public const string StepsDir = "steps";
    /// <summary>The average of kept checkpoints that validates best (sketch-trainer average).</summary>
    public const string AverageDir = "average";
    public const string LogFile = "train-log.csv";
    private const string LogHeader = "step,elapsed_s,recon_loss,kl,w_kl,learning_rate,valid_recon_loss,valid_kl";

    private volatile bool _stop;

    /// <summary>Ends the run after the step in flight, with a validation and a checkpoint (what Ctrl-C calls).</summary>
    public void RequestStop() => _stop = true;

    public TrainingEnd Run(TextWriter log) => Run(new LogDisplay(log));

    /// <summary>Trains until max steps, the time budget, a loss that is not finite, or <see cref="RequestStop"/>.</summary>
    public TrainingEnd Run(ITrainingDisplay display)
    {
        var latest = Path.Combine(o.Out, LatestDir);
        var resumed = o.Resume ? RunState.TryRead(latest) : null;
        if (resumed is not null && o.HParams.Differences(resumed.HParams) is { Count: > 0 } changed)
            throw new ArgumentException($"--resume continues {o.Out} with its checkpoint's hyper-parameters, and these differ: {string.Join(", ", changed)}. " +
                                        "Leave them out, or start a new run (another --out, or --force to replace this one).");
        var init = o.InitFrom is null ? null : RunState.TryRead(o.InitFrom)
            ?? throw new ArgumentException($"--init-from {o.InitFrom}: no checkpoint there (a folder with {RunState.File} and {RunState.Weights}, such as a run's {BestDir} or {AverageDir})");
        var widens = init is not null && Widening.Applies(init.HParams, o.HParams);
        if (init is not null && !widens && o.HParams.Differences(init.HParams, shapeOnly: true) is { Count: > 0 } reshaped)
            throw new ArgumentException($"--init-from {o.InitFrom}: its weights do not fit these sizes: {string.Join(", ", reshaped)} " +
                                        "(only the decoder can grow, with every other size as the checkpoint's)");
        // A checkpoint trained without the flag gains its weights, at zero, and their Adam state starts afresh.
        var gainsPartialFlag = init is { HParams.PartialFlag: false } && o.HParams.PartialFlag;
        var previous = resumed is null ? PreviousRun() : [];
        var hp = resumed?.HParams ?? o.HParams;
        var seed = o.Seed ?? resumed?.Seed ?? 1;
        var files = o.Data.Count > 0 ? o.Data : (resumed ?? init) is { } from ? DataFiles.Find(from) : [];
        var step = resumed?.Step ?? 0;
        torch.random.manual_seed(seed + step);
        var rng = new Random(seed + (int)step);
        var startedFrom = resumed?.InitFrom ?? (init is null ? null : DataFiles.Provenance(o.InitFrom!, init.Step));
        // A fine-tuned model reads strokes in its first run's units, so it keeps that run's scale factor.
        var data = TrainingData.Load(files, hp.MaxSeqLen, (resumed ?? init)?.ScaleFactor);
        var (dataNames, dataSha256) = DataFiles.Record(files);
        foreach (var line in data.Describe()) display.Line(line);
        if (data.Valid.Length == 0) display.Line($"no validation sketches: the \"{BestDir}\" checkpoint is the latest one");
        // Only once the data has loaded: a mistyped --data must not cost the run that --force would replace.
        if (o.Resume && resumed is null) display.Line($"no checkpoint in {o.Out}: starting a new run");
        foreach (var p in previous)
            if (Directory.Exists(p)) Directory.Delete(p, true);
            else File.Delete(p);
        Directory.CreateDirectory(o.Out);

        using var model = new SketchRnn(hp);
        using var optimizer = NewOptimizer(model, partialGroup: false);
        void AddPartialGroup() => AddPartialGroupTo(optimizer, model);
        var best = (Loss: double.PositiveInfinity, Step: 0L);
        var elapsedBefore = 0.0;
        var csvPath = Path.Combine(o.Out, LogFile);
        if (resumed is not null)
        {
            model.load(Path.Combine(latest, RunState.Weights));
            AddPartialGroup();
            optimizer.load_state_dict(Path.Combine(latest, RunState.Optimizer));
            (best, elapsedBefore) = ((resumed.BestValidLoss, resumed.BestStep), resumed.ElapsedSeconds);
            // Rows past the checkpoint (a run killed between validations) are trained again now.
            var kept = File.Exists(csvPath) ? File.ReadLines(csvPath).Skip(1).Where(l => long.TryParse(l.Split(',')[0], CultureInfo.InvariantCulture, out var s) && s <= step).ToArray() : [];
            File.WriteAllLines(csvPath, [LogHeader, .. kept]);
            // Likewise weights kept past it, so that 'average' never mixes two lines of training.
            var steps = Path.Combine(o.Out, StepsDir);
            foreach (var dir in Directory.Exists(steps) ? Directory.GetDirectories(steps) : [])
                if (KeptStep(dir) is not { } keptAt || keptAt > step) Directory.Delete(dir, true);
            display.Line($"resumed at step {step} (best validation loss, Lr + w_KL·max(KL, floor), {best.Loss:F4} at step {best.Step})");
        }
        else
        {
            File.WriteAllText(csvPath, LogHeader + "\n");
            if (!gainsPartialFlag) AddPartialGroup();
            if (init is not null)
            {
                // Adam's moments too where the folder has them: restarted at zero, its first steps move every weight
                // by the full learning rate: a sheep fine-tuned without them validated 0.07 worse in Lr at step 250.
                var moments = Path.Combine(o.InitFrom!, RunState.Optimizer);
                var hasMoments = File.Exists(moments);
                if (widens)
                {
                    using var narrow = new SketchRnn(init.HParams);
                    narrow.load(Path.Combine(o.InitFrom!, RunState.Weights));
                    Widening.Weights(narrow, model);
                    if (gainsPartialFlag) AddPartialGroup();
                    if (hasMoments)
                    {
                        using var narrowOptimizer = NewOptimizer(narrow, partialGroup: true);
                        narrowOptimizer.load_state_dict(moments);
                        Widening.Moments(narrow, narrowOptimizer, model, optimizer);
                    }
                }
                else
                {
                    model.load(Path.Combine(o.InitFrom!, RunState.Weights), strict: !gainsPartialFlag);
                    if (hasMoments) optimizer.load_state_dict(moments);
                    if (gainsPartialFlag) AddPartialGroup();
                }
                display.Line($"weights {(hasMoments ? "and Adam's state " : "")}from {o.InitFrom} (step {init.Step}); a new run from step 0" +
                             (widens ? $"; the decoder widened from {init.HParams.DecoderSize} to {hp.DecoderSize} units, each new one a copy of an old one" : "") +
                             (gainsPartialFlag ? "; the partial flag's shift starts at zero" : ""));
            }
        }
        display.Line($"model: {(hp.DecoderOnly ? "decoder-only" : "vae")}, enc {hp.EncoderSize}, dec {hp.DecoderSize}, z {hp.LatentSize}, M {hp.Mixtures}, " +
                     $"{model.parameters().Sum(p => p.numel())} parameters, batch {hp.BatchSize}, max steps {o.MaxSteps}, time budget {o.TimeBudget?.ToString() ?? "none"}");

        var lengths = data.Train.Select(s => s.Length).ToArray();
        var epoch = new Queue<int[]>();
        var clock = Stopwatch.StartNew();
        var startStep = step;
        double emaLr = double.NaN, emaKl = double.NaN;

        void Save(string dir, bool withOptimizer = true)
        {
            var tmp = Path.Combine(o.Out, dir + ".tmp");
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            Directory.CreateDirectory(tmp);
            model.save(Path.Combine(tmp, RunState.Weights));
            if (withOptimizer) optimizer.save_state_dict(Path.Combine(tmp, RunState.Optimizer));
            new RunState(hp, step, data.ScaleFactor, data.Name, data.Train.Length, data.Valid.Length, data.Test.Length,
                best.Loss, best.Step, elapsedBefore + clock.Elapsed.TotalSeconds, seed, dataNames,
                InitFrom: startedFrom, DataSha256: dataSha256).Write(tmp);
            var target = Path.Combine(o.Out, dir);
            if (Directory.Exists(target)) Directory.Delete(target, true);
            Directory.Move(tmp, target);
        }

        TimeSpan? lastValidation = null;
        LossFigures? ValidateAndSave()
        {
            var started = Stopwatch.GetTimestamp();
            var valid = Evaluate(model, data.Valid, hp, seed);
            lastValidation = Stopwatch.GetElapsedTime(started);
            if (valid is not null)
            {
                var loss = ValidationLoss(hp, valid);
                display.Line($"step {step}: valid Lr {valid.Reconstruction:F4}, KL {valid.Kl:F4}" + (loss < best.Loss ? " (best)" : ""));
                if (loss < best.Loss) { best = (loss, step); Save(BestDir); }
            }
            else
            {
                best = (double.NaN, step);
                Save(BestDir);
            }
            Save(LatestDir);
            if (o.KeepCheckpoints) Save(Path.Combine(StepsDir, step.ToString(CultureInfo.InvariantCulture)), withOptimizer: false);
            return valid;
        }

        // One step; the optimizer is not stepped on a loss that is not finite.
        (double Lr, double Kl, double WKl, double LearningRate) TrainStep(int[] indices)
        {
            var learningRate = hp.LearningRateAt(step);
            var wKl = hp.KlWeightAt(step);
            var groups = optimizer.ParamGroups.ToArray();
            for (var i = 0; i < groups.Length; i++) groups[i].LearningRate = i == 0 ? learningRate : learningRate * PartialRateScale;
            using var scope = NewDisposeScope();
            model.train();
            var sketches = indices.Select(i => StrokeDataset.Augment(data.Train[i], rng, hp.RandomScale, hp.AugmentDropProb)).ToArray();
            var (enc, dec, target, lens) = Batch.ToTensors(StrokeDataset.ToStroke5Batch(sketches));
            var encoderLens = hp.PrefixShare > 0 && !hp.DecoderOnly
                ? torch.tensor(sketches.Select(s => (long)EncoderPrefix(s, hp.PrefixShare, rng)).ToArray())
                : lens;
            var endWeights = EndWeights(encoderLens, lens, hp);
            var partialFlags = hp.PartialFlag ? (encoderLens != lens) : null;
            var (lossR, _, _) = ForwardLoss(model, enc, dec, target, encoderLens, maskPen: false, g: null, out var klRaw, endWeights, partialFlags);
            var total = hp.DecoderOnly ? lossR : lossR + wKl * klRaw.clamp_min(hp.KlTolerance);
            optimizer.zero_grad();
            total.backward();
            nn.utils.clip_grad_value_(model.parameters(), hp.GradClip);
            double lr = lossR.item<float>(), kl = hp.DecoderOnly ? 0 : klRaw.item<float>();
            if (double.IsFinite(lr) && double.IsFinite(kl)) optimizer.step();
            return (lr, kl, wKl, learningRate);
        }

        TrainingEnd? Ended() =>
            step >= o.MaxSteps ? TrainingEnd.MaxSteps
            : _stop ? TrainingEnd.Interrupted
            : o.TimeBudget is { } budget && clock.Elapsed >= budget ? TrainingEnd.TimeBudget
            : null;

        var end = Ended();
        while (end is null)
        {
            if (epoch.Count == 0) foreach (var b in StrokeDataset.BucketedBatches(lengths, hp.BatchSize, rng)) epoch.Enqueue(b);
            var batch = epoch.Dequeue();
            var (lr, kl, wKl, learningRate) = NoGcStep.Run(() => TrainStep(batch));
            if (!double.IsFinite(lr) || !double.IsFinite(kl))
            {
                display.Line($"error: the loss became {(double.IsFinite(lr) ? kl : lr)} at step {step + 1} (Lr {lr}, KL {kl}); stopping without saving. " +
                             (RunState.TryRead(latest) is { } last ? $"The last good checkpoint is {latest} (step {last.Step}). " : "No checkpoint had been saved yet. ") +
                             "Try a lower --lr, a lower --grad-clip or another --seed.");
                return TrainingEnd.NotFinite;
            }
            step++;
            (emaLr, emaKl) = double.IsNaN(emaLr) ? (lr, kl) : (0.95 * emaLr + 0.05 * lr, 0.95 * emaKl + 0.05 * kl);
            Report(wKl);

            end = Ended();
            // Said at once: validating and saving take a while, and a second Ctrl-C would not make them shorter.
            if (end == TrainingEnd.Interrupted)
                display.Line($"stopping: validating {data.Valid.Length} sketches and saving{(lastValidation is { } took ? $" (about {took.TotalSeconds:0} s)" : "")}…");
            var valid = step % o.ValidEvery == 0 || end is not null ? ValidateAndSave() : null;
            File.AppendAllText(csvPath, $"{step},{F(elapsedBefore + clock.Elapsed.TotalSeconds)},{F(lr)},{F(kl)},{F(wKl)},{F(learningRate)}," +
                                        $"{(valid is null ? "" : F(valid.Reconstruction))},{(valid is null ? "" : F(valid.Kl))}\n");
        }

        var time = TimeSpan.FromSeconds(elapsedBefore + clock.Elapsed.TotalSeconds);
        var what = end switch { TrainingEnd.Interrupted => "interrupted; saved", TrainingEnd.TimeBudget => "time budget used up; saved", _ => "finished" };
        display.Line(step > startStep ? $"{what} at step {step} after {time:hh\\:mm\\:ss}; best valid at step {best.Step}. Checkpoints in {o.Out}"
            : end == TrainingEnd.MaxSteps ? $"nothing to train: the run is at step {step} of --max-steps {o.MaxSteps}"
            : $"interrupted before the first step: {(resumed is null ? "nothing saved" : $"the checkpoint stays at step {step}")}");
        return end.Value;

        // The bar fills by steps or by the time budget, whichever is closer to done.
        void Report(double wKl)
        {
            var elapsed = clock.Elapsed;
            var rate = (step - startStep) / Math.Max(elapsed.TotalSeconds, 1e-9);
            var eta = (o.MaxSteps - step) / Math.Max(rate, 1e-9);
            var done = (double)step / o.MaxSteps;
            if (o.TimeBudget is { } budget)
            {
                eta = Math.Min(eta, (budget - elapsed).TotalSeconds);
                done = Math.Max(done, elapsed / budget);
            }
            display.Progress(step, Math.Min(done, 1), $"step {step}/{o.MaxSteps} | Lr {emaLr:F4} | KL {emaKl:F4} | w_KL {wKl:F4} | {rate:F2} steps/s | " +
                                                      $"ETA {TimeSpan.FromSeconds(Math.Max(0, eta)):hh\\:mm\\:ss}");
        }
    }

    /// <summary>
    /// The weight of each sketch's end step [B]: <see cref="HParams.EndWeight"/> where the encoder read the whole drawing
    /// (its length equals the sketch's), <see cref="HParams.PrefixEndWeight"/> where it read a prefix, whose z does not
    /// show where the drawing ends; null when both are 1 (Magenta's loss).
    /// </summary>
    public static Tensor? EndWeights(Tensor encoderLengths, Tensor lengths, HParams hp) =>
        hp.EndWeight == 1 && hp.PrefixEndWeight == 1 ? null : where(encoderLengths == lengths, hp.EndWeight, hp.PrefixEndWeight).to(ScalarType.Float32);

    /// <summary>
    /// How much faster than the rest the partial flag's shift learns: it starts at zero when a trained model is
    /// fine-tuned into the flag, and at a fine-tune's rate (6e-5) Adam would need some 10 000 steps to move it by 0.5.
    /// </summary>
    public const double PartialRateScale = 100;

    // The partial flag's weights in a group of their own, added after the rest, so that the Adam state of a
    // checkpoint without them loads into the first group.
    public static TorchSharp.Modules.Adam NewOptimizer(SketchRnn model, bool partialGroup)
    {
        var optimizer = optim.Adam(model.named_parameters().Where(p => !SketchRnn.PartialWeights.Contains(p.name)).Select(p => p.parameter), model.HParams.LearningRate);
        if (partialGroup) AddPartialGroupTo(optimizer, model);
        return optimizer;
    }

    private static void AddPartialGroupTo(TorchSharp.Modules.Adam optimizer, SketchRnn model)
    {
        if (model.HParams.PartialFlag)
            optimizer.add_param_group(new TorchSharp.Modules.Adam.ParamGroup(model.PartialParameters(), model.HParams.LearningRate * PartialRateScale));
    }

    /// <summary>The names of the weights in the order the optimizer holds them: its first group, then the partial flag's.</summary>
    public static IEnumerable<string> OptimizedNames(SketchRnn model)
    {
        var names = model.named_parameters().Select(p => p.name).ToArray();
        return names.Where(n => !SketchRnn.PartialWeights.Contains(n)).Concat(names.Where(SketchRnn.PartialWeights.Contains));
    }

    /// <summary>
    /// How many points of a training sketch the encoder reads: with probability <paramref name="share"/> the points of its
    /// first k strokes, k uniform in 1..n−1 (a prefix ends where a stroke does, as a drawing sent while it is being drawn);
    /// else all of them. A sketch of one stroke is always read whole.
    /// </summary>
    public static int EncoderPrefix(StrokePoint[] sketch, double share, Random rng)
    {
        if (share <= 0 || rng.NextDouble() >= share) return sketch.Length;
        var strokeEnds = new List<int>();
        for (var i = 0; i < sketch.Length - 1; i++)
            if (sketch[i].PenLifted) strokeEnds.Add(i + 1);
        return strokeEnds.Count == 0 ? sketch.Length : strokeEnds[rng.Next(strokeEnds.Count)];
    }

    /// <summary>Lr + w_KL·max(KL, floor) at the final KL weight: what "best" checkpoints and averages are chosen by.</summary>
    public static double ValidationLoss(HParams hp, LossFigures valid) => valid.Reconstruction + hp.KlWeight * Math.Max(valid.Kl, hp.KlTolerance);

    /// <summary>The step a folder under <see cref="StepsDir"/> was kept at; null for anything else, such as a save cut short (<c>.tmp</c>).</summary>
    public static long? KeptStep(string dir) => long.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var step) ? step : null;

    /// <summary>What a new run in Out would overwrite; refused unless --force.</summary>
    private string[] PreviousRun()
    {
        var found = new[] { LatestDir, BestDir, StepsDir, AverageDir, LogFile }.Select(f => Path.Combine(o.Out, f)).Where(p => Directory.Exists(p) || File.Exists(p)).ToArray();
        if (found.Length > 0 && !o.Force && o.Resume)
            // A run stopped between saving its first best and its first checkpoint leaves this; its best is worth keeping.
            throw new ArgumentException($"{o.Out} has no checkpoint to resume, but holds {string.Join(" and ", found.Select(Path.GetFileName))}: " +
                                        (Directory.Exists(Path.Combine(o.Out, BestDir)) ? $"copy {BestDir} to {LatestDir} to resume from it, or add" : "add") +
                                        " --force to start over and replace them");
        if (found.Length > 0 && !o.Force)
            throw new ArgumentException($"{o.Out} already holds a run (" +
                                        (RunState.TryRead(Path.Combine(o.Out, LatestDir)) is { } s ? $"its checkpoint is at step {s.Step}" : string.Join(", ", found.Select(Path.GetFileName))) +
                                        "): add --resume to continue it, or --force to start over and replace it");
        return found;
    }

    internal static (Tensor Lr, Tensor OffsetNll, Tensor PenCe) ForwardLoss(SketchRnn model, Tensor enc, Tensor dec, Tensor target, Tensor lens, bool maskPen, Generator? g, out Tensor kl,
        Tensor? endWeights = null, Tensor? partialFlags = null)
    {
        Tensor? z = null;
        kl = torch.zeros(1);
        if (!model.HParams.DecoderOnly)
        {
            var (mu, presig) = model.Encode(enc, lens, partialFlags);
            z = SketchRnn.SampleZ(mu, presig, g);
            kl = Loss.Kl(mu, presig);
        }
        var p = model.Decode(dec, z);
        return Loss.Reconstruction(p, target, model.HParams.Mixtures, model.HParams.MaxSeqLen, maskPen, endWeights);
    }

    /// <summary>
    /// Lr (pen loss masked after the end, as Magenta's eval model) and raw KL over a split, z sampled with a fixed
    /// seed; null for a split without sketches.
    /// </summary>
    public static LossFigures? Evaluate(SketchRnn model, StrokePoint[][] sketches, HParams hp, int seed)
    {
        if (sketches.Length == 0) return null;
        // Not under no_grad: libtorch's no-grad LSTM kernel computes something else at some sizes (ValidationTests).
        model.eval();
        using var g = new Generator((ulong)seed);
        double lrSum = 0, klSum = 0;
        var order = Enumerable.Range(0, sketches.Length).OrderBy(i => sketches[i].Length).ToArray();
        foreach (var chunk in order.Chunk(hp.BatchSize))
        {
            var (lr, kl) = NoGcStep.Run(() =>
            {
                using var scope = NewDisposeScope();
                var (enc, dec, target, lens) = Batch.ToTensors(StrokeDataset.ToStroke5Batch(chunk.Select(i => sketches[i]).ToArray()));
                var (recon, _, _) = ForwardLoss(model, enc, dec, target, lens, maskPen: true, g, out var klRaw);
                return (recon.item<float>(), klRaw.item<float>());
            });
            lrSum += lr * chunk.Length;
            klSum += kl * chunk.Length;
        }
        model.train();
        return new LossFigures(lrSum / sketches.Length, klSum / sketches.Length);
    }

    private static string F(double x) => x.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>Stroke-5 batches as time-major tensors.</summary>
public static class Batch
{
    /// <summary>→ encoder input [T, B, 5] (the sketch), decoder input [T, B, 5] (S0 + sketch[..T-1]), target [T, B, 5], lengths [B] int64.</summary>
    public static (Tensor Enc, Tensor Dec, Tensor Target, Tensor Lengths) ToTensors(Stroke5Batch b)
    {
        var x = torch.tensor(b.Data, [b.BatchSize, b.MaxLength + 1, 5]).transpose(0, 1).contiguous();
        var target = x[1..];
        return (target, x[..^1], target, torch.tensor(b.Lengths.Select(l => (long)l).ToArray()));
    }
}
