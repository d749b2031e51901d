using System.Text.Json;
using System.Text.Json.Serialization;

namespace Konduktor.Storage.Reliability.KillCampaign;

/// <summary>Where in the pod's work a kill landed, judged from what the store holds and what the pod printed.</summary>
public enum KillPhase
{
    /// <summary>Before the pod said which checkpoint it resumed from, with a checkpoint there to restore.</summary>
    Restore,

    /// <summary>Some of the step's files were in the store, not all.</summary>
    Transfer,

    /// <summary>All of the step's files were in the store and its manifest not yet, or the manifest was and the save had not returned.</summary>
    Commit,

    /// <summary>No save in flight: start-up, training, or just after a save returned.</summary>
    BetweenSaves,
}

/// <summary>What the restart after a kill found.</summary>
public enum KillOutcome
{
    /// <summary>It resumed from exactly the newest step whose manifest was in the store right after the kill.</summary>
    RestoredNewestCommitted,

    /// <summary>It resumed from a newer step whose manifest landed just after the listing (a request in flight at the kill).</summary>
    RestoredLaterCommit,

    /// <summary>Nothing was committed and it started fresh.</summary>
    StartedFresh,

    /// <summary>It resumed from an older step than one that was committed: a committed checkpoint was lost.</summary>
    LostCommitted,

    /// <summary>It passed over a committed checkpoint as not intact, or its restore failed: a torn checkpoint.</summary>
    Torn,
}

/// <summary>The figures of one kill campaign.</summary>
public sealed class KillCampaignReport
{
    public required string Store { get; init; }

    public required int Seed { get; init; }

    public int Jobs { get; set; }

    public int Kills { get; set; }

    /// <summary>Pods that finished before their planned kill (not counted as kills).</summary>
    public int FinishedBeforeKill { get; set; }

    public Dictionary<KillPhase, int> KillsByPhase { get; } = Enum.GetValues<KillPhase>().ToDictionary(p => p, _ => 0);

    public Dictionary<KillOutcome, int> Outcomes { get; } = Enum.GetValues<KillOutcome>().ToDictionary(o => o, _ => 0);

    /// <summary>Step folders without a manifest (saves cut short by a kill) that restores passed over, as they must.</summary>
    public int UncommittedPassedOver { get; set; }

    /// <summary>Committed checkpoints a restart did not restore (must be 0).</summary>
    public int LostCommitted => Outcomes[KillOutcome.LostCommitted];

    /// <summary>Restores that met a torn checkpoint (must be 0).</summary>
    public int TornRestores => Outcomes[KillOutcome.Torn];

    /// <summary>Pods that did not end within the deadline (must be 0).</summary>
    public int Hung { get; set; }

    /// <summary>Pods that failed instead of training to the end (must be 0).</summary>
    public int FailedRuns { get; set; }

    /// <summary>Jobs that ended with weights different from an uninterrupted run's (must be 0).</summary>
    public int WrongWeights { get; set; }

    public int CompletedJobs { get; set; }

    public double Seconds { get; set; }

    /// <summary>What went wrong, one entry per failure, with the pod's output.</summary>
    [JsonIgnore]
    public List<string> Failures { get; } = [];

    [JsonIgnore]
    public bool Passed => LostCommitted == 0 && TornRestores == 0 && Hung == 0 && FailedRuns == 0 && WrongWeights == 0 && CompletedJobs == Jobs;

    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);

    public string Summary() =>
        $"{Store}: {Kills} kills in {Jobs} jobs (restore {KillsByPhase[KillPhase.Restore]}, transfer {KillsByPhase[KillPhase.Transfer]}, " +
        $"commit {KillsByPhase[KillPhase.Commit]}, between saves {KillsByPhase[KillPhase.BetweenSaves]}); " +
        $"restored newest {Outcomes[KillOutcome.RestoredNewestCommitted]}, later commit {Outcomes[KillOutcome.RestoredLaterCommit]}, " +
        $"fresh {Outcomes[KillOutcome.StartedFresh]}; lost {LostCommitted}, torn {TornRestores}, hung {Hung}, failed {FailedRuns}, " +
        $"wrong weights {WrongWeights}; {UncommittedPassedOver} uncommitted saves passed over; {CompletedJobs}/{Jobs} jobs completed with exact weights; {Seconds:F0} s";
}

internal static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
