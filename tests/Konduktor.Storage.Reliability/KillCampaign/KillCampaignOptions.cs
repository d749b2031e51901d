namespace Konduktor.Storage.Reliability.KillCampaign;

/// <summary>How many kills, and the shape of the job that is killed.</summary>
public sealed class KillCampaignOptions
{
    /// <summary>How many SIGKILLs to deliver in all (jobs take one to four each, then run to their end).</summary>
    public int Kills { get; init; } = 200;

    /// <summary>Seeds every random choice (which moment, which step); timing itself cannot be replayed exactly.</summary>
    public int Seed { get; init; }

    /// <summary>The pod trains this many steps…</summary>
    public int Steps { get; init; } = 10;

    /// <summary>…and saves every this many.</summary>
    public int CheckpointEvery { get; init; } = 2;

    /// <summary>The size of the payload file each checkpoint carries, so that transfers take a while.</summary>
    public int PayloadMiB { get; init; } = 6;

    /// <summary>How many jobs run side by side (each in its own scope).</summary>
    public int Parallelism { get; init; } = 2;

    /// <summary>A pod that has not ended by then is hung.</summary>
    public TimeSpan ProcessDeadline { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>A folder for the pods' working directories.</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>Receives one line per kill and per finished job.</summary>
    public Action<string> Log { get; init; } = _ => { };
}
