using Konduktor.Storage;

namespace TinyTrainer.Tests;

/// <summary>What the restores racing a trainer found: the step each one got, and what went wrong.</summary>
internal sealed record RestoreRace(IReadOnlyList<long> Restored, IReadOnlyList<string> Failures)
{
    public override string ToString() =>
        $"{Restored.Count} restores of steps {string.Join(", ", Restored.Distinct())}; {Failures.Count} failures:\n{string.Join('\n', Failures.Take(10))}";
}

/// <summary>
/// Restores again and again, in this process with a manager of its own (run = the job name, the trainer's scope), while a
/// trainer process saves every step with <c>KeepLast=1</c>: each save prunes the checkpoint a restore may be reading.
/// Each round restores into a directory (checking every file against the manifest) and loads through verifying streams.
/// </summary>
internal static class TrainerRestoreRacer
{
    /// <summary>The trainer's settings for the race: a checkpoint every step, only the newest kept, no crash, steps to spare.</summary>
    public static readonly (string Key, string Value)[] TrainerSettings =
    [
        ("Konduktor__Checkpoints__Retention__KeepLast", "1"),
        ("Trainer__CheckpointEvery", "1"),
        ("Trainer__CrashAtStep", "0"),
        ("Trainer__Steps", "1000000"),
    ];

    public static async Task<RestoreRace> RunAsync(ICheckpointStore store, string job, RunningTrainer trainer, string work, int rounds)
    {
        var options = new CheckpointManagerOptions();
        options.Retention.ApplyAfterSave = false;
        var manager = new CheckpointManager(store, JobContext.Create(jobName: job), options);

        // Bounded polling for the trainer's first commit.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await manager.ListAsync()).Any(c => c.IsCommitted))
        {
            Assert.False(trainer.Process.HasExited, "the trainer ended before its first checkpoint");
            Assert.True(DateTime.UtcNow < deadline, "the trainer committed no checkpoint within 60 s");
            await Task.Delay(20);
        }

        var restored = new List<long>();
        var failures = new List<string>();
        for (var round = 0; round < rounds && !trainer.Process.HasExited; round++)
        {
            try
            {
                var target = Path.Combine(work, "restores", round.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var result = await manager.RestoreLatestAsync(target);
                var loaded = await manager.LoadLatestAsync(ReadAllAsync);
                if (!result.Found || !loaded.Found)
                {
                    failures.Add($"round {round}: restored {(object?)result.Step ?? "nothing"}, loaded {(object?)loaded.Step ?? "nothing"}; skipped {string.Join("; ", result.Skipped.Concat(loaded.Skipped))}");
                    continue;
                }

                foreach (var file in result.Manifest.Files)
                {
                    var bytes = await File.ReadAllBytesAsync(Path.Combine(target, file.Name));
                    if (ContentHash.Of(bytes) != file.Checksum || !ContentHash.Of(loaded.Value![file.Name]).Equals(loaded.Manifest.Files.Single(f => f.Name == file.Name).Checksum, StringComparison.Ordinal))
                    {
                        failures.Add($"round {round}: step {result.Step} file {file.Name} does not match its manifest");
                    }
                }

                if (result.Skipped.Concat(loaded.Skipped).FirstOrDefault(s => s.Reason != SkipReason.NotCommitted) is { } wrong)
                {
                    failures.Add($"round {round}: an intact checkpoint was passed over as {wrong.Reason}: {wrong.Detail}");
                }

                restored.Add(result.Step.Value);
                Directory.Delete(target, recursive: true);
            }
            catch (CheckpointStorageException e)
            {
                failures.Add($"round {round}: {e.GetType().Name}: {e.Message}");
            }
        }

        return new RestoreRace(restored, failures);
    }

    private static async Task<Dictionary<string, byte[]>> ReadAllAsync(CheckpointReader reader, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in reader.Manifest!.Files)
        {
            await using var stream = await reader.OpenFileAsync(file.Name, cancellationToken);
            using var bytes = new MemoryStream();
            await stream.CopyToAsync(bytes, cancellationToken);
            files[file.Name] = bytes.ToArray();
        }

        return files;
    }
}
