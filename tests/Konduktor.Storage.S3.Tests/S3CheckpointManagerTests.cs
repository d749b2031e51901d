using System.Diagnostics;

using Amazon.Runtime;
using Amazon.S3.Model;

using Konduktor.Storage.Testing;

using Xunit.Abstractions;

using static Konduktor.Storage.S3.Tests.S3ManagerTestSupport;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// <see cref="CheckpointManager"/> over <see cref="S3CheckpointStore"/> against a real RadosGW: saves and restores through
/// injected faults, concurrent writers, a server killed mid-save, permanent errors, retention and garbage collection.
/// </summary>
[Collection("RadosGW")]
public sealed class S3CheckpointManagerTests(RadosGwServer server, ITestOutputHelper output) : IDisposable
{
    private const string Run = "run-s3-manager";
    private const string ScopeFolder = Run + "/rank-00000/";

    private readonly string _temp = Directory.CreateTempSubdirectory("konduktor-s3-manager-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task SaveAndRestore_BurstsOfSlowDownErrorsAndResets_CommitsAndRestoresByteIdenticalFiles()
    {
        await using var proxy = new LoopbackFaultProxy(server.Endpoint);
        var prefix = NewPrefix();
        using var store = await CreateStoreAsync(server, proxy.Endpoint, prefix);
        var manager = Manager(store, Run);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["config.json"] = RandomBytes(1000, 1),
            ["model.bin"] = RandomBytes(12 * MiB, 2),
            ["optimizer/state.bin"] = RandomBytes(300 * 1024, 3),
        };

        // Save: faults are queued in the order the requests happen (the proxy only ever looks at the head of its queue).
        var injected = 0;
        void Inject(ProxyFault fault, int count, Func<string, string, bool> match)
        {
            proxy.Inject(fault, count, match);
            injected += count;
        }

        await using var save = await manager.BeginSaveAsync(7);

        Inject(LoopbackFaultProxy.SlowDown, 3, (m, t) => m == "PUT" && IsObject(t, "config.json"));
        await save.AddFileAsync("config.json", new MemoryStream(files["config.json"]));
        Assert.Equal(injected, proxy.FaultsInjected);

        Inject(LoopbackFaultProxy.InternalError, 1, (m, t) => m == "POST" && t.Contains("model.bin?uploads", StringComparison.Ordinal));
        Inject(new ProxyFault.ResetBeforeRequest(), 1, (m, t) => m == "PUT" && t.Contains("partNumber=", StringComparison.Ordinal));
        Inject(LoopbackFaultProxy.SlowDown, 3, (m, t) => m == "PUT" && t.Contains("partNumber=", StringComparison.Ordinal));
        Inject(LoopbackFaultProxy.SlowDown, 1, (m, t) => m == "POST" && t.Contains("model.bin?uploadId=", StringComparison.Ordinal));
        await save.AddFileAsync("model.bin", new MemoryStream(files["model.bin"]));
        Assert.Equal(injected, proxy.FaultsInjected);

        Inject(LoopbackFaultProxy.InternalError, 1, (m, t) => m == "PUT" && IsObject(t, "state.bin"));
        Inject(new ProxyFault.ResetBeforeRequest(), 1, (m, t) => m == "PUT" && IsObject(t, "state.bin"));
        await save.AddFileAsync("optimizer/state.bin", new MemoryStream(files["optimizer/state.bin"]));
        Assert.Equal(injected, proxy.FaultsInjected);

        // The lost answer: the manifest PUT reaches the server, but the connection is reset before the reply.
        Inject(new ProxyFault.ResetAfterRequest(), 1, (m, t) => m == "PUT" && IsObject(t, "manifest.json"));
        var manifest = await save.CommitAsync(new Dictionary<string, string> { ["loss"] = "0.25" });
        Assert.Equal(injected, proxy.FaultsInjected);
        Assert.Equal(save.WriterId, manifest.Writer);
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), manifest.Files.Select(f => f.Name));

        // The committed manifest on the server is this save's.
        using (var direct = await CreateStoreAsync(server, prefix: prefix))
        {
            var listed = await Manager(direct, Run).ListAsync();
            var info = Assert.Single(listed);
            Assert.Equal(7, info.Step);
            Assert.Equal(save.WriterId, info.Manifest?.Writer);
        }

        // Restore, with a fresh manager (a restarted pod), through more faults.
        var restorer = Manager(store, Run);
        Inject(LoopbackFaultProxy.SlowDown, 3, (m, t) => m == "GET" && t.Contains("list-type=2", StringComparison.Ordinal));
        Inject(LoopbackFaultProxy.InternalError, 1, (m, t) => m == "GET" && t.Contains("list-type=2", StringComparison.Ordinal) && t.Contains("step-000000000007", StringComparison.Ordinal));
        Inject(new ProxyFault.ResetBeforeRequest(), 1, (m, t) => m == "GET" && IsObject(t, "manifest.json"));
        Inject(new ProxyFault.ResetMidResponse(MiB + 4321), 1, (m, t) => m == "GET" && IsObject(t, "model.bin"));
        Inject(new ProxyFault.ResetMidResponse(2 * MiB), 1, (m, t) => m == "GET" && IsObject(t, "model.bin"));
        var target = Path.Join(_temp, "restored");
        var restored = await restorer.RestoreLatestAsync(target);

        Assert.Equal(injected, proxy.FaultsInjected);
        Assert.True(restored.Found);
        Assert.Equal(7, restored.Step);
        Assert.Empty(restored.Skipped);
        foreach (var (name, bytes) in files)
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Join(target, name)));
        }

        // Loading as verifying streams survives a reset mid-read too.
        Inject(new ProxyFault.ResetMidResponse(3 * MiB), 1, (m, t) => m == "GET" && IsObject(t, "model.bin"));
        var loaded = await restorer.LoadLatestAsync(async (reader, ct) =>
        {
            await using var stream = await reader.OpenFileAsync("model.bin", ct);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            return copy.ToArray();
        });

        Assert.Equal(injected, proxy.FaultsInjected);
        Assert.True(loaded.Found);
        Assert.Equal(files["model.bin"], loaded.Value);
        Assert.True(injected >= 20, $"only {injected} faults were injected");
    }

    [Fact]
    public async Task CommitAsync_EveryManifestAnswerLost_RecognisesItsOwnManifest()
    {
        await using var proxy = new LoopbackFaultProxy(server.Endpoint);
        using var store = await CreateStoreAsync(server, proxy.Endpoint);
        const int managerRetries = 3;
        var manager = Manager(store, Run, managerRetries);
        var data = RandomBytes(64 * 1024, 4);

        await using var save = await manager.BeginSaveAsync(3);
        await save.AddFileAsync("weights.bin", new MemoryStream(data));

        // Every attempt of the manifest PUT reaches the server (the first creates it, the others get 412), and every answer is lost.
        proxy.Inject(new ProxyFault.ResetAfterRequest(), managerRetries + 1, (m, t) => m == "PUT" && IsObject(t, "manifest.json"));
        var manifest = await save.CommitAsync();

        Assert.Equal(managerRetries + 1, proxy.FaultsInjected);
        Assert.Equal(save.WriterId, manifest.Writer);
        var target = Path.Join(_temp, "lost-answer");
        var restored = await Manager(store, Run).RestoreLatestAsync(target);
        Assert.Equal(3, restored.Step);
        Assert.Equal(save.WriterId, restored.Manifest?.Writer);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Join(target, "weights.bin")));
    }

    [Fact]
    public async Task SaveAsync_SlowDownOnTheLookupAfterCompletingAnUpload_IsRetriedAndCommits()
    {
        await using var proxy = new LoopbackFaultProxy(server.Endpoint);
        using var store = await CreateStoreAsync(server, proxy.Endpoint);
        var manager = Manager(store, Run);
        var data = RandomBytes(12 * MiB, 5);

        // A data file is not create-only, so the first HEAD of it is the store's look-up right after CompleteMultipartUpload.
        proxy.Inject(LoopbackFaultProxy.SlowDown, 1, (m, t) => m == "HEAD" && IsObject(t, "model.bin"));
        var manifest = await manager.SaveAsync(2, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(data) });

        Assert.Equal(1, proxy.FaultsInjected);
        Assert.Equal(data.Length, Assert.Single(manifest.Files).Length);
    }

    [Fact]
    public async Task CommitAsync_TwoWritersSaveTheSameStepConcurrently_ExactlyOneCommitsAndTheOtherGetsAConflictNamingTheWinner()
    {
        var prefix = NewPrefix();
        using var storeA = await CreateStoreAsync(server, prefix: prefix);
        using var storeB = await CreateStoreAsync(server, prefix: prefix);
        var managerA = Manager(storeA, Run, restartAttempt: 0);
        var managerB = Manager(storeB, Run, restartAttempt: 1);
        using var raw = S3TestStores.RawClient(server);

        for (var step = 1L; step <= 5; step++)
        {
            var dataA = RandomBytes(6 * MiB + 17, (int)step * 10);
            var dataB = RandomBytes(6 * MiB + 17, (int)step * 10 + 1);
            var saveA = await managerA.BeginSaveAsync(step);
            var saveB = await managerB.BeginSaveAsync(step);
            await using (saveA)
            await using (saveB)
            {
                await Task.WhenAll(
                    saveA.AddFileAsync("model.bin", new MemoryStream(dataA)),
                    saveB.AddFileAsync("model.bin", new MemoryStream(dataB)));

                using var go = new ManualResetEventSlim();
                var commitA = Task.Run(async () =>
                {
                    go.Wait();
                    return await saveA.CommitAsync();
                });
                var commitB = Task.Run(async () =>
                {
                    go.Wait();
                    return await saveB.CommitAsync();
                });
                go.Set();
                await Task.WhenAll(commitA, commitB).ContinueWith(_ => { }, TaskScheduler.Default);

                Assert.True(
                    commitA.IsCompletedSuccessfully ^ commitB.IsCompletedSuccessfully,
                    $"step {step}: A {commitA.Status} {commitA.Exception?.InnerException?.Message}; B {commitB.Status} {commitB.Exception?.InnerException?.Message}");
                var (winnerTask, winnerData, loser, loserSave) = commitA.IsCompletedSuccessfully
                    ? (commitA, dataA, commitB, saveB)
                    : (commitB, dataB, commitA, saveA);
                var winner = await winnerTask;
                var conflict = Assert.IsType<CheckpointConflictException>(loser.Exception!.InnerException);
                Assert.Equal(step, conflict.Step);
                Assert.Equal(winner.Writer, conflict.Winner?.Writer);
                Assert.Contains(winner.Writer, conflict.Message, StringComparison.Ordinal);
                Assert.NotEqual(loserSave.WriterId, winner.Writer);

                // The winner's data restores intact, with a third manager.
                var target = Path.Join(_temp, $"conflict-{step}");
                var restored = await Manager(storeA, Run).RestoreAsync(step, target);
                Assert.Equal(winner.Writer, restored.Manifest?.Writer);
                Assert.Equal(winnerData, await File.ReadAllBytesAsync(Path.Join(target, "model.bin")));

                // The loser's data was removed; the winner's stays.
                var stepFolder = $"{prefix}/{ScopeFolder}step-{step:D12}/";
                var keys = await ListKeysAsync(raw, stepFolder);
                Assert.DoesNotContain(keys, k => k.StartsWith(stepFolder + loserSave.WriterId + "/", StringComparison.Ordinal));
                Assert.Contains(stepFolder + winner.Writer + "/model.bin", keys);
            }
        }
    }

    [Fact]
    public async Task SaveAsync_ServerKilledMidUpload_FailsWithinBoundedTimeAndNeverWritesTheManifest()
    {
        var privateServer = new RadosGwServer();
        try
        {
            await privateServer.InitializeAsync();
            const int storeRetries = 3;
            using var s3 = await CreateStoreAsync(privateServer, storeRetries: storeRetries);
            var recording = new RecordingStore(s3);
            var manager = Manager(recording, Run, managerRetries: 3);
            const long total = 200L * MiB;
            var killedAt = 0L;
            var killed = new TaskCompletionSource<Stopwatch>(TaskCreationOptions.RunContinuationsAsynchronously);
            var progress = new InlineProgress(p =>
            {
                // With 5 MiB parts and 3 in flight, 40 MiB written means several parts were uploaded.
                if (p.TotalBytes >= 40 * MiB && Interlocked.CompareExchange(ref killedAt, p.TotalBytes, 0) == 0)
                {
                    KillAll(privateServer.Pids);
                    killed.SetResult(Stopwatch.StartNew());
                }
            });

            var save = await manager.BeginSaveAsync(1, progress);
            Exception? failure;
            await using (save)
            {
                failure = await Record.ExceptionAsync(() => save.AddFileAsync("huge.bin", async (stream, ct) =>
                {
                    var chunk = RandomBytes(MiB, 6);
                    for (long sent = 0; sent < total; sent += chunk.Length)
                    {
                        await stream.WriteAsync(chunk, ct);
                    }
                }).WaitAsync(TimeSpan.FromMinutes(3)));
            }

            output.WriteLine($"killed after {Interlocked.Read(ref killedAt)} bytes; failed {(killed.Task.IsCompleted ? (await killed.Task).Elapsed : TimeSpan.Zero)} later: {failure?.GetType().Name}: {failure?.Message}");
            Assert.True(killed.Task.IsCompleted, "the server was never killed: the save finished or failed before 40 MiB were written");
            var elapsed = (await killed.Task).Elapsed;
            Assert.NotNull(failure);
            Assert.IsNotType<TimeoutException>(failure);
            var storageFailure = Assert.IsAssignableFrom<CheckpointStorageException>(failure);
            var exhausted = Chain(storageFailure).OfType<RetriesExhaustedException>().FirstOrDefault();
            Assert.True(exhausted is not null, $"expected retries to be exhausted, got {failure}");
            Assert.Equal(storeRetries + 1, exhausted.Attempts);
            Assert.Contains("attempt", exhausted.Message, StringComparison.Ordinal);
            Assert.Contains("last cause", exhausted.Message, StringComparison.Ordinal);
            Assert.True(elapsed < TimeSpan.FromSeconds(60), $"the save took {elapsed} to fail after the kill");
            Assert.InRange(Interlocked.Read(ref killedAt), 40 * MiB, total - 1);
            Assert.DoesNotContain(recording.Writes, k => k.EndsWith("/manifest.json", StringComparison.Ordinal));
            Assert.Contains(recording.Writes, k => k.EndsWith("/huge.bin", StringComparison.Ordinal));
        }
        finally
        {
            await privateServer.DisposeAsync();
        }
    }

    [Fact]
    public async Task SaveAsync_WrongSecret_FailsFastWithAccessDeniedAndNoRetries()
    {
        var counting = new FaultInjection((_, _) => null);
        using var store = await CreateStoreAsync(
            server,
            credentials: new BasicAWSCredentials(server.AccessKey, server.SecretKey + "-wrong"),
            configureClient: config => config.HttpClientFactory = counting);
        var manager = Manager(store, Run, managerRetries: 5);

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() =>
            manager.SaveAsync(1, new Dictionary<string, Stream> { ["weights.bin"] = new MemoryStream(RandomBytes(1000, 7)) }));
        var saveTime = clock.Elapsed;

        output.WriteLine($"save failed after {saveTime.TotalMilliseconds:F0} ms");
        Assert.Equal(1, counting.Count(HttpMethod.Put, "/weights.bin"));
        Assert.Equal(0, counting.Count(HttpMethod.Put, "manifest.json"));
        Assert.True(saveTime < TimeSpan.FromSeconds(5), $"the save took {saveTime} to fail");

        clock.Restart();
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => manager.RestoreLatestAsync(Path.Join(_temp, "denied")));
        Assert.Equal(1, counting.Count(HttpMethod.Get, "list-type=2"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the restore took {clock.Elapsed} to fail");
        Assert.False(Directory.Exists(Path.Join(_temp, "denied")));
    }

    [Fact]
    public async Task CollectGarbageAsync_RetentionAndAnAbandonedUpload_KeepsTheLastTwoAndAbortsTheUpload()
    {
        var prefix = NewPrefix();
        using var store = await CreateStoreAsync(server, prefix: prefix);
        var manager = Manager(store, Run, keepLast: 2);
        using var raw = S3TestStores.RawClient(server);
        var scope = $"{prefix}/{ScopeFolder}";

        for (var step = 1L; step <= 5; step++)
        {
            await manager.SaveAsync(step, new Dictionary<string, Stream> { ["weights.bin"] = new MemoryStream(RandomBytes(2000, (int)step)) });
        }

        var keys = await ListKeysAsync(raw, scope);
        Assert.Equal(["step-000000000004", "step-000000000005"], keys.Select(k => k[scope.Length..].Split('/')[0]).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(4, keys.Count); // a manifest and one file each

        // A crashed writer's upload that was never completed, and an uncommitted object of another crashed writer.
        var abandonedKey = $"{scope}step-000000000009/a0-dead/x.bin";
        var started = await raw.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = S3TestStores.Bucket, Key = abandonedKey });
        await raw.PutObjectAsync(new PutObjectRequest
        {
            BucketName = S3TestStores.Bucket,
            Key = $"{scope}step-000000000008/a0-dead/y.bin",
            ContentBody = "torn",
        });

        var dry = await manager.CollectGarbageAsync(dryRun: true, gracePeriod: TimeSpan.Zero);
        Assert.True(dry.DryRun);
        var reported = Assert.Single(dry.PendingUploads);
        Assert.Equal($"{Run}/rank-00000/step-000000000009/a0-dead/x.bin", reported.Key);
        Assert.Equal(started.UploadId, reported.UploadId);
        Assert.Equal($"{Run}/rank-00000/step-000000000008/a0-dead/y.bin", Assert.Single(dry.Objects).Key);
        Assert.Single(await PendingUploadsAsync(raw, scope));
        Assert.Contains($"{scope}step-000000000008/a0-dead/y.bin", await ListKeysAsync(raw, scope));

        var collected = await manager.CollectGarbageAsync(gracePeriod: TimeSpan.Zero);
        Assert.False(collected.DryRun);
        Assert.Equal(started.UploadId, Assert.Single(collected.PendingUploads).UploadId);
        Assert.Single(collected.Objects);
        Assert.Empty(await PendingUploadsAsync(raw, scope));
        Assert.Equal(keys, await ListKeysAsync(raw, scope));

        // The kept checkpoints are intact.
        var restored = await manager.RestoreLatestAsync(Path.Join(_temp, "gc"));
        Assert.Equal(5, restored.Step);
        Assert.Empty(restored.Skipped);
    }

    private static async Task<List<string>> ListKeysAsync(Amazon.S3.AmazonS3Client raw, string prefix)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = S3TestStores.Bucket, Prefix = prefix };
        ListObjectsV2Response page;
        do
        {
            page = await raw.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    private static async Task<List<MultipartUpload>> PendingUploadsAsync(Amazon.S3.AmazonS3Client raw, string prefix)
    {
        var response = await raw.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = S3TestStores.Bucket, Prefix = prefix });
        return response.MultipartUploads ?? [];
    }

    /// <summary>SIGKILLs the server's daemons (only those that still are this test's processes).</summary>
    private static void KillAll(IEnumerable<int> pids)
    {
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                if (process.ProcessName is "ceph-mon" or "ceph-osd" or "radosgw")
                {
                    process.Kill();
                }
            }
            catch (ArgumentException)
            {
                // already gone
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
