namespace Konduktor.Storage.Testing;

/// <summary>
/// Switchable faults of a <see cref="GcsTestServer"/>. Each call replaces the earlier setting of its kind; each faulted
/// request uses up one count. A request that meets several faults gets the 429 first. Thread-safe.
/// </summary>
public sealed class GcsTestServerFaults
{
    private readonly Lock _gate = new();
    private Countdown _initiations;
    private Countdown _downloads;
    private Countdown _resets;
    private Countdown _throttles;

    /// <summary>Answers the next <paramref name="count"/> resumable-upload initiation POSTs with <paramref name="status"/>, without starting a session.</summary>
    /// <param name="count">How many initiations fail.</param>
    /// <param name="status">The HTTP status, 400–599 (default 503).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="status"/> is not an error status.</exception>
    public void FailInitiations(int count, int status = 503) => SetFailure(ref _initiations, count, status);

    /// <summary>Answers the next <paramref name="count"/> <c>alt=media</c> GETs with <paramref name="status"/>.</summary>
    /// <param name="count">How many downloads fail.</param>
    /// <param name="status">The HTTP status, 400–599 (default 503).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="status"/> is not an error status.</exception>
    public void FailDownloads(int count, int status = 503) => SetFailure(ref _downloads, count, status);

    /// <summary>
    /// For the next <paramref name="count"/> resumable chunk PUTs with a body: reads <paramref name="afterBytes"/> bytes of
    /// the body (or all of a shorter one), then aborts the connection. The interrupted chunk is not persisted.
    /// </summary>
    /// <param name="count">How many chunks are cut.</param>
    /// <param name="afterBytes">Body bytes read before the abort.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="afterBytes"/> is negative.</exception>
    public void ResetMidChunk(int count, long afterBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterBytes);
        Set(ref _resets, count, afterBytes);
    }

    /// <summary>Answers the next <paramref name="count"/> requests, of any kind, with 429 and <c>Retry-After: <paramref name="retryAfterSeconds"/></c>.</summary>
    /// <param name="count">How many requests are throttled.</param>
    /// <param name="retryAfterSeconds">The <c>Retry-After</c> value in seconds.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="retryAfterSeconds"/> is negative.</exception>
    public void TooManyRequests(int count, int retryAfterSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retryAfterSeconds);
        Set(ref _throttles, count, (long)retryAfterSeconds);
    }

    /// <summary>Switches every fault off.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _initiations = _downloads = _resets = _throttles = default;
        }
    }

    internal bool TryTakeInitiationFailure(out int status) => TryTake(ref _initiations, out status);

    internal bool TryTakeDownloadFailure(out int status) => TryTake(ref _downloads, out status);

    internal bool TryTakeReset(out long afterBytes) => TryTake(ref _resets, out afterBytes);

    internal bool TryTakeThrottle(out int retryAfterSeconds) => TryTake(ref _throttles, out retryAfterSeconds);

    private void Set(ref Countdown fault, int count, long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            fault = new Countdown(count, value);
        }
    }

    private void SetFailure(ref Countdown fault, int count, int status)
    {
        if (status is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "An injected failure needs an error status (400–599).");
        }

        Set(ref fault, count, status);
    }

    private bool TryTake(ref Countdown fault, out long value)
    {
        lock (_gate)
        {
            value = fault.Value;
            if (fault.Remaining == 0)
            {
                return false;
            }

            fault = fault with { Remaining = fault.Remaining - 1 };
            return true;
        }
    }

    private bool TryTake(ref Countdown fault, out int value)
    {
        var taken = TryTake(ref fault, out long wide);
        value = (int)wide;
        return taken;
    }

    private readonly record struct Countdown(int Remaining, long Value);
}
