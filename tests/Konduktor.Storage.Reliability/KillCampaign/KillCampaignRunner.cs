using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Konduktor.Storage.Reliability.KillCampaign;

/// <summary>
/// The crash-consistency campaign: runs the sample's pod program with a payload, SIGKILLs it at a random moment (any
/// moment, right at a commit, or during the restore), lists the manifests in the store right after the kill, and
/// restarts it: the restart must resume from exactly the newest committed step (or a newer one whose manifest landed
/// after the listing), never pass over a committed checkpoint, and the job must end with an uninterrupted run's weights.
/// </summary>
public sealed partial class KillCampaignRunner(CampaignStore store, KillCampaignOptions options)
{
    private const string Program = "TinyTrainer";

    /// <summary>The files of one of the pod's checkpoints (the payload last, so a complete set means the commit is next).</summary>
    private static readonly string[] CheckpointFiles = ["weights.bin", "momentum.bin", "trainer.json", "payload.bin"];

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(1);

    private readonly KillCampaignReport _report = new() { Store = store.Name, Seed = options.Seed };
    private string _referenceWeights = "";
    private TimeSpan _referenceDuration;
    private TimeSpan _restoreLatency = TimeSpan.FromMilliseconds(500);

    private enum Aim
    {
        AnyMoment,
        Transfer,
        Commit,
        Restore,
    }

    /// <summary>Runs the campaign.</summary>
    /// <exception cref="InvalidOperationException">The uninterrupted reference run failed: nothing can be judged.</exception>
    public async Task<KillCampaignReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        await RunReferenceAsync().ConfigureAwait(false);
        int nextJob = 0, claimedKills = 0;
        async Task WorkAsync()
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                JobState job;
                int kills;
                lock (_report)
                {
                    if (claimedKills >= options.Kills)
                    {
                        return;
                    }

                    // Each job draws from its own generator, so its plan depends on the seed and its number only,
                    // not on how the jobs running side by side interleave.
                    var index = nextJob++;
                    job = new JobState($"kill-{index:D4}", new Random(HashCode.Combine(options.Seed, index)));
                    kills = Math.Min(job.Random.Next(1, 5), options.Kills - claimedKills);
                    claimedKills += kills;
                    _report.Jobs++;
                }

