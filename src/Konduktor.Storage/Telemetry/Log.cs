using Microsoft.Extensions.Logging;

namespace Konduktor.Storage;

/// <summary>
/// Every log message of the library (the core and its S3 and GCS stores, which see this class as internals), source-generated,
/// in one table ordered by event id. None carries a secret; store keys appear only at debug level.
/// </summary>
/// <remarks>
/// One range of event ids per concern so that additions never collide (docs/architecture.md has the table). An id, once used,
/// keeps its level and message.
/// </remarks>
internal static partial class Log
{
    // 1–99: the manager, saves, restores, retention, garbage collection.
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

    // 101–199: the S3 store (Konduktor.Storage.S3). Information and warnings name locations, endpoints and upload ids; a key only at debug level.
    [LoggerMessage(101, LogLevel.Information, "S3 store {Location}: endpoint {Endpoint}, region {Region}, {Addressing}-style addressing, compatibility {Compatibility}, conditional deletes {ConditionalDelete}, credentials from {CredentialSource}.")]
    public static partial void S3StoreCreated(ILogger logger, Uri location, string endpoint, string region, string addressing, string compatibility, bool conditionalDelete, string credentialSource);

    [LoggerMessage(102, LogLevel.Warning, "Could not abort the multipart upload {UploadId} in {Location}; garbage collection of stale uploads removes it later.")]
    public static partial void S3AbortFailed(ILogger logger, Exception exception, string uploadId, Uri location);

    [LoggerMessage(103, LogLevel.Information, "{Mode} stale multipart upload {UploadId} in {Location}, started {Initiated:O}.")]
    public static partial void S3StaleUpload(ILogger logger, string mode, string uploadId, Uri location, DateTimeOffset initiated);

    [LoggerMessage(104, LogLevel.Debug, "The stale multipart upload {UploadId} in {Location} is of '{Key}'.")]
    public static partial void S3StaleUploadKey(ILogger logger, string uploadId, Uri location, string key);

    [LoggerMessage(105, LogLevel.Warning, "{OldKey} is the former name of {NewKey}: it still works, but set {NewKey} instead.")]
    public static partial void S3FormerOptionName(ILogger logger, string oldKey, string newKey);

    // 201–299: the GCS store (Konduktor.Storage.Gcs). Information and warnings name locations and endpoints; a key only at debug level.
    [LoggerMessage(201, LogLevel.Information, "GCS store {Location}: endpoint {BaseUri} (from {EndpointSource}), part {PartSizeMiB} MiB, {Concurrency} reads at once, credentials from {CredentialSource}.")]
    public static partial void GcsStoreCreated(ILogger logger, Uri location, Uri baseUri, string endpointSource, double partSizeMiB, int concurrency, string credentialSource);

    [LoggerMessage(202, LogLevel.Debug, "GCS upload of '{Key}' interrupted at byte {Offset}; the server holds {Persisted} bytes, resuming from there.")]
    public static partial void GcsResuming(ILogger logger, string key, long offset, long persisted);

    [LoggerMessage(203, LogLevel.Information, "A GCS create-only write in {Location} found its object taken after a retried final chunk; it is the writer's own earlier attempt (same length and CRC32C).")]
    public static partial void GcsOwnEarlierAttempt(ILogger logger, Uri location);

    [LoggerMessage(204, LogLevel.Debug, "The create-only write that found its own earlier attempt in {Location} is of '{Key}'.")]
    public static partial void GcsOwnEarlierAttemptKey(ILogger logger, Uri location, string key);

    [LoggerMessage(205, LogLevel.Warning, "{OldKey} is the former name of {NewKey}: it still works, but set {NewKey} instead.")]
    public static partial void GcsFormerOptionName(ILogger logger, string oldKey, string newKey);

    // 1001–1099: the resilience layer: retries, resumed transfers, giving up.
    [LoggerMessage(1001, LogLevel.Warning, "Store operation {Operation} failed ({Cause}) on attempt {Attempt}; retrying in {Delay}.")]
    public static partial void Retrying(ILogger logger, string operation, string cause, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(1002, LogLevel.Warning, "Store operation {Operation} failed ({Cause}) after {Progress} item(s); resuming (failure {Failure} since the last progress) in {Delay}.")]
    public static partial void Resuming(ILogger logger, string operation, string cause, long progress, int failure, TimeSpan delay, Exception exception);

    [LoggerMessage(1003, LogLevel.Error, "Store operation {Operation} gave up after {Attempts} attempt(s); last cause {Cause}.")]
    public static partial void GaveUp(ILogger logger, string operation, int attempts, string cause, Exception exception);

    // 1300–1399: collective checkpoints: step commits, timeouts, corrupt parts, agreement, whole-step retention.
    [LoggerMessage(1300, LogLevel.Information, "Collective checkpoints for run '{Run}': rank {Rank} of {Nodes}, layout {Run}/job/step-…/rank-…/.")]
    public static partial void CollectiveCreated(ILogger logger, string run, int rank, int nodes);

    [LoggerMessage(1301, LogLevel.Information, "Committed collective step {Step}: {Nodes} parts, commit {CommitId}.")]
    public static partial void StepCommitted(ILogger logger, long step, int nodes, string commitId);

