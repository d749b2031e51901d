using System.Text;

namespace Konduktor.Storage.Tests;

/// <summary>The ranks of one collective job on one store, as managers, and the keys of its layout.</summary>
internal static class CollectiveTestKit
{
    public const string Run = "job-run";

    /// <summary>One manager per rank of an <paramref name="nodes"/>-node job in restart attempt <paramref name="attempt"/>.</summary>
    public static CheckpointManager[] Ranks(ICheckpointStore store, int nodes, int attempt = 0, TimeSpan? timeout = null, Action<CheckpointManagerOptions>? configure = null) =>
        [.. Enumerable.Range(0, nodes).Select(rank => Rank(store, rank, nodes, attempt, timeout, configure))];

    public static CheckpointManager Rank(
        ICheckpointStore store, int rank, int nodes, int attempt = 0, TimeSpan? timeout = null, Action<CheckpointManagerOptions>? configure = null)
    {
        var options = new CheckpointManagerOptions { RunId = Run };
        options.Collective.Timeout = timeout ?? TimeSpan.FromSeconds(30);
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Resilience.MaxDelay = TimeSpan.FromMilliseconds(5);
        configure?.Invoke(options);
        return new CheckpointManager(store, JobContext.Create(rank, nodes, restartAttempt: attempt), options);
    }

    /// <summary>Rank r's content at a step: different per rank and step, so a mix-up shows.</summary>
    public static byte[] Content(long step, int rank) => Encoding.UTF8.GetBytes($"step {step} rank {rank} " + new string('x', 100 + (int)step));

    public static Task<CheckpointManifest> SavePartAsync(this CheckpointManager rank, long step) =>
        rank.SaveAsync(step, new Dictionary<string, Stream> { ["shard.bin"] = new MemoryStream(Content(step, rank.Job.Rank)) });

    /// <summary>Every rank saves <paramref name="step"/> at once, as the ranks of a job do.</summary>
    public static Task<CheckpointManifest[]> SaveAllAsync(this CheckpointManager[] ranks, long step) =>
        Task.WhenAll(ranks.Select(r => Task.Run(() => r.SavePartAsync(step))));

    /// <summary>Every rank loads the newest step at once; each returns the step and the bytes it read.</summary>
    public static Task<LoadResult<byte[]>[]> LoadAllAsync(this CheckpointManager[] ranks) =>
        Task.WhenAll(ranks.Select(r => Task.Run(() => r.LoadLatestAsync(async (reader, ct) =>
        {
            await using var stream = await reader.OpenFileAsync("shard.bin", ct);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct);
            return buffer.ToArray();
        }))));

    public static string StepCommitKey(long step) => $"{Run}/job/step-{step:D12}/manifest.json";

    public static string PartManifestKey(long step, int rank) => $"{Run}/job/step-{step:D12}/rank-{rank:D5}/manifest.json";

    public static string PartDataKey(long step, int rank, CheckpointManifest part) =>
        $"{Run}/job/step-{step:D12}/rank-{rank:D5}/{part.Files.Single().Key}";
}
