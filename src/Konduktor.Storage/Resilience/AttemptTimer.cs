namespace Konduktor.Storage;

/// <summary>
/// A restartable deadline on one step of a longer transfer (a page of a listing, one read): runs only between
/// <see cref="Start"/> and <see cref="Stop"/>, so time the consumer spends between steps does not count.
/// </summary>
internal sealed class AttemptTimer : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource? _linked;

    public AttemptTimer(TimeSpan timeout, TimeProvider timeProvider, CancellationToken linkedWith = default)
    {
        _timeout = timeout;
        _timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        _linked = linkedWith.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(linkedWith, _timer.Token) : null;
    }

    /// <summary>Cancelled when the deadline passes, or when the token given at construction is.</summary>
    public CancellationToken Token => _linked?.Token ?? _timer.Token;

    /// <summary>Cancelled when the deadline passes.</summary>
    public CancellationToken TimerToken => _timer.Token;

    /// <summary>Whether the deadline passed (as opposed to a cancellation by the caller).</summary>
    public bool Expired => _timer.IsCancellationRequested;

    public void Start() => _timer.CancelAfter(_timeout);

    public void Stop() => _timer.CancelAfter(Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _linked?.Dispose();
        _timer.Dispose();
    }
}