    [LoggerMessage(1302, LogLevel.Information, "Collective step {Step} committed with rank {Rank}'s part.")]
    public static partial void StepJoined(ILogger logger, long step, int rank);

    [LoggerMessage(1303, LogLevel.Warning, "Collective step {Step}: rank {Rank} timed out waiting for rank(s) {Ranks}.")]
    public static partial void CollectiveTimedOut(ILogger logger, long step, int rank, string ranks);

    [LoggerMessage(1304, LogLevel.Warning, "Collective step {Step}: rank {Rank} found its part corrupt ({Detail}); every rank passes over the step.")]
    public static partial void PartCorrupt(ILogger logger, long step, int rank, string detail);

    [LoggerMessage(1305, LogLevel.Information, "Every one of the {Nodes} ranks restored collective step {Step}.")]
    public static partial void CollectiveAgreed(ILogger logger, long step, int nodes);

    [LoggerMessage(1306, LogLevel.Warning, "Superseding collective step {Step}: step commit {CommitId}, found corrupt by a rank, kept at {QuarantineKey}.")]
    public static partial void StepSuperseded(ILogger logger, long step, string commitId, string quarantineKey);

    [LoggerMessage(1307, LogLevel.Information, "Retention deleted collective step {Step} (step commit, then every part).")]
    public static partial void StepDeleted(ILogger logger, long step);

    // 1800–1899: the hardening of issue 18 (numbered apart so that other additions do not collide with them).
    [LoggerMessage(1803, LogLevel.Information, "Checkpoint step {Step} disappeared while it was restored (deleted by a writer's retention after a newer save); listing the scope again.")]
    public static partial void Relisting(ILogger logger, long step);

    // 1900–1949: background saves (1900–1909) and shutdown (1910–1949).
    [LoggerMessage(1900, LogLevel.Debug, "Step {Step} captured for a background save ({Bytes} bytes, {MemoryBytes} in memory) after {BlockedSeconds:F3} s blocked.")]
    public static partial void Captured(ILogger logger, long step, long bytes, long memoryBytes, double blockedSeconds);

    [LoggerMessage(1901, LogLevel.Information, "Background save of step {Step} is durable after {Seconds:F2} s.")]
    public static partial void Durable(ILogger logger, long step, double seconds);

    [LoggerMessage(1902, LogLevel.Error, "Background save of step {Step} failed; nothing of it was committed, and the next save or flush reports it.")]
    public static partial void Failed(ILogger logger, Exception exception, long step);

    [LoggerMessage(1903, LogLevel.Warning, "Background save of step {Step} abandoned without a commit: {Reason}. The newest committed step stays the resume point.")]
    public static partial void Abandoned(ILogger logger, long step, string reason);

    [LoggerMessage(1910, LogLevel.Information, "Shutdown: draining {Count} background save(s) within {BudgetSeconds:F1} s.")]
    public static partial void Draining(ILogger logger, int count, double budgetSeconds);

    [LoggerMessage(1911, LogLevel.Information, "Shutdown: emergency save of step {Step} within {BudgetSeconds:F1} s.")]
    public static partial void EmergencySave(ILogger logger, long step, double budgetSeconds);

    [LoggerMessage(1912, LogLevel.Information, "Shutdown: no emergency save of step {Step}: step {Newest} is already saved or being saved.")]
    public static partial void EmergencySaveSkipped(ILogger logger, long step, long newest);

    [LoggerMessage(1913, LogLevel.Information, "Shutdown: a stop began ({Reason}); the grace period ends in {BudgetSeconds:F1} s.")]
    public static partial void StopBegan(ILogger logger, string reason, double budgetSeconds);

    // 2000–2099: the output sync.
    [LoggerMessage(2000, LogLevel.Information, "Syncing outputs from {Directory} to {Location} run '{Run}', scope '{Scope}' every {Interval}.")]
    public static partial void OutputSyncStarted(ILogger logger, string directory, Uri location, string run, string scope, TimeSpan interval);

    [LoggerMessage(2001, LogLevel.Debug, "Output sync ({Kind}): {Uploaded} file(s) uploaded, {Unchanged} unchanged, {Bytes} bytes sent, {Problems} skipped, in {Seconds:F2} s.")]
    public static partial void OutputSynced(ILogger logger, string kind, int uploaded, int unchanged, long bytes, int problems, double seconds);

    [LoggerMessage(2002, LogLevel.Warning, "Output '{Path}' skipped: {Reason}.")]
    public static partial void OutputSkipped(ILogger logger, string path, string reason);

    [LoggerMessage(2003, LogLevel.Warning, "An output sync pass ({Kind}) failed; the next pass tries again.")]
    public static partial void OutputPassFailed(ILogger logger, Exception exception, string kind);

    [LoggerMessage(2004, LogLevel.Debug, "Could not delete the merged output piece '{Key}' (only clutter): {Reason}.")]
    public static partial void OutputPieceNotDeleted(ILogger logger, string key, string reason);

    [LoggerMessage(2005, LogLevel.Information, "Final output sync: {Uploaded} file(s) uploaded, {Bytes} bytes sent, {Problems} skipped.")]
    public static partial void OutputFinalSynced(ILogger logger, int uploaded, long bytes, int problems);
}
