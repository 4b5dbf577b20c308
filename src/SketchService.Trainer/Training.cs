using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SketchService.Inference.Strokes;
using TorchSharp;
using static TorchSharp.torch;

namespace SketchService.Trainer;

public sealed record TrainOptions
{
    public required IReadOnlyList<string> Data { get; init; }
    public required string Out { get; init; }
    public HParams HParams { get; init; } = new();
    public long MaxSteps { get; init; } = 10_000;
    public TimeSpan? TimeBudget { get; init; }
    public bool Resume { get; init; }
    public int Seed { get; init; } = 1;
    public int ValidEvery { get; init; } = 500;
}

/// <summary>What a checkpoint folder records besides the weights.</summary>
public sealed record RunState(HParams HParams, long Step, double ScaleFactor, string Dataset, int Train, int Valid, int Test,
    double BestValidLoss, long BestStep, double ElapsedSeconds, int Seed, IReadOnlyList<string> Data)
{
    public const string File = "state.json";
    public const string Weights = "model.bin";
    public const string Optimizer = "optimizer.bin";

    public void Write(string folder) => System.IO.File.WriteAllText(Path.Combine(folder, File), JsonSerializer.Serialize(this, Json));
    public static RunState Read(string folder) => JsonSerializer.Deserialize<RunState>(System.IO.File.ReadAllText(Path.Combine(folder, File)), Json)!;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
}

/// <summary>The training loop: length-bucketed batches, Magenta's loss and schedules, validation, checkpoints.</summary>
public sealed class Training(TrainOptions o, TextWriter log)
{
    public const string LatestDir = "checkpoint";
    public const string BestDir = "best";
    public const string LogFile = "train-log.csv";

    private volatile bool _stop;

    public void RequestStop() => _stop = true;

