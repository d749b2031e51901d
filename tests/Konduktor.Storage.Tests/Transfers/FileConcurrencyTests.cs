namespace Konduktor.Storage.Tests;

/// <summary>How many files of a save or restore move at once: the store's number of large files, twice as many small ones beside them.</summary>
public sealed class FileConcurrencyTests
{
    private const long Large = FileConcurrency.SmallFileBytes + 1;
    private const long Small = FileConcurrency.SmallFileBytes;

    [Theory]
    [InlineData(0, 40, 0, 8)]
    [InlineData(40, 0, 4, 0)]
    [InlineData(40, 40, 4, 8)]
    public async Task ForEachAsync_MovesTheStoresNumberOfLargeFilesAndTwiceAsManySmallOnes(int largeFiles, int smallFiles, int largeAtOnce, int smallAtOnce)
    {
        var files = Enumerable.Repeat(Large, largeFiles).Concat(Enumerable.Repeat(Small, smallFiles)).ToList();
        var peak = new Dictionary<long, int> { [Large] = 0, [Small] = 0 };
        var running = new Dictionary<long, int> { [Large] = 0, [Small] = 0 };
        var gate = new object();
        var done = 0;

        await FileConcurrency.ForEachAsync(files, f => f, concurrentFiles: 4, async (file, ct) =>
        {
            lock (gate)
            {
                peak[file] = Math.Max(peak[file], ++running[file]);
            }

            // Each wave waits (bounded) until all of its slots are taken, so the peak is the limit unless the limit is wrong.
            var expected = file == Large ? largeAtOnce : smallAtOnce;
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                lock (gate)
                {
                    if (running[file] >= expected)
                    {
                        break;
                    }
                }

                await Task.Delay(5, ct);
            }

            lock (gate)
            {
                running[file]--;
                done++;
            }
        }, CancellationToken.None);

        Assert.Equal(files.Count, done);
        Assert.Equal(largeAtOnce, peak[Large]);
        Assert.Equal(smallAtOnce, peak[Small]);
    }

    [Fact]
    public async Task ForEachAsync_AFileFails_StopsTheOthersAndThrowsThatFailureNotACancellation()
    {
        var files = Enumerable.Repeat(Large, 20).Concat(Enumerable.Repeat(Small, 200)).ToList();
        var started = 0;
        var thrown = 0;

        var error = await Assert.ThrowsAsync<IOException>(() => FileConcurrency.ForEachAsync(files, f => f, 4, async (file, ct) =>
        {
            Interlocked.Increment(ref started);
            if (file == Large && Interlocked.Exchange(ref thrown, 1) == 0)
            {
                throw new IOException("disk full");
            }

            await Task.Delay(Timeout.Infinite, ct); // only a stop ends the others
        }, CancellationToken.None));

        Assert.Equal("disk full", error.Message);
        Assert.True(started <= 12, $"{started} files started: the failure stopped the rest");
    }

    [Fact]
    public async Task ForEachAsync_Cancelled_ThrowsOperationCanceled()
    {
        using var cancel = new CancellationTokenSource();
        var files = Enumerable.Repeat(Large, 5).Concat(Enumerable.Repeat(Small, 5)).ToList();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FileConcurrency.ForEachAsync(files, f => f, 2, async (_, ct) =>
        {
            await cancel.CancelAsync();
            await Task.Delay(Timeout.Infinite, ct);
        }, cancel.Token));
    }
}
