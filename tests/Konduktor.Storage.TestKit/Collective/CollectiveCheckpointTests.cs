using System.Text;

namespace Konduktor.Storage.Testing;

/// <summary>
/// Collective checkpoints on a store: the ranks of one job, each with its own store client (as separate pods have), save
/// one step together and agree on the step to restore. Derive from it and return, from <see cref="OpenStoreAsync"/>, a new
/// store client over the same fresh, empty namespace on every call.
/// </summary>
public abstract class CollectiveCheckpointTests
{
    private const string Run = "collective";

    /// <summary>A new store client over this test's namespace (the same namespace on every call).</summary>
    protected abstract Task<ICheckpointStore> OpenStoreAsync();

    [Fact]
    public async Task Save_EveryRank_OneStepCommitListingOnePartPerRank_AndEveryRankLoadsItsOwnPart()
    {
        var ranks = await RanksAsync(3, attempt: 0);

        var parts = await Task.WhenAll(ranks.Select(r => Task.Run(() => SaveAsync(r, 10))));
        var loaded = await LoadAllAsync(await RanksAsync(3, attempt: 1));

        var commit = await ranks[0].Collective!.GetStepCommitAsync(10);
        Assert.Equal(parts.Select(p => p.Writer), commit!.Parts.Select(p => p.Writer));
        Assert.All(loaded, l => Assert.Equal(10, l.Step));
        Assert.All(loaded, (l, rank) => Assert.Equal(Content(10, rank), l.Value));
    }

    [Fact]
    public async Task Save_TwoCopiesOfOneRank_OnePartCommitWins_TheStepListsExactlyOnePartPerRank()
    {
        var rank0 = (await RanksAsync(2, attempt: 0))[0];
        var copies = new[] { await RankAsync(1, 2, 0), await RankAsync(1, 2, 0) };

        var outcomes = await Task.WhenAll(copies.Select(c => Task.Run(async () =>
        {
            try
            {
                return (object)await SaveAsync(c, 4);
            }
            catch (CheckpointConflictException e)
            {
                return e;
            }
        })).Append(Task.Run(async () => (object)await SaveAsync(rank0, 4))));

        var winner = Assert.Single(outcomes.Take(2).OfType<CheckpointManifest>());
        Assert.Single(outcomes.OfType<CheckpointConflictException>());
        var commit = await rank0.Collective!.GetStepCommitAsync(4);
        Assert.Equal(2, commit!.Parts.Count);
        Assert.Equal(winner.Writer, commit.Parts[1].Writer);
    }

    [Fact]
    public async Task Load_FlippedByteInOneRanksPart_EveryRankFallsBackToThePreviousStepInTheSameAttempt()
    {
        var ranks = await RanksAsync(2, attempt: 0);
        await Task.WhenAll(ranks.Select(r => Task.Run(() => SaveAsync(r, 5))));
        var parts = await Task.WhenAll(ranks.Select(r => Task.Run(() => SaveAsync(r, 10))));
        var store = await OpenStoreAsync();
        var key = $"{Run}/job/step-{10:D12}/rank-00001/{parts[1].Files.Single().Key}";
        var bytes = await ReadAsync(store, key);
        bytes[2] ^= 0x20;
        await store.PutAsync(key, new MemoryStream(bytes));

        var loaded = await LoadAllAsync(await RanksAsync(2, attempt: 1));

        Assert.All(loaded, l => Assert.Equal(5, l.Step));
        Assert.All(loaded, (l, rank) => Assert.Equal(Content(5, rank), l.Value));
        Assert.Equal(SkipReason.PartCorrupt, Assert.Single(loaded[0].Skipped).Reason);
        Assert.Equal(SkipReason.ChecksumMismatch, Assert.Single(loaded[1].Skipped).Reason);
    }

    [Fact]
    public async Task Save_ARankNeverShowsUp_TheOthersFailNamingIt_NothingIsCommitted()
    {
        var ranks = await RanksAsync(2, attempt: 0, timeout: TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<CollectiveTimeoutException>(() => SaveAsync(ranks[0], 3));

        Assert.Equal([1], error.Ranks);
        Assert.Null(await ranks[0].Collective!.GetStepCommitAsync(3));
    }

    private static byte[] Content(long step, int rank) => Encoding.UTF8.GetBytes($"step {step} rank {rank} " + new string('c', 2000));

    private static Task<CheckpointManifest> SaveAsync(CheckpointManager rank, long step) =>
        rank.SaveAsync(step, new Dictionary<string, Stream> { ["part.bin"] = new MemoryStream(Content(step, rank.Job.Rank)) });

    private static Task<LoadResult<byte[]>[]> LoadAllAsync(CheckpointManager[] ranks) =>
        Task.WhenAll(ranks.Select(r => Task.Run(() => r.LoadLatestAsync(async (reader, ct) =>
        {
            await using var stream = await reader.OpenFileAsync("part.bin", ct);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct);
            return buffer.ToArray();
        }))));

    private static async Task<byte[]> ReadAsync(ICheckpointStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private async Task<CheckpointManager[]> RanksAsync(int nodes, int attempt, TimeSpan? timeout = null)
    {
        var ranks = new CheckpointManager[nodes];
        for (var rank = 0; rank < nodes; rank++)
        {
            ranks[rank] = await RankAsync(rank, nodes, attempt, timeout);
        }

        return ranks;
    }

    private async Task<CheckpointManager> RankAsync(int rank, int nodes, int attempt, TimeSpan? timeout = null)
    {
        var options = new CheckpointManagerOptions { RunId = Run };
        options.Collective.Timeout = timeout ?? TimeSpan.FromSeconds(30);
        return new CheckpointManager(await OpenStoreAsync(), JobContext.Create(rank, nodes, restartAttempt: attempt), options);
    }
}