    /// <summary>Trains until max steps, the time budget, a NaN or Ctrl-C. Returns the process exit code.</summary>
    public int Run()
    {
        Directory.CreateDirectory(o.Out);
        var latest = Path.Combine(o.Out, LatestDir);
        RunState? resumed = o.Resume && Directory.Exists(latest) ? RunState.Read(latest) : null;
        var hp = resumed?.HParams ?? o.HParams;
        torch.random.manual_seed(o.Seed + (resumed?.Step ?? 0));
        var rng = new Random(o.Seed + (int)(resumed?.Step ?? 0));
        var data = TrainingData.Load(o.Data, hp.MaxSeqLen, resumed?.ScaleFactor);
        log.WriteLine($"data {data.Name}: train {data.Train.Length}, valid {data.Valid.Length}, test {data.Test.Length}, scale factor {data.ScaleFactor:F4}");

        using var model = new SketchRnn(hp);
        var optimizer = optim.Adam(model.parameters(), hp.LearningRate);
        var step = 0L;
        var best = (Loss: double.PositiveInfinity, Step: 0L);
        var elapsedBefore = 0.0;
        if (resumed is not null)
        {
            model.load(Path.Combine(latest, RunState.Weights));
            optimizer.load_state_dict(Path.Combine(latest, RunState.Optimizer));
            (step, best, elapsedBefore) = (resumed.Step, (resumed.BestValidLoss, resumed.BestStep), resumed.ElapsedSeconds);
            log.WriteLine($"resumed at step {step} (best valid {best.Loss:F4} at step {best.Step})");
        }
        log.WriteLine($"model: {(hp.Conditional ? "vae" : "decoder-only")}, enc {hp.EncoderSize}, dec {hp.DecoderSize}, z {hp.LatentSize}, M {hp.Mixtures}, " +
                      $"{model.parameters().Sum(p => p.numel())} parameters, batch {hp.BatchSize}, max steps {o.MaxSteps}, time budget {o.TimeBudget?.ToString() ?? "none"}");

        var csvPath = Path.Combine(o.Out, LogFile);
        if (!File.Exists(csvPath) || resumed is null) File.WriteAllText(csvPath, "step,elapsed_s,lr,kl,w_kl,learning_rate,valid_lr,valid_kl\n");
        var lengths = data.Train.Select(s => s.Length).ToArray();
        var epoch = new Queue<int[]>();
        var clock = Stopwatch.StartNew();
        var progress = new Progress(log, o.MaxSteps, o.TimeBudget, step);
        var startStep = step;

        void Save(string dir)
        {
            var tmp = Path.Combine(o.Out, dir + ".tmp");
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            Directory.CreateDirectory(tmp);
            model.save(Path.Combine(tmp, RunState.Weights));
            optimizer.save_state_dict(Path.Combine(tmp, RunState.Optimizer));
            new RunState(hp, step, data.ScaleFactor, data.Name, data.Train.Length, data.Valid.Length, data.Test.Length,
                best.Loss, best.Step, elapsedBefore + clock.Elapsed.TotalSeconds, o.Seed, o.Data.Select(Path.GetFullPath).ToArray()).Write(tmp);
            var target = Path.Combine(o.Out, dir);
            if (Directory.Exists(target)) Directory.Delete(target, true);
            Directory.Move(tmp, target);
        }

        // Validation loss = Lr + w_KL·max(KL, floor) at the final KL weight: the checkpoint kept as "best".
        var lastValidated = -1L;
        (double Lr, double Kl) ValidateAndSave()
        {
            var (vLr, vKl) = Evaluate(model, data.Valid, hp, o.Seed);
            var vLoss = vLr + hp.KlWeight * Math.Max(vKl, hp.KlTolerance);
            progress.Line($"step {step}: valid Lr {vLr:F4}, KL {vKl:F4}" + (vLoss < best.Loss ? " (best)" : ""));
            if (vLoss < best.Loss) { best = (vLoss, step); Save(BestDir); }
            Save(LatestDir);
            lastValidated = step;
            return (vLr, vKl);
        }

        while (step < o.MaxSteps && !_stop && (o.TimeBudget is not { } budget || clock.Elapsed < budget))
        {
            if (epoch.Count == 0) foreach (var b in StrokeDataset.BucketedBatches(lengths, hp.BatchSize, rng)) epoch.Enqueue(b);
            var indices = epoch.Dequeue();
            var learningRate = hp.LearningRateAt(step);
            var wKl = hp.KlWeightAt(step);
            foreach (var g in optimizer.ParamGroups) g.LearningRate = learningRate;

            double lr, kl;
            using (var scope = NewDisposeScope())
            {
                model.train();
                var sketches = indices.Select(i => StrokeDataset.Augment(data.Train[i], rng, hp.RandomScale, hp.AugmentDropProb)).ToArray();
                var (enc, dec, target, lens) = Batch.ToTensors(StrokeDataset.ToStroke5Batch(sketches));
                var (lossR, _, _) = ForwardLoss(model, enc, dec, target, lens, maskPen: false, g: null, out var klRaw);
                var total = hp.Conditional ? lossR + wKl * klRaw.clamp_min(hp.KlTolerance) : lossR;
                optimizer.zero_grad();
                total.backward();
                nn.utils.clip_grad_value_(model.parameters(), hp.GradClip);
                lr = lossR.item<float>();
                kl = hp.Conditional ? klRaw.item<float>() : 0;
                if (!double.IsFinite(lr) || !double.IsFinite(kl))
                {
                    log.WriteLine();
                    log.WriteLine($"error: the loss became {(double.IsFinite(lr) ? kl : lr)} at step {step + 1} (Lr {lr}, KL {kl}); stopping without saving. " +
                                  (Directory.Exists(latest) ? $"The last good checkpoint is {latest} (step {RunState.Read(latest).Step}). " : "No checkpoint had been saved yet. ") +
                                  "Try a lower --lr, a lower --grad-clip or another --seed.");
                    return 2;
                }
                optimizer.step();
            }
            step++;
            progress.Report(step, lr, kl, wKl, clock.Elapsed);

            string validLr = "", validKl = "";
            if (step % o.ValidEvery == 0 || step == o.MaxSteps)
            {
                var (vLr, vKl) = ValidateAndSave();
                (validLr, validKl) = (F(vLr), F(vKl));
            }
            File.AppendAllText(csvPath, $"{step},{F(elapsedBefore + clock.Elapsed.TotalSeconds)},{F(lr)},{F(kl)},{F(wKl)},{F(learningRate)},{validLr},{validKl}\n");
        }

        if (step > startStep && step != lastValidated) ValidateAndSave(); // stopped between validations
        progress.Line($"{(_stop ? "interrupted; saved" : "finished")} at step {step} after {TimeSpan.FromSeconds(elapsedBefore + clock.Elapsed.TotalSeconds):hh\\:mm\\:ss}; best valid at step {best.Step}. Checkpoints in {o.Out}");
        return 0;
    }

