using System.Diagnostics;
using SketchService.Runtime.Models;

namespace SketchService.Runtime.Decoding;

/// <summary>
/// Iteration-level batching (as Orca and vLLM schedule LLM decoding): every live sample of every admitted
/// <see cref="DecodeRun"/> is a row of one <see cref="DecoderState"/>, and <see cref="Step"/> advances them all with
/// one decoder_step run. Runs join between steps and their rows leave as soon as they end, are cancelled or pass
/// their deadline. A row's result does not depend on the others: ORT's CPU kernels compute each row of a MatMul
/// alone (checked bit for bit by the batching tests, on the CPU they run on; CUDA's kernels are chosen by shape and
/// make no such promise), and each run samples from its own seeded stream.
/// Single-threaded: one owner calls everything (the decoder lane of a <see cref="Scheduling.ModelScheduler"/>, or
/// <see cref="SketchDecoder"/> on the caller's thread).
/// </summary>
public sealed class DecodeBatch : IDisposable
{
    private readonly DecoderState state;
    private readonly List<DecodeRun> runs = [];
    private readonly (DecodeRun Run, int Sample)[] owners;
    private readonly List<(DecodeRun Run, int Sample)> leaving = [];
    private readonly List<DecodeRun> finished = [];
    private readonly List<(DecodeRun Run, Exception Error)> failed = [], removed = [];

    private readonly Action<int>? rowsFreed;
    private readonly Action<Exception>? failing;

    /// <param name="rowsFreed">Told how many rows left, after they leave and before the results of their runs are set.</param>
    /// <param name="failing">
    /// Told why each run it fails (stopped, its sampling threw, or the step did), before that run's failure is set: whoever
    /// awaits the failure then sees it counted.
    /// </param>
    public DecodeBatch(SketchModel model, int capacity, Action<int>? rowsFreed = null, Action<Exception>? failing = null)
    {
        Model = model;
        this.rowsFreed = rowsFreed;
        this.failing = failing;
        state = new DecoderState(model, capacity);
        owners = new (DecodeRun, int)[capacity];
    }

    public SketchModel Model { get; }

    public int Capacity => state.Capacity;

    /// <summary>Live rows: one per running sample.</summary>
    public int Rows => state.Rows;

    public int FreeRows => state.Capacity - state.Rows;

    public IReadOnlyList<DecodeRun> Runs => runs;

    /// <summary>Admits a run: its samples become rows at the end of the batch, input S0, state from their z (or zero).</summary>
    public void Add(DecodeRun run)
    {
        if (run.Rows > FreeRows) throw new InvalidOperationException($"a run of {run.Rows} rows does not fit: {FreeRows} of {Capacity} rows are free");
        if (run.NeedsZ) throw new InvalidOperationException("the run still waits for its z");
        int first = state.AddRows(run.Samples, run.RowZ);
        for (int s = 0; s < run.Samples; s++)
        {
            run.RowOf[s] = first + s;
            owners[first + s] = (run, s);
        }
        run.Started();
        runs.Add(run);
    }

    /// <summary>
    /// Removes the runs whose client went away (failed with <see cref="OperationCanceledException"/>) or whose
    /// deadline passed (<see cref="DeadlineExceededException"/>), freeing their rows; returns them with why (valid until the next call).
    /// </summary>
    public IReadOnlyList<(DecodeRun Run, Exception Error)> RemoveStopped()
    {
        removed.Clear();
        int before = state.Rows;
        long now = Stopwatch.GetTimestamp();
        for (int i = runs.Count - 1; i >= 0; i--)
        {
            var run = runs[i];
            if (run.StoppedBy(now) is not { } why) continue;
            RemoveRows(run);
            runs.RemoveAt(i);
            removed.Add((run, why));
        }
        Freed(before - state.Rows);
        foreach (var (run, why) in removed) Fail(run, why);
        return removed;
    }

    /// <summary>
    /// One tick: one decoder step over every live row, then each run primes or samples its rows (in admission order).
    /// Rows whose sample ended leave; finished runs are completed and removed. Returns the runs finished by this tick
    /// (valid until the next call).
    /// </summary>
    public IReadOnlyList<DecodeRun> Step()
    {
        finished.Clear();
        failed.Clear();
        if (state.Rows == 0) return finished;
        try
        {
            state.Step();
        }
        catch (Exception e)
        {
            // A failed run of the graph leaves every row's state undefined: fail them all, the batch starts empty.
            FailAll(e);
            throw;
        }
        leaving.Clear();
        int before = state.Rows;
        foreach (var run in runs)
        {
            try
            {
                if (run.Advance(state, leaving)) finished.Add(run);
            }
            catch (Exception e)
            {
                failed.Add((run, e)); // that run alone: the others' rows are sound
            }
        }
        foreach (var (run, _) in failed)
        {
            leaving.RemoveAll(l => l.Run == run);
            RemoveRows(run);
            runs.Remove(run);
        }
        foreach (var (run, sample) in leaving) RemoveRow(run, sample);
        foreach (var run in finished) runs.Remove(run);
        // Rows first, results after: whoever awaits a result sees its rows already gone.
        Freed(before - state.Rows);
        foreach (var (run, error) in failed) Fail(run, error);
        foreach (var run in finished) run.Complete();
        return finished;
    }

    private void Fail(DecodeRun run, Exception why)
    {
        failing?.Invoke(why);
        run.Fail(why);
    }

    private void Freed(int rows)
    {
        if (rows > 0) rowsFreed?.Invoke(rows);
    }

    /// <summary>Fails every run with <paramref name="why"/> and frees every row: the batch starts empty.</summary>
    public void FailAll(Exception why)
    {
        var all = runs.ToList();
        int rows = state.Rows;
        foreach (var run in runs)
            for (int s = 0; s < run.Samples; s++) run.RowOf[s] = -1;
        runs.Clear();
        state.Clear();
        Freed(rows);
        foreach (var run in all) Fail(run, why);
    }

    public void Dispose() => state.Dispose();

    /// <summary>Frees every row the run still holds.</summary>
    private void RemoveRows(DecodeRun run)
    {
        for (int s = 0; s < run.Samples; s++)
            if (run.RowOf[s] >= 0) RemoveRow(run, s);
    }

    private void RemoveRow(DecodeRun run, int sample)
    {
        int row = run.RowOf[sample];
        run.RowOf[sample] = -1;
        int moved = state.RemoveRow(row);
        if (moved < 0) return;
        var owner = owners[row] = owners[moved];
        owner.Run.RowOf[owner.Sample] = row;
    }
}
