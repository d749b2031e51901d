namespace Konduktor.Storage.Testing;

/// <summary>
/// A network link for <see cref="LoopbackFaultProxy"/> to emulate between the client and the server: what a pod sees of a
/// remote bucket. Every connection's set-up pays <see cref="RoundTrip"/>; every byte arrives half of it after it was sent;
/// and each connection carries at most <see cref="BytesPerSecond"/> in each direction, as one TCP stream over a long path does.
/// </summary>
/// <param name="RoundTrip">The round-trip time added (zero or more).</param>
/// <param name="BytesPerSecond">The most one connection carries per direction (at least 1 KiB/s).</param>
public sealed record EmulatedLink(TimeSpan RoundTrip, long BytesPerSecond)
{
    /// <summary>The benchmark's remote link: 20 ms round trip, 4 MiB/s per connection and direction.</summary>
    public static EmulatedLink RemoteBucket { get; } = new(TimeSpan.FromMilliseconds(20), 4L * 1024 * 1024);

    /// <summary>The one-way delay: half the round trip.</summary>
    public TimeSpan OneWay => RoundTrip / 2;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The round trip is negative, or the rate below 1 KiB/s.</exception>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(RoundTrip, TimeSpan.Zero, nameof(RoundTrip));
        ArgumentOutOfRangeException.ThrowIfLessThan(BytesPerSecond, 1024, nameof(BytesPerSecond));
    }

    /// <inheritdoc />
    public override string ToString() =>
        FormattableString.Invariant($"{RoundTrip.TotalMilliseconds:0.#} ms round trip, {BytesPerSecond / 1048576.0:0.##} MiB/s per connection and direction");
}
