using Microsoft.Extensions.Hosting;

namespace Konduktor.Storage;

/// <summary>
/// Starts the shutdown clock when the host begins to stop (SIGTERM, SIGINT, or StopApplication) and drains the background
/// saves when its turn to stop comes. Registered before the application's own services, it stops after them, so a trainer
/// can make its emergency save first.
/// </summary>
internal sealed class CheckpointShutdownService(CheckpointShutdown shutdown, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(() => shutdown.BeginStop("the host is stopping"));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.DisposeAsync().ConfigureAwait(false);

        // Failures and abandoned steps are logged by the drain; the host's stop must go on.
        await shutdown.DrainAsync(cancellationToken).ConfigureAwait(false);
    }
}
