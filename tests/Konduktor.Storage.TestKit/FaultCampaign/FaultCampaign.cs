using System.Diagnostics;

namespace Konduktor.Storage.Testing;

/// <summary>
/// Saves and restores checkpoints through a <see cref="LoopbackFaultProxy"/> under each <see cref="FaultCampaignProfiles"/>
/// profile, and checks every transfer: it succeeds with the right bytes, or fails with a clear library exception; it never
/// hangs; a failed save never leaves a torn checkpoint (a restore straight from the server returns the previous step or the
/// complete new one). Store-agnostic: a store plugs in with an <see cref="IFaultCampaignStore"/>.
/// </summary>
/// <param name="target">The store and its test server.</param>
/// <param name="options">Transfers, seed and timeouts.</param>
/// <param name="log">Where progress lines go (a test's output).</param>
public sealed class FaultCampaign(IFaultCampaignStore target, FaultCampaignOptions options, Action<string> log)
{
    /// <summary>Transfers per episode: one run, one profile, saves and restores alternating.</summary>
    private const int EpisodeLength = 4;

    /// <summary>
    /// Runs the campaign on <paramref name="target"/> with the options of the environment (<see cref="FaultCampaignOptions.FromEnvironment"/>),
    /// writes the figures where they ask, and fails on any unclear error, hang, torn checkpoint or wrong byte: the body of each
    /// store's campaign test.
    /// </summary>
    /// <param name="target">The store and its test server.</param>
    /// <param name="log">Where progress goes (the test output).</param>
    /// <returns>The figures.</returns>
    public static async Task<FaultCampaignReport> RunAndAssertAsync(IFaultCampaignStore target, Action<string> log)
    {
        var options = FaultCampaignOptions.FromEnvironment();

        var report = await new FaultCampaign(target, options, log).RunAsync().ConfigureAwait(false);

        if (options.ReportPath is { } path)
        {
            await File.WriteAllTextAsync(path, report.ToJson()).ConfigureAwait(false);
        }

        Assert.Equal(options.Transfers, report.Transfers);
        Assert.Equal(report.Transfers, report.Succeeded + report.FailedClearly + report.UnclearErrors + report.Hung);
        Assert.True(report.Passed, string.Join(Environment.NewLine, report.Problems));
        Assert.True(report.FaultsByKind.Values.Sum() > 0, "no fault was injected");
        return report;
    }

