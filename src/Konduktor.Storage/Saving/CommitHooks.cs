namespace Konduktor.Storage;

/// <summary>
/// What runs right before a checkpoint's manifest is written: the output sync registers here, so the outputs in the store
/// cover at least the steps of every committed checkpoint. A hook's failure never fails the commit (hooks report their own
/// problems); cancellation does, as it would any save.
/// </summary>
internal sealed class CommitHooks
{
    private readonly Lock _gate = new();
    private Func<long, CancellationToken, Task>[] _hooks = [];

    /// <summary>Adds a hook; disposing the result removes it.</summary>
    public IDisposable Add(Func<long, CancellationToken, Task> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        lock (_gate)
        {
            _hooks = [.. _hooks, hook];
        }

        return new Removal(this, hook);
    }

    /// <summary>Runs every hook for <paramref name="step"/>, one after the other.</summary>
    public async Task RunAsync(long step, CancellationToken cancellationToken)
    {
        foreach (var hook in Volatile.Read(ref _hooks))
        {
            try
            {
                await hook(step, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The hook reported it; the checkpoint still commits.
            }
        }
    }

    private sealed class Removal(CommitHooks hooks, Func<long, CancellationToken, Task> hook) : IDisposable
    {
        public void Dispose()
        {
            lock (hooks._gate)
            {
                hooks._hooks = [.. hooks._hooks.Where(h => h != hook)];
            }
        }
    }
}
