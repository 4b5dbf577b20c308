using Microsoft.Extensions.Options;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Serving;

/// <summary>
/// A graceful stop (SIGTERM, as Kubernetes sends it): readiness turns unhealthy at once, new decoding is refused with
/// 503 and Retry-After, and what is running (streams included) may finish for <see cref="SketchServiceOptions.DrainSeconds"/>;
/// then whatever is left ends (a stream with <c>event: error</c>). Kestrel waits for those requests
/// (HostOptions.ShutdownTimeout is the drain time plus 5 s), so the process exits well inside a pod's grace period.
/// </summary>
public sealed class ShutdownDrain(ModelStore store, IHostApplicationLifetime lifetime, IOptions<SketchServiceOptions> options, ILogger<ShutdownDrain> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(Begin);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Begin()
    {
        var grace = TimeSpan.FromSeconds(options.Value.DrainSeconds);
        logger.LogWarning("Stopping: new decoding is refused; running requests have {Seconds} s to finish", grace.TotalSeconds);
        store.Drain(new ServiceDrainingException("the service is shutting down; retry, another instance will answer"));
        _ = Task.Delay(grace).ContinueWith(_ =>
            store.StopAll(new ServiceDrainingException($"the service shut down before this request finished (drain time {grace.TotalSeconds:0} s)")),
            TaskScheduler.Default);
    }
}
