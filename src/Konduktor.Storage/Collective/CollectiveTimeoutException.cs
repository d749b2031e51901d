using System.Globalization;

namespace Konduktor.Storage;

/// <summary>
/// A collective save or restore waited <see cref="CollectiveOptions.Timeout"/> for other ranks that never answered. Nothing
/// was committed by the wait: the previous step stays the newest.
/// </summary>
public sealed class CollectiveTimeoutException : CheckpointStorageException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The step waited on.</param>
    /// <param name="ranks">The ranks that never answered.</param>
    /// <param name="waitedFor">What was awaited, e.g. "the parts of step 10".</param>
    /// <param name="timeout">How long it waited.</param>
    /// <param name="detail">What was found of each silent rank.</param>
    public CollectiveTimeoutException(long step, IReadOnlyList<int> ranks, string waitedFor, TimeSpan timeout, string detail)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"Waited {timeout.TotalSeconds:0.###} s (Konduktor:Checkpoints:Collective:Timeout) for {waitedFor}; rank(s) {string.Join(", ", ranks)} never answered: {detail}. Nothing was committed; the previous step stays the newest."))
    {
        Step = step;
        Ranks = ranks;
    }

    /// <summary>The step waited on.</summary>
    public long Step { get; }

    /// <summary>The ranks that never answered (missing or silent).</summary>
    public IReadOnlyList<int> Ranks { get; }
}