    /// <summary>Runs the campaign.</summary>
    /// <returns>The figures; see <see cref="FaultCampaignReport.Passed"/>.</returns>
    public async Task<FaultCampaignReport> RunAsync()
    {
        ArgumentNullException.ThrowIfNull(target);
        var report = new FaultCampaignReport { Store = target.Name, Seed = options.Seed };
        var clock = Stopwatch.StartNew();
        log($"fault campaign on {target.Name}: seed {options.Seed}, {options.Transfers} transfers, profiles {string.Join(", ", FaultCampaignProfiles.All.Select(p => p.Name))}");
        var root = Directory.CreateTempSubdirectory("konduktor-fault-campaign-").FullName;
        var prefix = $"campaign-{options.Seed}-{Guid.NewGuid():N}";
        var proxy = new LoopbackFaultProxy(target.ServerEndpoint);
        var faulty = await target.CreateStoreAsync(proxy.Endpoint, prefix, options.Resilience).ConfigureAwait(false);
        var direct = await target.CreateStoreAsync(target.ServerEndpoint, prefix, options.Resilience).ConfigureAwait(false);
        try
        {
            var transfer = 0;
            for (var episode = 0; transfer < options.Transfers; episode++)
            {
                var profile = FaultCampaignProfiles.All[episode % FaultCampaignProfiles.All.Count];
                var state = new Episode($"episode-{episode:D5}", profile.Name);
                for (var i = 0; i < EpisodeLength && transfer < options.Transfers; i++, transfer++)
                {
                    var transferRoot = Path.Join(root, $"t{transfer:D5}");
                    proxy.UseProfile(profile, unchecked(options.Seed + transfer));
                    try
                    {
                        if (i % 2 == 0)
                        {
                            await SaveAsync(report, state, faulty, direct, transfer, transferRoot).ConfigureAwait(false);
                        }
                        else
                        {
                            await RestoreAsync(report, state, faulty, transfer, transferRoot).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        proxy.UseProfile(null);
                        DeleteQuietly(transferRoot);
                    }
                }
            }
        }
        finally
        {
            report.FaultsByKind = proxy.FaultsByKind;
            await proxy.DisposeAsync().ConfigureAwait(false);
            (faulty as IDisposable)?.Dispose();
            (direct as IDisposable)?.Dispose();
            DeleteQuietly(root);
        }

        report.Duration = clock.Elapsed;
        log($"fault campaign on {target.Name}: {report.ToJson()} in {report.Duration.TotalSeconds:F1} s");
        foreach (var problem in report.Problems)
        {
            log("  problem: " + problem);
        }

        return report;
    }

    private async Task SaveAsync(FaultCampaignReport report, Episode state, ICheckpointStore faulty, ICheckpointStore direct, int transfer, string transferRoot)
    {
        var step = state.NextStep++;
        var files = Files(transfer, large: step % 2 == 0);
        report.Saves++;
        var outcome = await WithDeadlineAsync(ct => Manager(faulty, state.Run, transfer).SaveAsync(
            step,
            files.ToDictionary(p => p.Key, p => (Stream)new MemoryStream(p.Value), StringComparer.Ordinal),
            cancellationToken: ct)).ConfigureAwait(false);
        Classify(report, outcome, $"save of step {step} ({state})");

        // The torn check: what a restarted pod would find now, read straight from the server.
        var oracle = Manager(direct, state.Run, transfer);
        var restored = await oracle.RestoreLatestAsync(Path.Join(transferRoot, "oracle")).ConfigureAwait(false);
        var committedNew = restored.Found && restored.Step == step && SameFiles(restored.Directory, files);
        var keptPrevious = state.Committed is null
            ? !restored.Found
            : restored.Found && restored.Step == state.Committed.Step && SameFiles(restored.Directory, state.Committed.Files);
        var broken = restored.Skipped.Where(s => s.Reason != SkipReason.NotCommitted).ToList();
        if (broken.Count > 0 || !(committedNew || (keptPrevious && outcome.Error is not null)) || (outcome.Succeeded && !committedNew))
        {
            report.Torn++;
            report.Problem($"torn after the save of step {step} ({state}, {Describe(outcome)}): the server holds step {restored.Step?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, skipped [{string.Join("; ", broken.Select(s => $"{s.Step} {s.Reason}: {s.Detail}"))}]");
        }

        if (committedNew)
        {
            state.Committed = new Committed(step, files);
        }
    }

    private async Task RestoreAsync(FaultCampaignReport report, Episode state, ICheckpointStore faulty, int transfer, string transferRoot)
    {
        report.Restores++;
        var manager = Manager(faulty, state.Run, transfer);
        var expected = state.Committed;

        // Half the restores go to a directory, half are read as verifying streams.
        var outcome = transfer % 4 == 1
            ? await WithDeadlineAsync(async ct =>
            {
                var result = await manager.RestoreLatestAsync(Path.Join(transferRoot, "restored"), cancellationToken: ct).ConfigureAwait(false);
                return (result.Step, result.Found ? ReadDirectory(result.Directory) : null);
            }).ConfigureAwait(false)
            : await WithDeadlineAsync(async ct =>
            {
                var result = await manager.LoadLatestAsync(ReadAllAsync, ct).ConfigureAwait(false);
                return (result.Step, result.Value);
            }).ConfigureAwait(false);
        Classify(report, outcome, $"restore ({state})");
        if (outcome.Succeeded)
        {
            var (step, restored) = outcome.Value;
            var right = expected is null ? step is null : step == expected.Step && restored is not null && Same(restored, expected.Files);
            if (!right)
            {
                report.WrongBytes++;
                report.Problem($"restore ({state}) returned step {step?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} with {(restored is null ? "no files" : "other bytes")}; expected step {expected?.Step.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
            }
        }
    }

    private void Classify<T>(FaultCampaignReport report, Outcome<T> outcome, string what)
    {
        if (outcome.Hung)
        {
            report.Hung++;
            report.Problem($"{what} still running after {options.TransferDeadline.TotalSeconds:F0} s");
        }
        else if (outcome.Error is { } error)
        {
            if (Unclear(error) is { } why)
            {
                report.UnclearErrors++;
                report.Problem($"{what}: {why}: {error}");
            }
            else
            {
                report.FailedClearly++;
            }
        }
        else
        {
            report.Succeeded++;
        }
    }

    /// <summary>Why an error is not clear, or <see langword="null"/> when it is a library exception that says what failed.</summary>
    public static string? Unclear(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is not CheckpointStorageException)
        {
            return $"{error.GetType().Name} is not one of the library's exceptions";
        }

        string[] vague = ["One or more errors occurred", "Exception of type", "The operation was canceled", "An error occurred"];
        return error.Message.Length < 20 || vague.Any(v => error.Message.StartsWith(v, StringComparison.Ordinal))
            ? $"the message does not say what failed ('{error.Message}')"
            : null;
    }

    private async Task<Outcome<T>> WithDeadlineAsync<T>(Func<CancellationToken, Task<T>> transfer)
    {
        using var cancel = new CancellationTokenSource();
        var running = Task.Run(() => transfer(cancel.Token));
        if (await Task.WhenAny(running, Task.Delay(options.TransferDeadline)).ConfigureAwait(false) != running)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            await ((Task)running).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return new Outcome<T>(default, null, Hung: true);
        }

        try
        {
            return new Outcome<T>(await running.ConfigureAwait(false), null, Hung: false);
        }
        catch (Exception e)
        {
            return new Outcome<T>(default, e, Hung: false);
        }
    }

