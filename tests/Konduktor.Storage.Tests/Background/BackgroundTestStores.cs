using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests;

/// <summary>Stores that make uploads slow, held, or refused, to see what background saves do meanwhile.</summary>
internal sealed class HeldUploadStore(ICheckpointStore inner) : DelegatingStore(inner)
{
    private volatile TaskCompletionSource _gate = Open();

    /// <summary>Refuses every data upload of steps at or above this one with a 403, as a store without permission does.</summary>
    public long? DenyFromStep { get; set; }

    /// <summary>Time each data file's upload takes before it starts.</summary>
    public TimeSpan UploadDelay { get; set; }

    /// <summary>Data uploads begun so far.</summary>
    public int UploadsBegun => _begun;

    private int _begun;

    /// <summary>Holds every data upload until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public override async Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _begun);
        if (DenyFromStep is { } deny && StepOf(key) >= deny)
        {
            throw new StoreAccessDeniedException(Location, "the test's credentials", "403 Forbidden: AccessDenied");
        }

        await _gate.Task.WaitAsync(cancellationToken);
        if (UploadDelay > TimeSpan.Zero)
        {
            await Task.Delay(UploadDelay, cancellationToken);
        }

        return await base.OpenWriteAsync(key, options, cancellationToken);
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private static long StepOf(string key)
    {
        var at = key.IndexOf("step-", StringComparison.Ordinal);
        return long.Parse(key.AsSpan(at + 5, 12), System.Globalization.CultureInfo.InvariantCulture);
    }
}
