using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests;

/// <summary>The manager moves as many files at once as the store's <see cref="StoreCapabilities.ConcurrentFiles"/> says, and twice as many small ones.</summary>
public sealed class ConcurrentFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("konduktor-concurrent-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(6, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    [InlineData(6, true)]
    public async Task SaveDirectoryAndRestore_OpenTheStoresNumberOfFilesAtOnce_TwiceAsManySmallOnes(int concurrentFiles, bool small)
    {
        for (var i = 0; i < 12; i++)
        {
            var size = (small ? 1000 : (int)FileConcurrency.SmallFileBytes + 1) + i;
            await File.WriteAllBytesAsync(Path.Combine(_dir, $"shard-{i:D2}.bin"), CheckpointTestKit.Bytes(size, i));
        }

        var width = small ? 2 * concurrentFiles : concurrentFiles;
        var store = new WidthStore(new InMemoryCheckpointStore(), concurrentFiles, width);
        var manager = CheckpointTestKit.Manager(store);

        await manager.SaveDirectoryAsync(1, _dir);
        var target = Path.Combine(_dir, "restored");
        var restored = await manager.RestoreLatestAsync(target);

        Assert.True(restored.Found);
        Assert.Equal(width, store.MaxWriters);
        Assert.Equal(width, store.MaxReaders);
        Assert.Equal(12, Directory.GetFiles(target).Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void ConcurrentFiles_OutOfRange_IsRefused(int value) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new StoreCapabilities { ConcurrentFiles = value });

    [Fact]
    public void ConcurrentFiles_DefaultsToFour_AndIsReported()
    {
        var capabilities = new StoreCapabilities();

        Assert.Equal(4, capabilities.ConcurrentFiles);
        Assert.Contains("concurrentFiles=4", capabilities.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Reports <c>concurrentFiles</c> and counts the files being opened at once. Each open waits (up to a second) until
    /// <c>width</c> are open, so a manager that moves that many files at once is seen doing so even on a loaded machine, and one that
    /// moves more is seen exceeding it.
    /// </summary>
    private sealed class WidthStore(ICheckpointStore inner, int concurrentFiles, int width) : DelegatingStore(inner)
    {
        private readonly Width _writers = new(width);
        private readonly Width _readers = new(width);

        public int MaxWriters => _writers.Max;

        public int MaxReaders => _readers.Max;

        public override StoreCapabilities Capabilities { get; } = new()
        {
            CreateOnly = inner.Capabilities.CreateOnly,
            ConditionalDelete = inner.Capabilities.ConditionalDelete,
            ServerChecksumAlgorithm = inner.Capabilities.ServerChecksumAlgorithm,
            ConcurrentFiles = concurrentFiles,
        };

        public override async Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (key.Contains("/shard-", StringComparison.Ordinal))
            {
                await _writers.EnterAsync().ConfigureAwait(false);
            }

            return await base.OpenWriteAsync(key, options, cancellationToken).ConfigureAwait(false);
        }

        public override async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            if (key.Contains("/shard-", StringComparison.Ordinal))
            {
                await _readers.EnterAsync().ConfigureAwait(false);
            }

            return await base.OpenReadAsync(key, range, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Width(int target)
    {
        private int _active;
        private int _max;

        public int Max => Volatile.Read(ref _max);

        public async Task EnterAsync()
        {
            var active = Interlocked.Increment(ref _active);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (active < target && waited.Elapsed < TimeSpan.FromSeconds(1))
            {
                await Task.Delay(5).ConfigureAwait(false);
                active = Volatile.Read(ref _active);
            }

            int seen;
            while (active > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, active, seen) != seen)
            {
            }

            await Task.Delay(20).ConfigureAwait(false);
            Interlocked.Decrement(ref _active);
        }
    }
}
