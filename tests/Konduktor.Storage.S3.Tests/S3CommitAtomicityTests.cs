using System.Collections.Concurrent;

using Amazon.Runtime;
using Amazon.S3.Model;

using static Konduktor.Storage.S3.Tests.S3ManagerTestSupport;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// Issue 18, defect 6: RadosGW accepts <c>If-None-Match: *</c> on CompleteMultipartUpload twice for one key, so a create-only
/// write sent as a multipart upload let two writers of one step both commit. Create-only writes are now always one PUT.
/// </summary>
[Collection("RadosGW")]
public sealed class S3CommitAtomicityTests(RadosGwServer server)
{
    private const string Run = "run-s3-commit";

    [Fact]
    public async Task PutAsync_CreateOnlyLargerThanThePartSize_IsOnePutAndASecondCreateOnlyWriteFailsWithPreconditionFailed()
    {
        var requests = new CommitRequestGate();
        using var store = await CreateStoreAsync(server, configureClient: c => c.HttpClientFactory = requests);
        var first = RandomBytes(12 * MiB + 3, seed: 1);

        await store.PutAsync("commit/big.json", new MemoryStream(first), ObjectWriteOptions.CreateOnlyWrite);

        // The test store's parts are 5 MiB: a plain write of 12 MiB would go multipart. This one is a single PUT.
        Assert.Equal(1, requests.Count("PUT", "/commit/big.json", query => !query.Contains("partNumber=", StringComparison.Ordinal)));
        Assert.Equal(0, requests.Count("PUT", "/commit/big.json", query => query.Contains("partNumber=", StringComparison.Ordinal)));
        Assert.Equal(0, requests.Count("POST", "/commit/big.json", _ => true));
        Assert.DoesNotContain("-", (await store.StatAsync("commit/big.json"))!.ETag, StringComparison.Ordinal);

        var second = await Assert.ThrowsAsync<PreconditionFailedException>(
            () => store.PutAsync("commit/big.json", new MemoryStream(RandomBytes(11 * MiB, seed: 2)), ObjectWriteOptions.CreateOnlyWrite));
        Assert.Equal("commit/big.json", second.Key);
        Assert.Equal(2, requests.Count("PUT", "/commit/big.json", query => !query.Contains("partNumber=", StringComparison.Ordinal)));
        Assert.Equal(0, requests.Count("POST", "/commit/big.json", _ => true));
        Assert.Equal(first, await ReadAllAsync(store, "commit/big.json"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task OpenWriteAsync_CreateOnlyWrittenInPiecesPastThePartSize_IsOnePutAndASecondOneFailsWithPreconditionFailed()
    {
        var requests = new CommitRequestGate();
        using var store = await CreateStoreAsync(server, configureClient: c => c.HttpClientFactory = requests);
        var first = RandomBytes(12 * MiB + 3, seed: 3);

        await WriteInPiecesAsync(store, "commit/streamed.json", first);

        Assert.Equal(1, requests.Count("PUT", "/commit/streamed.json", _ => true));
        Assert.Equal(0, requests.Count("POST", "/commit/streamed.json", _ => true));
        await Assert.ThrowsAsync<PreconditionFailedException>(() => WriteInPiecesAsync(store, "commit/streamed.json", RandomBytes(11 * MiB, seed: 4)));
        Assert.Equal(2, requests.Count("PUT", "/commit/streamed.json", _ => true));
        Assert.Equal(0, requests.Count("POST", "/commit/streamed.json", _ => true));
        Assert.Equal(first, await ReadAllAsync(store, "commit/streamed.json"));
        Assert.Empty(await S3TestStores.PendingUploadsAsync(server, store));
    }

    [Fact]
    public async Task PutAsync_CreateOnlyOverFiveGiB_IsRefusedNamingTheKeyWithoutARequest()
    {
        var requests = new CommitRequestGate();
        using var store = await CreateStoreAsync(server, configureClient: c => c.HttpClientFactory = requests);

        var error = await Assert.ThrowsAsync<CheckpointStorageException>(
            () => store.PutAsync("commit/huge.json", new UnreadableStream(5L * 1024 * MiB + 1), ObjectWriteOptions.CreateOnlyWrite));

        Assert.Contains("'commit/huge.json'", error.Message, StringComparison.Ordinal);
        Assert.Contains("5368709121 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("5368709120 bytes (5 GiB)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, requests.Total);
    }

    [Fact]
    public async Task CommitAsync_TwoWritersRaceAManifestLargerThanOnePart_ExactlyOneCommitsAndTheOtherGetsAConflict()
    {
        var prefix = NewPrefix();
        var gate = new CommitRequestGate();
        using var storeA = await CreateStoreAsync(server, prefix: prefix, configureClient: c => c.HttpClientFactory = gate);
        using var storeB = await CreateStoreAsync(server, prefix: prefix, configureClient: c => c.HttpClientFactory = gate);
        var managerA = Manager(storeA, Run, restartAttempt: 0);
        var managerB = Manager(storeB, Run, restartAttempt: 1);
        using var raw = S3TestStores.RawClient(server);

        for (var step = 1L; step <= 3; step++)
        {
            // 6 MiB of legal metadata: each manifest is larger than one 5 MiB part (and than the single-PUT threshold).
            var metadataA = new Dictionary<string, string> { ["notes"] = new string('a', 6 * MiB), ["writer"] = "A" };
            var metadataB = new Dictionary<string, string> { ["notes"] = new string('b', 6 * MiB), ["writer"] = "B" };
            var saveA = await managerA.BeginSaveAsync(step);
            var saveB = await managerB.BeginSaveAsync(step);
            await using (saveA)
            await using (saveB)
            {
                await saveA.AddFileAsync("model.bin", new MemoryStream(RandomBytes(1000, (int)step * 10)));
                await saveB.AddFileAsync("model.bin", new MemoryStream(RandomBytes(1000, (int)step * 10 + 1)));

                // Each writer's commit request waits at the gate until the other's has arrived too: a true race.
                gate.HoldCommitsUntil(2);
                var commitA = Task.Run(() => saveA.CommitAsync(metadataA));
                var commitB = Task.Run(() => saveB.CommitAsync(metadataB));
                await Task.WhenAll(commitA, commitB).ContinueWith(_ => { }, TaskScheduler.Default);

                Assert.True(
                    commitA.IsCompletedSuccessfully ^ commitB.IsCompletedSuccessfully,
                    $"step {step}: A {commitA.Status} {commitA.Exception?.InnerException?.Message}; B {commitB.Status} {commitB.Exception?.InnerException?.Message}");
                var (winner, loser, loserSave) = commitA.IsCompletedSuccessfully ? (await commitA, commitB, saveB) : (await commitB, commitA, saveA);
                var conflict = Assert.IsType<CheckpointConflictException>(loser.Exception!.InnerException);
                Assert.Equal(step, conflict.Step);
                Assert.Equal(winner.Writer, conflict.Winner?.Writer);
                Assert.NotEqual(loserSave.WriterId, winner.Writer);

                // The committed manifest is the winner's, one object written by one PUT, and a fresh reader takes it.
                var manifestKey = $"{prefix}/{Run}/rank-00000/step-{step:D12}/manifest.json";
                var head = await raw.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = S3TestStores.Bucket, Key = manifestKey });
                Assert.DoesNotContain("-", head.ETag, StringComparison.Ordinal);
                var loaded = await Manager(storeA, Run).LoadLatestAsync((reader, _) => Task.FromResult(reader.Manifest!));
                Assert.Equal(step, loaded.Step);
                Assert.Equal(winner.Writer, loaded.Value!.Writer);
                Assert.Equal(winner.Metadata["writer"], loaded.Value.Metadata["writer"]);
                Assert.Equal(6 * MiB, loaded.Value.Metadata["notes"].Length);
            }
        }

        Assert.Equal(0, gate.Count("POST", "/manifest.json", query => query.Contains("uploads", StringComparison.Ordinal)));
    }

    private static async Task WriteInPiecesAsync(S3CheckpointStore store, string key, byte[] data)
    {
        var writer = await store.OpenWriteAsync(key, ObjectWriteOptions.CreateOnlyWrite);
        await using (writer)
        {
            for (var offset = 0; offset < data.Length; offset += 1_000_003)
            {
                await writer.WriteAsync(data.AsMemory(offset, Math.Min(1_000_003, data.Length - offset)));
            }

            await writer.CompleteAsync();
        }
    }

    private static async Task<byte[]> ReadAllAsync(S3CheckpointStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    /// <summary>
    /// Counts the SDK's requests by method and path, and can hold every manifest commit request (a PUT of <c>…/manifest.json</c>, or
    /// the completion of a multipart upload of it) until a given number of them has arrived, so that writers truly race.
    /// </summary>
    private sealed class CommitRequestGate : HttpClientFactory
    {
        private readonly ConcurrentQueue<(string Method, string Path, string Query)> _requests = new();
        private readonly Lock _lock = new();
        private TaskCompletionSource? _allArrived;
        private int _expected;
        private int _arrived;

        public int Total => _requests.Count;

        public int Count(string method, string pathEnd, Func<string, bool> query) =>
            _requests.Count(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.Ordinal) && query(r.Query));

        public void HoldCommitsUntil(int writers)
        {
            lock (_lock)
            {
                _allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _expected = writers;
                _arrived = 0;
            }
        }

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(new Handler(this, new SocketsHttpHandler())) { Timeout = Timeout.InfiniteTimeSpan };

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override string GetConfigUniqueString(IClientConfig clientConfig) => "commit-gate";

        private async Task ArriveAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            _requests.Enqueue((request.Method.Method, uri.AbsolutePath, uri.Query));
            var commit = uri.AbsolutePath.EndsWith("/manifest.json", StringComparison.Ordinal)
                && ((request.Method == HttpMethod.Put && !uri.Query.Contains("partNumber=", StringComparison.Ordinal))
                    || (request.Method == HttpMethod.Post && uri.Query.Contains("uploadId=", StringComparison.Ordinal)));
            Task? wait = null;
            lock (_lock)
            {
                if (commit && _allArrived is { } all)
                {
                    if (++_arrived >= _expected)
                    {
                        all.TrySetResult();
                        _allArrived = null;
                    }

                    wait = all.Task;
                }
            }

            if (wait is not null)
            {
                try
                {
                    await wait.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                }
                catch (TimeoutException)
                {
                    // The other writer never sent a commit: let this one go; the test's assertions decide.
                }
            }
        }

        private sealed class Handler(CommitRequestGate owner, HttpMessageHandler inner) : DelegatingHandler(inner)
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                await owner.ArriveAsync(request, cancellationToken);
                return await base.SendAsync(request, cancellationToken);
            }
        }
    }

    /// <summary>A seekable stream of a given length that must never be read.</summary>
    private sealed class UnreadableStream(long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("The content was read.");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The content was read.");

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