    private CheckpointManager Manager(ICheckpointStore store, string run, int transfer) =>
        new(store, JobContext.Create(restartAttempt: transfer), new CheckpointManagerOptions
        {
            RunId = run,
            Resilience = options.Resilience,

            // Retention runs under faults too: it must never take the newest checkpoint with it.
            Retention = new RetentionOptions { KeepLast = 2 },
        });

    /// <summary>A checkpoint's files: a small config, an optimizer state, and a model that is large (several parts) every other step.</summary>
    private Dictionary<string, byte[]> Files(int transfer, bool large)
    {
        var random = new Random(unchecked(options.Seed * 31 + transfer));
        byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return bytes;
        }

        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["config.json"] = Bytes(random.Next(1, 2000)),
            ["optimizer/state.bin"] = Bytes(random.Next(10_000, 300_000)),
            ["model.bin"] = Bytes(large ? target.LargeFileBytes + random.Next(0, 100_000) : random.Next(100_000, 1_000_000)),
        };
    }

    private static async Task<Dictionary<string, byte[]>> ReadAllAsync(CheckpointReader reader, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in reader.Manifest!.Files)
        {
            var stream = await reader.OpenFileAsync(file.Name, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                files[file.Name] = copy.ToArray();
            }
        }

        return files;
    }

    private static Dictionary<string, byte[]> ReadDirectory(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);

    private static bool SameFiles(string? directory, IReadOnlyDictionary<string, byte[]> expected) =>
        directory is not null && Same(ReadDirectory(directory), expected);

    private static bool Same(Dictionary<string, byte[]> actual, IReadOnlyDictionary<string, byte[]> expected) =>
        actual.Count == expected.Count && expected.All(p => actual.TryGetValue(p.Key, out var bytes) && bytes.AsSpan().SequenceEqual(p.Value));

    private static string Describe<T>(Outcome<T> outcome) =>
        outcome.Hung ? "hung" : outcome.Error is { } e ? $"failed: {e.GetType().Name}: {e.Message}" : "succeeded";

    private static void DeleteQuietly(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record Committed(long Step, IReadOnlyDictionary<string, byte[]> Files);

    private sealed record Outcome<T>(T? Value, Exception? Error, bool Hung)
    {
        public bool Succeeded => !Hung && Error is null;
    }

    /// <summary>One run of saves and restores under one profile, and the newest checkpoint committed in it.</summary>
    private sealed class Episode(string run, string profile)
    {
        public string Run { get; } = run;

        public long NextStep { get; set; } = 1;

        public Committed? Committed { get; set; }

        public override string ToString() => $"{Run}, profile {profile}";
    }
}
