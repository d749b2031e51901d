using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>The core's log messages, source-generated.</summary>
/// <remarks>
/// Event ids, one range per package or concern so that additions never collide (docs/architecture.md has the table):
/// 1–99 the core (this class); 101–199 the S3 store; 201–299 the GCS store; 1001–1099 the core's retries
/// (<c>ResilienceLog</c>); 1800–1899 the core, events added by the hardening of issue 18; 2000–2099 the output sync (<c>OutputLog</c>).
/// </remarks>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Checkpoint manager for run '{Run}', scope '{Scope}' on {Location} ({Capabilities}).")]
    public static partial void ManagerCreated(ILogger logger, string run, string scope, Uri location, StoreCapabilities capabilities);

    [LoggerMessage(2, LogLevel.Information, "Saved checkpoint step {Step}: {FileCount} file(s), {Bytes} bytes in {Seconds:F2} s.")]
    public static partial void Saved(ILogger logger, long step, int fileCount, long bytes, double seconds);

    [LoggerMessage(3, LogLevel.Warning, "Skipping checkpoint step {Step}: {Reason} ({Detail}).")]
    public static partial void Skipped(ILogger logger, long step, SkipReason reason, string detail);

    [LoggerMessage(4, LogLevel.Information, "Restored checkpoint step {Step} ({Bytes} bytes) after skipping {SkippedCount} newer one(s).")]
    public static partial void Restored(ILogger logger, long step, long bytes, int skippedCount);

    [LoggerMessage(5, LogLevel.Information, "No intact checkpoint for run '{Run}', scope '{Scope}' on {Location}; skipped {SkippedCount}.")]
    public static partial void NothingToRestore(ILogger logger, string run, string scope, Uri location, int skippedCount);

    [LoggerMessage(6, LogLevel.Warning, "Step {Step} lost the commit race to writer {Winner}.")]
    public static partial void Conflict(ILogger logger, long step, string winner);

    [LoggerMessage(7, LogLevel.Warning, "Superseding corrupt checkpoint step {Step}: its manifest is kept at {QuarantineKey}.")]
    public static partial void Superseding(ILogger logger, long step, string quarantineKey);

    [LoggerMessage(8, LogLevel.Information, "Retention deleted checkpoint step {Step}.")]
    public static partial void RetentionDeleted(ILogger logger, long step);

    [LoggerMessage(9, LogLevel.Information, "Retention skipped: {Reason}.")]
    public static partial void RetentionSkipped(ILogger logger, string reason);

    [LoggerMessage(10, LogLevel.Warning, "Retention after saving step {Step} failed; the checkpoint is committed.")]
    public static partial void RetentionFailed(ILogger logger, Exception exception, long step);

    [LoggerMessage(11, LogLevel.Information, "Garbage collection {Mode}: {Count} object(s), {Bytes} bytes of uncommitted data and {Uploads} interrupted upload(s) older than {Grace}.")]
    public static partial void GarbageCollected(ILogger logger, string mode, int count, long bytes, int uploads, TimeSpan grace);

    [LoggerMessage(12, LogLevel.Warning, "Garbage collection leaves step {Step} alone: its manifest cannot be read ({Detail}).")]
    public static partial void GarbageStepUnreadable(ILogger logger, long step, string detail);

    [LoggerMessage(13, LogLevel.Warning, "The store at {Location} cannot write create-only; commits fall back to check-then-write, which two concurrent writers can race.")]
    public static partial void NoCreateOnly(ILogger logger, Uri location);

    [LoggerMessage(14, LogLevel.Debug, "Cleaning up the data of an abandoned save of step {Step} failed; garbage collection will remove it.")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, long step);

    // Numbered apart from the rest (issue 18, defect 3) so that other additions do not collide with it.
    [LoggerMessage(1803, LogLevel.Information, "Checkpoint step {Step} disappeared while it was restored (deleted by a writer's retention after a newer save); listing the scope again.")]
    public static partial void Relisting(ILogger logger, long step);
}
