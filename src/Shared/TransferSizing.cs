namespace Konduktor.Storage;

/// <summary>
/// Buffer and range sizes of a bucket store's transfers, from its part size and concurrency. On a remote link every request
/// pays a round trip and every connection carries a bounded throughput, so a transfer is as fast as the requests it keeps in
/// flight: a read of a mid-sized object is cut into enough ranges to use the store's concurrency, and a small object never
/// ties up a part-sized buffer. A source file shared by the store packages, compiled into each of them.
/// </summary>
internal static class TransferSizing
{
    /// <summary>The buffer a writer starts in: objects up to this size (most files of a sharded checkpoint) never hold a part-sized one.</summary>
    public const int FirstBufferBytes = 1024 * 1024;

    /// <summary>
    /// The first ranged read of an object whose length is not known yet: small objects (most files of a sharded checkpoint)
    /// come whole in it, and a large one does not wait for a whole part on one connection before its other ranges start.
    /// </summary>
    public const int FirstRangeBytes = 1024 * 1024;

    /// <summary>The smallest range a parallel read cuts (below this, a request's round trip costs more than its bytes).</summary>
    public const int MinRangeBytes = 1024 * 1024;

    /// <summary>
    /// The range size for reading <paramref name="remaining"/> bytes: the part size, or less when that leaves fewer ranges
    /// than <paramref name="concurrency"/> (rounded up to whole MiB, at least <see cref="MinRangeBytes"/>).
    /// </summary>
    public static int RangeSize(int partSize, int concurrency, long remaining)
    {
        var even = (remaining + Math.Max(1, concurrency) - 1) / Math.Max(1, concurrency);
        var rounded = (even + MinRangeBytes - 1) / MinRangeBytes * MinRangeBytes;
        return (int)Math.Clamp(rounded, Math.Min(MinRangeBytes, partSize), partSize);
    }

    /// <summary>
    /// How many part buffers a store's pool keeps: the parts in flight, and a filling and a waiting one for each of the files
    /// the manager moves at once.
    /// </summary>
    public static int PooledBuffers(int concurrency, int concurrentFiles) => concurrency + (2 * concurrentFiles);
}
