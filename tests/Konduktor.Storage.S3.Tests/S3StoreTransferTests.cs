using Amazon.S3.Model;
using ByteRange = Konduktor.Storage.Stores.ByteRange;

namespace Konduktor.Storage.S3.Tests;

/// <summary>Multipart writes, parallel ranged reads, create-only commits and stale-upload clean-up on a real RadosGW.</summary>
[Collection("RadosGW")]
public sealed class S3StoreTransferTests(RadosGwServer server)
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task OpenWriteAsync_40MiBInFiveMiBPartsThreeAtOnce_RoundTripsExactly()
    {
        using var store = await S3TestStores.CreateAsync(server);
        var data = RandomBytes(40 * MiB, seed: 1);

        var writer = await store.OpenWriteAsync("big/model.bin");
        await using (writer)
        {
            // Odd-sized writes, so parts never line up with the caller's buffers.
            for (var offset = 0; offset < data.Length; offset += 1_000_003)
            {
                await writer.WriteAsync(data.AsMemory(offset, Math.Min(1_000_003, data.Length - offset)));
            }

            var info = await writer.CompleteAsync();
            Assert.Equal(data.Length, info.Length);
            Assert.Contains("-8", info.ETag, StringComparison.Ordinal);
        }

        Assert.Equal(data, await ReadAllAsync(store, "big/model.bin"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Theory]
    [InlineData((1 * MiB) - 1)]
    [InlineData(1 * MiB)]
    [InlineData((1 * MiB) + 1)]
    [InlineData((5 * MiB) + 7)]
    public async Task OpenWriteAsync_AroundTheFirstBufferAndPartSizes_RoundTripsExactly(int length)
    {
        // Writers start in a 1 MiB buffer and move to a part-sized one only when they outgrow it.
        using var store = await S3TestStores.CreateAsync(server);
        var data = RandomBytes(length, seed: length);

        var writer = await store.OpenWriteAsync("grown.bin");
        await using (writer)
        {
            for (var offset = 0; offset < data.Length; offset += 300_007)
            {
                await writer.WriteAsync(data.AsMemory(offset, Math.Min(300_007, data.Length - offset)));
            }

            Assert.Equal(length, (await writer.CompleteAsync()).Length);
        }

        Assert.Equal(data, await ReadAllAsync(store, "grown.bin"));
    }

    [Fact]
    public async Task OpenReadAsync_MidSizedObject_IsReadInRangesSmallerThanAPartAndRoundTrips()
    {
        // 12 MiB in 5 MiB parts, three at once: after the first part, 7 MiB are cut into 3 MiB ranges so all three run.
        using var store = await S3TestStores.CreateAsync(server);
        var data = RandomBytes((12 * MiB) + 3, seed: 12);
        await store.PutAsync("mid.bin", new MemoryStream(data));

        Assert.Equal(3 * MiB, TransferSizing.RangeSize(5 * MiB, 3, data.Length - (5 * MiB)));
        Assert.Equal(data, await ReadAllAsync(store, "mid.bin"));
    }

    [Theory]
    [InlineData(8, 16, 256, 8)]
    [InlineData(8, 16, 32, 2)]
    [InlineData(8, 16, 8, 1)]
    [InlineData(8, 16, 0, 1)]
    [InlineData(8, 4, 20, 5)]
    [InlineData(5, 64, 1, 1)]
    public void RangeSize_UsesTheConcurrencyForShorterReads_WithinOneMiBAndAPart(int partMiB, int concurrency, int remainingMiB, int expectedMiB) =>
        Assert.Equal(expectedMiB * MiB, TransferSizing.RangeSize(partMiB * MiB, concurrency, (long)remainingMiB * MiB));

    [Fact]
    public void Capabilities_ConcurrentFiles_IsHalfTheConcurrency()
    {
        using var store = new S3CheckpointStore(
            new Uri("s3://bucket/p"), new S3StoreOptions { Endpoint = "http://127.0.0.1:9", Concurrency = 7 }, new Amazon.Runtime.BasicAWSCredentials("a", "b"));
        using var defaults = new S3CheckpointStore(new Uri("s3://bucket/p"), new S3StoreOptions { Endpoint = "http://127.0.0.1:9" }, new Amazon.Runtime.BasicAWSCredentials("a", "b"));

        using var one = new S3CheckpointStore(
            new Uri("s3://bucket/p"), new S3StoreOptions { Endpoint = "http://127.0.0.1:9", Concurrency = 1 }, new Amazon.Runtime.BasicAWSCredentials("a", "b"));

        Assert.Equal(3, store.Capabilities.ConcurrentFiles);
        Assert.Equal(16, defaults.Capabilities.ConcurrentFiles);
        Assert.Equal(1, one.Capabilities.ConcurrentFiles);
    }

    [Fact]
    public async Task PutAsync_NonSeekableStreamOverThreshold_GoesMultipartAndRoundTrips()
    {
        using var store = await S3TestStores.CreateAsync(server);
        var data = RandomBytes(12 * MiB + 5, seed: 2);

        var info = await store.PutAsync("stream.bin", new NonSeekableStream(data));

        Assert.Equal(data.Length, info.Length);
        Assert.Equal(data, await ReadAllAsync(store, "stream.bin"));
    }

    [Fact]
    public async Task OpenWriteAsync_MultipartDisposedWithoutComplete_LeavesNoObjectAndNoPendingUpload()
    {
        using var store = await S3TestStores.CreateAsync(server);

        var writer = await store.OpenWriteAsync("abandoned.bin");
        await using (writer)
        {
            await writer.WriteAsync(RandomBytes(12 * MiB, seed: 3));
            Assert.NotEmpty(await S3TestStores.PendingUploadsAsync(server, store));
        }

        Assert.Null(await store.StatAsync("abandoned.bin"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task OpenWriteAsync_CancelledDuringMultipart_AbortsTheUpload()
    {
        using var store = await S3TestStores.CreateAsync(server);
        using var cts = new CancellationTokenSource();

        var writer = await store.OpenWriteAsync("cancelled.bin");
        await using (writer)
        {
            await writer.WriteAsync(RandomBytes(11 * MiB, seed: 4), cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CompleteAsync(cts.Token));
        }

        Assert.Null(await store.StatAsync("cancelled.bin"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task PutAsync_CreateOnlySinglePutOnExistingKey_ThrowsPreconditionFailed()
    {
        using var store = await S3TestStores.CreateAsync(server);
        await store.PutAsync("manifest.json", new MemoryStream("first"u8.ToArray()));

        var ex = await Assert.ThrowsAsync<PreconditionFailedException>(
            () => store.PutAsync("manifest.json", new MemoryStream("second"u8.ToArray()), ObjectWriteOptions.CreateOnlyWrite));

        Assert.Equal("manifest.json", ex.Key);
        Assert.Equal("first"u8.ToArray(), await ReadAllAsync(store, "manifest.json"));
    }

    [Fact]
    public async Task CompleteAsync_CreateOnlyMultipartOnExistingKey_ThrowsPreconditionFailedAndAborts()
    {
        using var store = await S3TestStores.CreateAsync(server);
        await store.PutAsync("taken.bin", new MemoryStream("first"u8.ToArray()));

        var writer = await store.OpenWriteAsync("taken.bin", ObjectWriteOptions.CreateOnlyWrite);
        await using (writer)
        {
            await writer.WriteAsync(RandomBytes(11 * MiB, seed: 5));
            await Assert.ThrowsAsync<PreconditionFailedException>(() => writer.CompleteAsync());
        }

        Assert.Equal("first"u8.ToArray(), await ReadAllAsync(store, "taken.bin"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task CompleteAsync_CreateOnlyMultipartOnNewKey_Writes()
    {
        using var store = await S3TestStores.CreateAsync(server);
        var data = RandomBytes(11 * MiB, seed: 6);

        var writer = await store.OpenWriteAsync("fresh.bin", ObjectWriteOptions.CreateOnlyWrite);
        await using (writer)
        {
            await writer.WriteAsync(data);
            await writer.CompleteAsync();
        }

        Assert.Equal(data, await ReadAllAsync(store, "fresh.bin"));
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(3 * MiB + 7, 17 * MiB)]
    [InlineData(5 * MiB, 5 * MiB)]
    [InlineData(39 * MiB, null)]
    [InlineData(1, 40 * MiB)]
    public async Task OpenReadAsync_LargeObjectRanges_AreByteExact(int offset, int? length)
    {
        using var store = await S3TestStores.CreateAsync(server);
        var data = RandomBytes(40 * MiB + 11, seed: 7);
        await store.PutAsync("ranged.bin", new NonSeekableStream(data));

        var read = await ReadAllAsync(store, "ranged.bin", new ByteRange(offset, length));

        var expectedLength = Math.Min(length ?? int.MaxValue, data.Length - offset);
        Assert.Equal(expectedLength, read.Length);
        Assert.True(data.AsSpan(offset, expectedLength).SequenceEqual(read), "the bytes differ");
    }

    [Fact]
    public async Task OpenReadAsync_LargeObjectDisposedHalfRead_ReleasesWithoutError()
    {
        using var store = await S3TestStores.CreateAsync(server);
        await store.PutAsync("half.bin", new NonSeekableStream(RandomBytes(30 * MiB, seed: 8)));

        var stream = await store.OpenReadAsync("half.bin");
        await using (stream)
        {
            var buffer = new byte[7 * MiB];
            await stream.ReadExactlyAsync(buffer);
        }

        Assert.Equal(30 * MiB, (await store.StatAsync("half.bin"))!.Length);
    }

    [Fact]
    public async Task OpenReadAsync_LargeObjectReplacedWhileRead_FailsInsteadOfMixingVersions()
    {
        using var store = await S3TestStores.CreateAsync(server, o => o.Concurrency = 1);
        await store.PutAsync("moving.bin", new NonSeekableStream(RandomBytes(20 * MiB, seed: 9)));

        var stream = await store.OpenReadAsync("moving.bin");
        await using (stream)
        {
            var buffer = new byte[6 * MiB];
            await stream.ReadExactlyAsync(buffer);
            await store.PutAsync("moving.bin", new NonSeekableStream(RandomBytes(20 * MiB, seed: 10)));

            var ex = await Assert.ThrowsAsync<PreconditionFailedException>(async () => await stream.CopyToAsync(Stream.Null));
            Assert.Contains("changed while being read", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ListAsync_PrefixedStore_SeesOnlyItsOwnPrefix()
    {
        using var first = await S3TestStores.CreateAsync(server);
        using var second = await S3TestStores.CreateAsync(server);
        await first.PutAsync("a/x", new MemoryStream([1]));
        await second.PutAsync("a/y", new MemoryStream([2]));

        var keys = new List<string>();
        await foreach (var entry in first.ListAsync(string.Empty))
        {
            keys.Add(entry.Key);
        }

        Assert.Equal(["a/x"], keys);
        Assert.Equal($"s3://{S3TestStores.Bucket}/{first.Prefix}/", first.Location.ToString());
        using var client = S3TestStores.RawClient(server);
        var raw = await client.GetObjectMetadataAsync(first.Bucket, $"{first.Prefix}/a/x");
        Assert.Equal(1, raw.ContentLength);
    }

    [Fact]
    public async Task AbortStaleMultipartUploadsAsync_AbandonedUpload_IsReportedThenAborted()
    {
        using var store = await S3TestStores.CreateAsync(server);
        using var client = S3TestStores.RawClient(server);
        var started = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = $"{store.Prefix}/run/step-1/w/model.bin" });
        var future = DateTimeOffset.UtcNow.AddMinutes(5);

        var young = await store.AbortStaleMultipartUploadsAsync("run/", DateTimeOffset.UtcNow.AddMinutes(-5), dryRun: false);
        var dry = await store.AbortStaleMultipartUploadsAsync("run/", future, dryRun: true);
        var stillThere = await S3TestStores.PendingUploadsAsync(server, store);
        var aborted = await store.AbortStaleMultipartUploadsAsync(string.Empty, future, dryRun: false);

        Assert.Empty(young);
        var found = Assert.Single(dry);
        Assert.Equal("run/step-1/w/model.bin", found.Key);
        Assert.Equal(started.UploadId, found.UploadId);
        Assert.Single(stillThere);
        Assert.Equal(started.UploadId, Assert.Single(aborted).UploadId);
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(S3CheckpointStore store, string key, ByteRange? range = null)
    {
        var stream = await store.OpenReadAsync(key, range);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }
    }

    /// <summary>A stream of unknown length, as a training framework's serializer would hand over.</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
