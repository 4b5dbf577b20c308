using System.Runtime;
using System.Runtime.CompilerServices;

namespace SketchService.Trainer.Tests;

// The GC's latency mode is process-wide: these run when no other test is training.
[CollectionDefinition(DisableParallelization = true)]
public class NoGcStepCollection;

[Collection(typeof(NoGcStepCollection))]
public class NoGcStepTests
{
    [Fact]
    public async Task Steps_of_concurrent_trainings_take_turns()
    {
        var inside = 0;
        var steps = Enumerable.Range(0, 4).Select(_ => Task.Run(() => NoGcStep.Run(() =>
        {
            var overlap = Interlocked.Increment(ref inside) > 1;
            Thread.Sleep(20);
            Interlocked.Decrement(ref inside);
            return overlap || GCSettings.LatencyMode != GCLatencyMode.NoGCRegion;
        })));

        Assert.All(await Task.WhenAll(steps), failed => Assert.False(failed));
    }

    [Fact]
    public void A_step_within_the_budget_runs_without_a_collection_and_returns_its_value()
    {
        var (before, after, mode) = NoGcStep.Run(() =>
        {
            var before = GC.CollectionCount(0);
            var kept = new List<byte[]>();
            for (int i = 0; i < 16 * 1024; i++) kept.Add(new byte[1024]); // 16 MB, as a step's many small objects
            return (before, GC.CollectionCount(0), GCSettings.LatencyMode);
        });

        Assert.Equal(before, after);
        Assert.Equal(GCLatencyMode.NoGCRegion, mode);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void A_step_past_the_budget_still_completes_and_leaves_the_region()
    {
        var total = NoGcStep.Run(() =>
        {
            long sum = 0;
            for (int i = 0; i < 2 * NoGcStep.Budget / (1 << 20); i++) sum += new byte[1 << 20].Length;
            return sum;
        });

        Assert.Equal(2 * NoGcStep.Budget, total);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void Garbage_from_before_the_step_is_finalised_before_it_starts()
    {
        var finalised = new StrongBox<bool>();
        Abandon(finalised);

        Assert.True(NoGcStep.Run(() => finalised.Value));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Abandon(StrongBox<bool> flag) => _ = new Finalisable(flag);

    private sealed class Finalisable(StrongBox<bool> flag)
    {
        ~Finalisable() => flag.Value = true;
    }
}