                var delivered = await RunJobAsync(job, kills).ConfigureAwait(false);
                lock (_report)
                {
                    claimedKills -= kills - delivered; // a pod that finished before its kill hands the kill back
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.Parallelism).Select(_ => Task.Run(WorkAsync, cancellationToken))).ConfigureAwait(false);
        _report.Seconds = clock.Elapsed.TotalSeconds;
        return _report;
    }

    private async Task RunReferenceAsync()
    {
        using var pod = Start("reference", restartAttempt: 0);
        var exit = await pod.WaitForExitAsync(options.ProcessDeadline).ConfigureAwait(false);
        if (exit != 0 || Result(pod) is not { } result)
        {
            throw new InvalidOperationException($"The uninterrupted reference run on {store.Name} failed (exit {exit?.ToString(CultureInfo.InvariantCulture) ?? "none: hung"}):\n{pod.Describe()}");
        }

        _referenceWeights = result.Weights;
        _referenceDuration = pod.Age;
        options.Log($"{store.Name}: reference run {_referenceDuration.TotalSeconds:F2} s, weights {_referenceWeights[..12]}…");
    }

    /// <summary>One job: <paramref name="kills"/> killed attempts, then one that must train to the end.</summary>
    /// <returns>How many kills were delivered.</returns>
    private async Task<int> RunJobAsync(JobState state, int kills)
    {
        for (var attempt = 0; attempt < kills; attempt++)
        {
            if (!await KillOnceAsync(state, attempt).ConfigureAwait(false))
            {
                return attempt; // it finished (or failed) before the kill; already judged
            }
        }

        using var last = Start(state.Job, kills);
        var exit = await last.WaitForExitAsync(options.ProcessDeadline).ConfigureAwait(false);
        Finish(state, last, exit);
        return kills;
    }

    /// <summary>Starts one attempt, kills it at the chosen moment, and records where the kill landed.</summary>
    /// <returns>False when the pod ended by itself before the kill (the job is over).</returns>
    private async Task<bool> KillOnceAsync(JobState state, int attempt)
    {
        var aim = ChooseAim(state);
        using var pod = Start(state.Job, attempt);
        switch (aim)
        {
            case Aim.Transfer:
                // The small files are in, the payload is streaming.
                await WaitForStepFilesAsync(pod, state, attempt, CheckpointFiles.Length - 1).ConfigureAwait(false);
                break;
            case Aim.Commit:
                await WaitForStepFilesAsync(pod, state, attempt, CheckpointFiles.Length).ConfigureAwait(false);
                break;
            case Aim.Restore:
                await pod.WaitForLineAsync(IsResumeLine, _restoreLatency * state.Random.NextDouble()).ConfigureAwait(false);
                break;
            default:
                await pod.WaitForLineAsync(_ => false, _referenceDuration * 1.1 * state.Random.NextDouble()).ConfigureAwait(false);
                break;
        }

        if (pod.HasExited)
        {
            Count(r => r.FinishedBeforeKill++);
            Finish(state, pod, await pod.WaitForExitAsync(options.ProcessDeadline).ConfigureAwait(false));
            return false;
        }

        await pod.KillAsync().ConfigureAwait(false);
        var objects = await store.ListAsync(ScopePrefix(state.Job)).ConfigureAwait(false);
        var phase = Classify(pod, objects, state, attempt);
        Count(r =>
        {
            r.Kills++;
            r.KillsByPhase[phase]++;
        });
        CheckResume(state, pod);
        state.PendingKills++;
        state.NewestCommitted = CommittedSteps(objects).DefaultIfEmpty(-1).Max() is var newest and >= 0 ? newest : null;
        options.Log($"{store.Name} {state.Job} attempt {attempt}: killed at {pod.Age.TotalMilliseconds:F0} ms aiming at {aim}, landed in {phase}; newest committed step {state.NewestCommitted?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        return true;
    }

    private static Aim ChooseAim(JobState state)
    {
        var draw = state.Random.NextDouble();
        return draw < 0.3 ? Aim.AnyMoment
            : draw < 0.5 ? Aim.Transfer
            : draw < 0.8 || state.NewestCommitted is null ? Aim.Commit
            : Aim.Restore;
    }

    /// <summary>
    /// Polls the store until this attempt has <paramref name="files"/> files of a chosen step there (all of them: its
    /// commit is next), or the step's manifest is.
    /// </summary>
    private async Task WaitForStepFilesAsync(PodProcess pod, JobState state, int attempt, int files)
    {
        var first = ((state.NewestCommitted ?? 0) / options.CheckpointEvery) + 1;
        var last = options.Steps / options.CheckpointEvery;
        var step = options.CheckpointEvery * (long)state.Random.Next((int)Math.Min(first, last), last + 1);
        var folder = StepFolder(state.Job, step);
        var deadline = Stopwatch.StartNew();
        while (!pod.HasExited && deadline.Elapsed < options.ProcessDeadline)
        {
            var objects = await store.ListAsync(folder).ConfigureAwait(false);
            var ours = objects.Select(o => o.Key[folder.Length..]).Where(k => k.StartsWith(WriterPrefix(attempt), StringComparison.Ordinal)).ToList();
            if (objects.Any(o => o.Key.EndsWith("/manifest.json", StringComparison.Ordinal))
                || ours.GroupBy(k => k[..k.IndexOf('/', StringComparison.Ordinal)]).Any(writer => writer.Count() >= files))
            {
                return;
            }

            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Judges the phase from what the pod printed (its last "saved step" line, its resume line) and what the store held
    /// right after the kill (this attempt's files and manifests of newer steps).
    /// </summary>
    private static KillPhase Classify(PodProcess pod, IReadOnlyList<ObjectInfo> objects, JobState state, int attempt)
    {
        var lines = pod.Lines;
        if (state.NewestCommitted is not null && !lines.Any(IsResumeLine))
        {
            return KillPhase.Restore;
        }

        var saved = lines.Select(l => SavedLine().Match(l)).Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();
        var since = Math.Max(saved, state.NewestCommitted ?? -1);
        var newer = objects.Where(o => StepOf(o.Key) > since).ToList();
        if (newer.Any(o => o.Key.EndsWith("/manifest.json", StringComparison.Ordinal)))
        {
            return KillPhase.Commit;
        }

        var ours = newer.Where(o => o.Key.Contains("/" + WriterPrefix(attempt), StringComparison.Ordinal)).ToList();
        return ours.GroupBy(o => StepOf(o.Key)).Any(g => g.Count() >= CheckpointFiles.Length) ? KillPhase.Commit
            : ours.Count > 0 ? KillPhase.Transfer
            : KillPhase.BetweenSaves;
    }

    /// <summary>Judges the resume line of a restarted pod against the newest step committed before it started.</summary>
    private void CheckResume(JobState state, PodProcess pod)
    {
        if (state.PendingKills == 0 || pod.Lines.FirstOrDefault(IsResumeLine) is not { } line)
        {
            return;
        }

        var resumed = ResumedLine().Match(line) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : (long?)null;
        KillOutcome outcome;
        // Folders without a manifest (saves cut short) are passed over as "NotCommitted"; any other reason means a
        // manifest whose data is not intact: a torn checkpoint.
        var skipped = line.Split("; skipped ", 2) is [_, var list] ? SkippedEntry().Matches(list).Select(r => r.Groups[1].Value).ToList() : [];
        var passedOver = skipped.Count(r => r == nameof(Konduktor.Storage.SkipReason.NotCommitted));
        Count(r => r.UncommittedPassedOver += passedOver);
        if (skipped.Any(r => r != nameof(Konduktor.Storage.SkipReason.NotCommitted)))
        {
            outcome = KillOutcome.Torn;
        }
        else if (state.NewestCommitted is { } expected)
        {
            outcome = resumed == expected ? KillOutcome.RestoredNewestCommitted
                : resumed > expected ? KillOutcome.RestoredLaterCommit
                : KillOutcome.LostCommitted;
        }
        else
        {
            outcome = resumed is null ? KillOutcome.StartedFresh : KillOutcome.RestoredLaterCommit;
        }

        var pending = state.PendingKills;
        Count(r => r.Outcomes[outcome] += pending);
        state.PendingKills = 0;
        if (outcome is KillOutcome.Torn or KillOutcome.LostCommitted)
        {
            Fail(state, $"{outcome}: expected to resume from step {state.NewestCommitted?.ToString(CultureInfo.InvariantCulture) ?? "none"}, the pod said: {line}", pod);
        }
    }

    /// <summary>Judges a pod that ended by itself: it must have resumed right and trained to the end with exact weights.</summary>
    private void Finish(JobState state, PodProcess pod, int? exit)
    {
        CheckResume(state, pod);
        if (state.NewestCommitted is not null && pod.TimeOf(IsResumeLine) is { } latency)
        {
            _restoreLatency = latency; // how long a restore takes here: restore-aimed kills land within it
        }

        if (exit is null)
        {
            Count(r => r.Hung++);
            Fail(state, $"hung: not finished within {options.ProcessDeadline.TotalSeconds:F0} s", pod);
        }
        else if (exit != 0 || Result(pod) is not { } result)
        {
            Count(r => r.FailedRuns++);
            Fail(state, $"failed with exit code {exit}", pod);
        }
        else if (result.Weights != _referenceWeights || result.Step != options.Steps)
        {
            Count(r => r.WrongWeights++);
            Fail(state, $"ended at step {result.Step} with weights {result.Weights}, an uninterrupted run has {_referenceWeights}", pod);
        }
        else
        {
            Count(r => r.CompletedJobs++);
        }
    }

    private void Fail(JobState state, string what, PodProcess pod)
    {
        var failure = $"{store.Name} {state.Job}: {what}\n{pod.Describe()}";
        Count(r => r.Failures.Add(failure));
        options.Log("FAILURE " + failure);
    }

    /// <summary>Updates the report; jobs run side by side.</summary>
    private void Count(Action<KillCampaignReport> update)
    {
        lock (_report)
        {
            update(_report);
        }
    }

    private PodProcess Start(string job, int restartAttempt)
    {
        var environment = new Dictionary<string, string>(store.Environment)
        {
            ["KONDUKTOR_JOB_NAME"] = job,
            ["RESTART_ATTEMPT"] = restartAttempt.ToString(CultureInfo.InvariantCulture),
            ["JOB_COMPLETION_INDEX"] = "0",
            ["NUM_NODES"] = "1",
            ["Trainer__Steps"] = options.Steps.ToString(CultureInfo.InvariantCulture),
            ["Trainer__CheckpointEvery"] = options.CheckpointEvery.ToString(CultureInfo.InvariantCulture),
            ["Trainer__PayloadMiB"] = options.PayloadMiB.ToString(CultureInfo.InvariantCulture),
            ["Trainer__CrashAtStep"] = "0",

            // Kills land while background saves are in flight too: the pod's saves return once captured.
            ["Trainer__BackgroundSaves"] = "true",
        };
        return PodProcess.Start(Program, Path.Combine(options.WorkDirectory, store.Name), environment);
    }

    private static (long Step, string Weights)? Result(PodProcess pod)
    {
        var line = pod.Lines.LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        using var json = JsonDocument.Parse(line["RESULT ".Length..]);
        return (json.RootElement.GetProperty("step").GetInt64(), json.RootElement.GetProperty("weightsSha256").GetString() ?? "");
    }

    private static bool IsResumeLine(string line) => ResumeLine().IsMatch(line);

    private static IEnumerable<long> CommittedSteps(IEnumerable<ObjectInfo> objects) =>
        objects.Where(o => o.Key.EndsWith("/manifest.json", StringComparison.Ordinal) && !o.Key.Contains("/quarantine/", StringComparison.Ordinal))
            .Select(o => StepOf(o.Key));

    private static string ScopePrefix(string job) => $"{job}/rank-00000/";

    private static string StepFolder(string job, long step) => $"{ScopePrefix(job)}step-{step:D12}/";

    private static string WriterPrefix(int attempt) => $"a{attempt.ToString(CultureInfo.InvariantCulture)}-";

    private static long StepOf(string key) => StepFolderPattern().Match(key) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;

    [GeneratedRegex(@"^attempt \d+: (resuming from step|no intact checkpoint)")]
    private static partial Regex ResumeLine();

    [GeneratedRegex(@"^attempt \d+: resuming from step (\d+) ")]
    private static partial Regex ResumedLine();

    [GeneratedRegex(@"step \d+ \((\w+):")]
    private static partial Regex SkippedEntry();

    [GeneratedRegex(@"^saved step (\d+):")]
    private static partial Regex SavedLine();

    [GeneratedRegex(@"/step-(\d{12})/")]
    private static partial Regex StepFolderPattern();

    /// <summary>What the harness knows of one job between its attempts.</summary>
    private sealed class JobState(string job, Random random)
    {
        public string Job { get; } = job;

        /// <summary>Draws this job's moments and steps.</summary>
        public Random Random { get; } = random;

        /// <summary>The newest step whose manifest was in the store after the last kill.</summary>
        public long? NewestCommitted { get; set; }

        /// <summary>Kills whose restart has not said yet where it resumed.</summary>
        public int PendingKills { get; set; }
    }
}
