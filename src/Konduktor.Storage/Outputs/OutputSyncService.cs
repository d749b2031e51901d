using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage;

/// <summary>
/// Runs the output sync in a host: a pass every <see cref="OutputSyncOptions.Interval"/>, one before every checkpoint
/// commit of the registered <see cref="CheckpointManager"/>, and a final one when the host stops, within the host's
/// shutdown budget (its stopping token).
/// </summary>
internal sealed class OutputSyncService(OutputSync sync, CheckpointManager? manager, TimeProvider time, ILogger<OutputSyncService>? logger) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private readonly CancellationTokenSource _stopping = new();
    private IDisposable? _hook;
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Log.OutputSyncStarted(_logger, sync.LocalDirectory, sync.Outputs.Store.Location, sync.Outputs.Run, sync.Scope, sync.Options.Interval);
        if (manager is not null && sync.Options.SyncBeforeCheckpointCommit)
        {
            _hook = manager.CommitHooks.Add((_, ct) => PassAsync(final: false, ct));
        }

        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var result = await PassAsync(final: true, cancellationToken).ConfigureAwait(false);
        if (result is not null)
        {
            Log.OutputFinalSynced(_logger, result.FilesUploaded, result.BytesUploaded, result.Problems.Count);
        }
    }

    public ValueTask DisposeAsync()
    {
        _hook?.Dispose();
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(sync.Options.Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                await PassAsync(final: false, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass; a failure is logged and the next pass tries again.</summary>
    private async Task<OutputSyncResult?> PassAsync(bool final, CancellationToken cancellationToken)
    {
        try
        {
            return final ? await sync.FinalSyncAsync(cancellationToken).ConfigureAwait(false) : await sync.SyncAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Log.OutputPassFailed(_logger, e, final ? "final" : "periodic");
            return null;
        }
    }
}
