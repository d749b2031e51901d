namespace Konduktor.Storage.Testing;

/// <summary>
/// Two writers of one scope at once — the stale pod of restart attempt 0, still running, and the new pod of attempt 1 —
/// saving the same steps. Each has its own store client (as separate pods do). Derive from it and return, from
/// <see cref="OpenStoreAsync"/>, a new store client over the same fresh, empty namespace on every call.
/// </summary>
public abstract class SplitBrainTests
{
    private const int Steps = 6;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly string[] FileNames = ["model.bin", "optimizer.bin"];

    /// <summary>A new store client over this test's namespace (the same namespace on every call).</summary>
    protected abstract Task<ICheckpointStore> OpenStoreAsync();

    [Fact]
    public async Task Save_StaleAndNewPodRaceForTheSameSteps_OneCheckpointPerStepOfOneWritersCompleteData()
    {
        // Several jobs, so that either pod may win the first race.
        for (var job = 0; job < 3; job++)
        {
            var name = $"split-{job}";
            var stale = await WriterAsync(name, restartAttempt: 0);
            var fresh = await WriterAsync(name, restartAttempt: 1);
            using var barrier = new Barrier(2);

            var runs = await Task.WhenAll(
                Task.Run(() => SaveStepsAsync(stale, barrier)),
                Task.Run(() => SaveStepsAsync(fresh, barrier)));

            var loser = Assert.Single(runs, r => r.Failure is not null);
            var winner = Assert.Single(runs, r => r.Failure is null);
            Assert.Equal(Steps, winner.Writers.Count);
            var conflict = Assert.IsType<CheckpointConflictException>(loser.Failure);
            Assert.Equal(1, conflict.Step);
            Assert.Equal(winner.Writers[1], conflict.Winner?.Writer);
            Assert.Contains($"Step 1 was committed by another writer (writer {winner.Writers[1]}", conflict.Message, StringComparison.Ordinal);
            Assert.Contains($"restart attempt {conflict.Winner!.Job!.RestartAttempt}", conflict.Message, StringComparison.Ordinal);
            Assert.Contains("nothing was overwritten", conflict.Message, StringComparison.Ordinal);

            var store = await OpenStoreAsync();
            var checkpoints = await new CheckpointManager(store, JobContext.Create(jobName: name)).ListAsync();
            Assert.Equal(Enumerable.Range(1, Steps).Select(s => (long)s), checkpoints.Select(c => c.Step).Order());
            foreach (var checkpoint in checkpoints)
            {
                Assert.True(checkpoint.IsCommitted, $"step {checkpoint.Step}: {checkpoint.Problem}");
                Assert.Equal(winner.Writers[checkpoint.Step], checkpoint.Manifest!.Writer);
                await AssertOwnCompleteDataAsync(store, name, checkpoint.Manifest);
            }

            await AssertRestoresIntactAsync(name, winner);
        }
    }

    [Fact]
    public async Task Save_StalePodSavesAStepTheNewPodCommitted_ConflictNamesTheWinnerAndNothingIsOverwritten()
    {
        var fresh = await WriterAsync("late", restartAttempt: 1);
        var stale = await WriterAsync("late", restartAttempt: 0);
        var committed = await SaveAsync(fresh, 4);
        var store = await OpenStoreAsync();
        var manifestKey = $"late/rank-00000/step-{4:D12}/manifest.json";
        var before = await ReadAllAsync(store, manifestKey);

        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => SaveAsync(stale, 4));

        Assert.Equal(4, conflict.Step);
        Assert.Equal(committed.Writer, conflict.Winner?.Writer);
        Assert.Equal(1, conflict.Winner!.Job!.RestartAttempt);
        Assert.Equal($"Step 4 was committed by another writer ({Describe(conflict.Winner)}): nothing was overwritten; this save's data was removed.", conflict.Message);
        Assert.Equal(before, await ReadAllAsync(store, manifestKey));
        await AssertOwnCompleteDataAsync(store, "late", committed);
        var keys = new List<string>();
        await foreach (var entry in store.ListAsync($"late/rank-00000/step-{4:D12}/"))
        {
            keys.Add(entry.Key);
        }

