using Konduktor.Storage.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>How many store requests it takes to find the newest checkpoint among many.</summary>
public sealed class FindLatestRequestTests
{
    [Fact]
    public async Task OpenLatestAsync_AmongAThousandSteps_TakesThreeRequests()
    {
        var store = new RequestCountingStore(new InMemoryCheckpointStore());
        var manager = await SaveStepsAsync(store, 1000);
        store.Reset();

        var reader = await manager.OpenLatestAsync();

        Assert.Equal(999, reader.Step);
        Assert.Equal(["list run-1/rank-00000/ /", "list run-1/rank-00000/step-000000000999/", "read run-1/rank-00000/step-000000000999/manifest.json"], store.Requests);
    }

    [Fact]
    public async Task RestoreLatestAsync_SkippedSteps_CostOneOrTwoRequestsEach()
    {
        var store = new RequestCountingStore(new InMemoryCheckpointStore());
        var manager = await SaveStepsAsync(store, 10);
        await store.ReplaceAsync(ManifestKey(manager, 9), Utf8("torn {"));
        var missing = (await manager.ListAsync()).Single(c => c.Step == 8).Manifest!;
        await store.DeleteAsync(DataKey(manager, missing, "b.bin"));
        await store.PutAsync($"{Run}/rank-00000/step-000000000010/a0-000000000000/a.bin", new MemoryStream(Bytes(10, 10)));
        store.Reset();

        var result = await manager.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(7, result.Step);
        Assert.Equal(
            [(10L, SkipReason.NotCommitted), (9L, SkipReason.InvalidManifest), (8L, SkipReason.MissingFile)],
            result.Skipped.Select(s => (s.Step, s.Reason)));

        // 1 list of the scope; step 10: its listing only (no manifest); steps 9 and 8: listing + manifest read, and for 8 a
        // look at its manifest again (a file missing from a listing may have gone with the whole checkpoint); step 7: listing
        // + manifest read, then its two files.
        Assert.Equal(1 + 1 + 2 + 3 + 2, store.Requests.Count(r => !r.StartsWith("read", StringComparison.Ordinal) || r.EndsWith("manifest.json", StringComparison.Ordinal)));
        Assert.Equal(2, store.Requests.Count(r => r.StartsWith("read", StringComparison.Ordinal) && !r.EndsWith("manifest.json", StringComparison.Ordinal)));
        Assert.Single(store.Requests, r => r.StartsWith("stat", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RestoreLatestAsync_ShortFile_IsStillFoundBeforeAnyDownload()
    {
        var store = new RequestCountingStore(new InMemoryCheckpointStore());
        var manager = await SaveStepsAsync(store, 2);
        var newest = (await manager.ListAsync()).Single(c => c.Step == 1).Manifest!;
        await store.ReplaceAsync(DataKey(manager, newest, "a.bin"), Bytes(99, 0));
        store.Reset();

        var result = await manager.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(0, result.Step);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal(SkipReason.LengthMismatch, skipped.Reason);
        Assert.DoesNotContain(store.Requests, r => r.StartsWith("read", StringComparison.Ordinal) && r.Contains("step-000000000001/a", StringComparison.Ordinal));
    }

    private static async Task<CheckpointManager> SaveStepsAsync(ICheckpointStore store, int count)
    {
        var manager = Manager(store, o => o.Retention.ApplyAfterSave = false);
        for (var step = 0; step < count; step++)
        {
            await manager.SaveAsync(step, ("a.bin", Bytes(100, step)), ("b.bin", Bytes(50, step)));
        }

        return manager;
    }
}

/// <summary>Records every request a store receives, as "list PREFIX [DELIMITER]", "read KEY", "stat KEY" and so on.</summary>
internal sealed class RequestCountingStore(ICheckpointStore inner) : DelegatingStore(inner)
{
    private readonly List<string> _requests = [];

    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    public void Reset()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    public override Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Record($"put {key}");
        return Inner.PutAsync(key, content, options, cancellationToken);
    }

    public override Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        Record($"write {key}");
        return Inner.OpenWriteAsync(key, options, cancellationToken);
    }

    public override Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        Record($"read {key}");
        return Inner.OpenReadAsync(key, range, cancellationToken);
    }

    public override Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        Record($"stat {key}");
        return Inner.StatAsync(key, cancellationToken);
    }

    public override IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        Record(options?.Delimiter is { } delimiter ? $"list {prefix} {delimiter}" : $"list {prefix}");
        return Inner.ListAsync(prefix, options, cancellationToken);
    }

    public override Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        Record($"delete {key}");
        return Inner.DeleteAsync(key, ifMatch, cancellationToken);
    }

    private void Record(string request)
    {
        lock (_requests)
        {
            _requests.Add(request);
        }
    }
}