    internal static (Tensor Lr, Tensor OffsetNll, Tensor PenCe) ForwardLoss(SketchRnn model, Tensor enc, Tensor dec, Tensor target, Tensor lens, bool maskPen, Generator? g, out Tensor kl)
    {
        Tensor? z = null;
        kl = torch.zeros(1);
        if (model.H.Conditional)
        {
            var (mu, presig) = model.Encode(enc, lens);
            z = SketchRnn.SampleZ(mu, presig, g);
            kl = Loss.Kl(mu, presig);
        }
        var p = model.Decode(dec, z);
        return Loss.Reconstruction(p, target, model.H.Mixtures, model.H.MaxSeqLen, maskPen);
    }

    /// <summary>Lr (pen loss masked after the end, as Magenta's eval model) and raw KL over a split, z sampled with a fixed seed.</summary>
    public static (double Lr, double Kl) Evaluate(SketchRnn model, StrokePoint[][] sketches, HParams hp, int seed)
    {
        if (sketches.Length == 0) return (double.NaN, double.NaN);
        using var noGrad = torch.no_grad();
        model.eval();
        var g = new Generator((ulong)seed);
        double lrSum = 0, klSum = 0;
        var order = Enumerable.Range(0, sketches.Length).OrderBy(i => sketches[i].Length).ToArray();
        foreach (var chunk in order.Chunk(hp.BatchSize))
        {
            using var scope = NewDisposeScope();
            var (enc, dec, target, lens) = Batch.ToTensors(StrokeDataset.ToStroke5Batch(chunk.Select(i => sketches[i]).ToArray()));
            var (lr, _, _) = ForwardLoss(model, enc, dec, target, lens, maskPen: true, g, out var kl);
            lrSum += lr.item<float>() * chunk.Length;
            klSum += kl.item<float>() * chunk.Length;
        }
        model.train();
        return (lrSum / sketches.Length, klSum / sketches.Length);
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

/// <summary>A live one-line progress bar on a terminal; a line every 100 steps into a log file.</summary>
public sealed class Progress(TextWriter w, long maxSteps, TimeSpan? budget, long firstStep)
{
    private readonly bool _live = ReferenceEquals(w, Console.Out) && !Console.IsOutputRedirected;
    private double _emaLr = double.NaN, _emaKl = double.NaN;

    public void Report(long step, double lr, double kl, double wKl, TimeSpan elapsed)
    {
        _emaLr = double.IsNaN(_emaLr) ? lr : 0.95 * _emaLr + 0.05 * lr;
        _emaKl = double.IsNaN(_emaKl) ? kl : 0.95 * _emaKl + 0.05 * kl;
        var rate = (step - firstStep) / Math.Max(elapsed.TotalSeconds, 1e-9);
        var eta = (maxSteps - step) / Math.Max(rate, 1e-9);
        if (budget is { } b) eta = Math.Min(eta, (b - elapsed).TotalSeconds);
        var text = $"step {step}/{maxSteps} | Lr {_emaLr:F4} | KL {_emaKl:F4} | w_KL {wKl:F4} | {rate:F2} steps/s | ETA {TimeSpan.FromSeconds(Math.Max(0, eta)):hh\\:mm\\:ss}";
        if (_live)
        {
            var bar = new string('#', (int)(20.0 * step / maxSteps)).PadRight(20, '.');
            w.Write($"\r[{bar}] {text}   ");
        }
        else if (step % 100 == 0) w.WriteLine(text);
    }

    public void Line(string s)
    {
        if (_live) w.Write("\r" + new string(' ', 120) + "\r");
        w.WriteLine(s);
        w.Flush();
    }
}
