using SketchService.Runtime.Scheduling;

namespace SketchService.Runtime.Models;

/// <summary>A model being served: its loaded folder and the scheduler that runs all of its work.</summary>
public sealed class ServedModel(SketchModel model, ModelScheduler scheduler) : IDisposable
{
    public SketchModel Model { get; } = model;
    public ModelScheduler Scheduler { get; } = scheduler;
    public string Id => Model.Id;
    public bool IsVae => Model.Manifest.IsVae;

    public void Dispose() => Scheduler.Dispose();
}
