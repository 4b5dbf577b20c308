using System.Runtime;

namespace SketchService.Trainer;

/// <summary>
/// Runs a training or validation step with no garbage collection inside it.
/// TorchSharp leaves the Scalars that its operators create (<c>lengths - 1</c> here, and inside Adam) to the
/// finalizer, and does not keep them alive across the native call that reads them (TorchSharp PRs #1434 and #1496,
/// open). A collection started by another thread during a step can therefore free a Scalar while libtorch is still
/// reading it. A resumed sheep run died that way after 1100 steps, with "Unknown scalar type" in <c>sub(Scalar)</c>.
/// So each step starts after a collection whose finalizers have all run, and it runs inside a no-GC region.
/// </summary>
public static class NoGcStep
{
    /// <summary>
    /// The managed allocation a step may make before the runtime has to collect anyway, which ends the region early.
    /// A sheep step allocates a few MB (its batch arrays and the tensor wrappers).
    /// </summary>
    public const long Budget = 128L << 20;

    // The region is process-wide and cannot be nested, so steps of concurrent trainings (the tests run several) take turns.
    private static readonly Lock Gate = new();

    public static T Run<T>(Func<T> step)
    {
        lock (Gate)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var region = GC.TryStartNoGCRegion(Budget);
            try { return step(); }
            finally
            {
                // Past the budget the runtime has already collected and left the region; ending it again would throw.
                if (region && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
            }
        }
    }
}
