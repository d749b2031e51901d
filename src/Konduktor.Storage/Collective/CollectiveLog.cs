using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>Log messages of collective checkpoints (event ids 1300–1399; docs/architecture.md has the table).</summary>
internal static partial class CollectiveLog
{
    [LoggerMessage(1300, LogLevel.Information, "Collective checkpoints for run '{Run}': rank {Rank} of {Nodes}, layout {Run}/job/step-…/rank-…/.")]
    public static partial void Created(ILogger logger, string run, int rank, int nodes);

    [LoggerMessage(1301, LogLevel.Information, "Committed collective step {Step}: {Nodes} parts, commit {CommitId}.")]
    public static partial void StepCommitted(ILogger logger, long step, int nodes, string commitId);

    [LoggerMessage(1302, LogLevel.Information, "Collective step {Step} committed with rank {Rank}'s part.")]
    public static partial void StepJoined(ILogger logger, long step, int rank);

    [LoggerMessage(1303, LogLevel.Warning, "Collective step {Step}: rank {Rank} timed out waiting for rank(s) {Ranks}.")]
    public static partial void TimedOut(ILogger logger, long step, int rank, string ranks);

    [LoggerMessage(1304, LogLevel.Warning, "Collective step {Step}: rank {Rank} found its part corrupt ({Detail}); every rank passes over the step.")]
    public static partial void PartCorrupt(ILogger logger, long step, int rank, string detail);

    [LoggerMessage(1305, LogLevel.Information, "Every one of the {Nodes} ranks restored collective step {Step}.")]
    public static partial void Agreed(ILogger logger, long step, int nodes);

    [LoggerMessage(1306, LogLevel.Warning, "Superseding collective step {Step}: step commit {CommitId}, found corrupt by a rank, kept at {QuarantineKey}.")]
    public static partial void StepSuperseded(ILogger logger, long step, string commitId, string quarantineKey);

    [LoggerMessage(1307, LogLevel.Information, "Retention deleted collective step {Step} (step commit, then every part).")]
    public static partial void StepDeleted(ILogger logger, long step);
}