        Assert.DoesNotContain(keys, k => k.Contains("/a0-", StringComparison.Ordinal));
    }

    private async Task<Writer> WriterAsync(string job, int restartAttempt)
    {
        var options = new CheckpointManagerOptions();
        options.Retention.KeepLast = 100;
        return new Writer(new CheckpointManager(await OpenStoreAsync(), JobContext.Create(jobName: job, restartAttempt: restartAttempt), options), restartAttempt);
    }

    private static async Task<CheckpointManifest> SaveAsync(Writer writer, long step)
    {
        var save = await writer.Manager.BeginSaveAsync(step);
        await using (save)
        {
            foreach (var (name, content) in Files(save.WriterId, step))
            {
                await save.AddFileAsync(name, content);
            }

            return await save.CommitAsync();
        }
    }

    /// <summary>Saves steps 1… in lockstep with the other writer (both uploaded, then both commit); stops at the first failure.</summary>
    private static async Task<WriterRun> SaveStepsAsync(Writer writer, Barrier barrier)
    {
        var writers = new Dictionary<long, string>();
        for (long step = 1; step <= Steps; step++)
        {
            var save = await writer.Manager.BeginSaveAsync(step);
            await using (save)
            {
                foreach (var (name, content) in Files(save.WriterId, step))
                {
                    await save.AddFileAsync(name, content);
                }

                if (!barrier.SignalAndWait(Deadline))
                {
                    throw new TimeoutException($"step {step}: the other writer did not arrive");
                }

                try
                {
                    await save.CommitAsync();
                    writers[step] = save.WriterId;
                }
                catch (Exception e)
                {
                    barrier.RemoveParticipant(); // the loser stops; the other goes on alone
                    return new WriterRun(writer.Id, writers, e);
                }
            }
        }

        return new WriterRun(writer.Id, writers, null);
    }

    /// <summary>Every file the manifest names is under its own writer's folder, with the length and checksum it states.</summary>
    private static async Task AssertOwnCompleteDataAsync(ICheckpointStore store, string job, CheckpointManifest manifest)
    {
        Assert.Equal(FileNames, manifest.Files.Select(f => f.Name).Order(StringComparer.Ordinal));
        foreach (var file in manifest.Files)
        {
            Assert.StartsWith(manifest.Writer + "/", file.Key, StringComparison.Ordinal);
            var bytes = await ReadAllAsync(store, $"{job}/rank-00000/step-{manifest.Step:D12}/{file.Key}");
            Assert.Equal(file.Length, bytes.Length);
            Assert.Equal(file.Checksum, ContentHash.Of(bytes));
            Assert.Equal(Content(manifest.Writer, manifest.Step, file.Name), bytes);
        }
    }

    private async Task AssertRestoresIntactAsync(string job, WriterRun winner)
    {
        var reader = new CheckpointManager(await OpenStoreAsync(), JobContext.Create(jobName: job, restartAttempt: 2));
        var loaded = await reader.LoadLatestAsync(async (checkpoint, ct) =>
        {
            await using var stream = await checkpoint.OpenFileAsync("model.bin", ct);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct);
            return copy.ToArray();
        });

        Assert.Equal(Steps, loaded.Step);
        Assert.Empty(loaded.Skipped);
        Assert.Equal(Content(winner.Writers[Steps], Steps, "model.bin"), loaded.Value);
    }

    private static Dictionary<string, Stream> Files(string writerId, long step) =>
        FileNames.ToDictionary(n => n, n => (Stream)new MemoryStream(Content(writerId, step, n)));

    /// <summary>Bytes that differ by writer, step and file, so data of the wrong writer cannot pass for the right one.</summary>
    private static byte[] Content(string writerId, long step, string name)
    {
        var bytes = new byte[96 * 1024 + name.Length];
        new Random(StringComparer.Ordinal.GetHashCode($"{writerId}/{step}/{name}")).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(ICheckpointStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static string Describe(CheckpointManifest m) =>
        $"writer {m.Writer} at {m.CreatedUtc:O}, restart attempt {m.Job!.RestartAttempt}, rank {m.Job.Rank}, host {m.Job.Host ?? "unknown"}";

    private sealed record Writer(CheckpointManager Manager, int RestartAttempt)
    {
        public string Id => $"attempt {RestartAttempt}";
    }

    private sealed record WriterRun(string Id, IReadOnlyDictionary<long, string> Writers, Exception? Failure);
}
