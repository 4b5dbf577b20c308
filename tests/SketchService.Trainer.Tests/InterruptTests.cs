using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace SketchService.Trainer.Tests;

/// <summary>
/// Ctrl-C on a resumed run, pressed as an impatient user does (ten times): the real CLI in its own process, stopped
/// mid-step and resumed, cycle after cycle. Each stop must save, log its validation and exit 130. Before the fix a
/// third of such stops ended in "corrupted size vs. prev_size while consolidating". SKETCH_INTERRUPT_CYCLES sets the
/// number of cycles (default 10).
/// </summary>
public class InterruptTests
{
    [Fact]
    public async Task Ctrl_C_on_a_resumed_run_saves_and_exits_130_every_time()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "POSIX signals, read from /proc");
        var cycles = int.TryParse(Environment.GetEnvironmentVariable("SKETCH_INTERRUPT_CYCLES"), CultureInfo.InvariantCulture, out var n) ? n : 20;
        using var temp = new TempFolder();
        var run = temp.Path;
        // Sheep-length sequences and a batch of 50: long MKL and oneDNN calls, where the signals used to land.
        string[] args = ["train", "--data", SharedData.Path("data", "sketchrnn", "aaron_sheep.npz"), "--out", run,
            "--enc", "32", "--dec", "64", "--z", "16", "--batch", "50", "--threads", "1", "--valid-every", "1000000"];
        var (code, output) = await RunProcess([.. args, "--max-steps", "1"], stopAfterSteps: null);
        Assert.True(code == 0, output);
        var (signal, exitCode) = SigIntIgnored() ? (Sigterm, Commands.Terminated) : (Sigint, Commands.Interrupted);
        for (var i = 1; i <= cycles; i++)
        {
            (code, output) = await RunProcess([.. args, "--resume", "--max-steps", "1000000"], stopAfterSteps: 3, signal);
            Assert.True(code == exitCode, $"cycle {i}: exit code {code}\n{output}");
            Assert.Contains("interrupted; saved at step", output);
            Assert.Contains("stopping: validating 300 sketches and saving", output); // said before the wait, not after it
            var last = File.ReadLines(Path.Combine(run, Training.LogFile)).Last().Split(',');
            Assert.Equal(RunState.Read(Path.Combine(run, Training.LatestDir)).Step, long.Parse(last[0], CultureInfo.InvariantCulture));
            Assert.NotEqual("", last[6]); // the final validation
        }
    }

    private const int Sigint = 2, Sigterm = 15;

    /// <summary>Runs sketch-trainer; once it has trained <paramref name="stopAfterSteps"/> steps past its checkpoint, sends ten signals 20 ms apart.</summary>
    private static async Task<(int Code, string Output)> RunProcess(string[] args, int? stopAfterSteps, int signal = Sigint)
    {
        var run = args[Array.IndexOf(args, "--out") + 1];
        var from = RunState.TryRead(Path.Combine(run, Training.LatestDir))?.Step ?? 0;
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet, [Path.Combine(AppContext.BaseDirectory, "sketch-trainer.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        void Append(object _, DataReceivedEventArgs e) { lock (output) output.AppendLine(e.Data); }
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            if (stopAfterSteps is { } steps)
            {
                while (!process.HasExited && LastStep(run) < from + steps) await Task.Delay(50, timeout.Token);
                for (var i = 0; i < 10 && !process.HasExited; i++, await Task.Delay(20, timeout.Token)) kill(process.Id, signal);
            }
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            lock (output) output.AppendLine("(killed after 2 minutes)");
        }
        lock (output) return (process.HasExited ? process.ExitCode : -1, output.ToString());
    }

    private static long LastStep(string run)
    {
        var csv = Path.Combine(run, Training.LogFile);
        try { return File.Exists(csv) && long.TryParse(File.ReadLines(csv).LastOrDefault()?.Split(',')[0], CultureInfo.InvariantCulture, out var s) ? s : -1; }
        catch (IOException) { return -1; }
    }

    /// <summary>A process started with SIGINT ignored (a background job of a script) passes that on: then SIGTERM, the same path.</summary>
    private static bool SigIntIgnored() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:")) is var line
        && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (Sigint - 1))) != 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
