namespace Konduktor.Storage;

/// <summary>Collective checkpoints across the ranks of a job (configuration section <c>Konduktor:Checkpoints:Collective</c>).</summary>
public sealed class CollectiveOptions
{
    /// <summary>
    /// How long a rank waits for the others: rank 0 for every part before it commits a step, the other ranks for that step
    /// commit, and every rank for the others' answers while they agree on the step to restore. Past it the save or the
    /// restore fails with a <see cref="CollectiveTimeoutException"/> naming the ranks it waited for. Default: 10 minutes;
    /// from 1 millisecond to 1 day.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);
}
