using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.Gcs;

/// <summary>The GCS store's log messages, source-generated. None carries a secret; keys appear only at debug level.</summary>
/// <remarks>
/// Event ids 200–299 belong to the GCS store (the core's ranges are documented in its own log class, the S3 store's are 100–199).
/// Information and warnings name locations and endpoints; a message that names a key is at debug level.
/// </remarks>
internal static partial class GcsLog
{
    [LoggerMessage(201, LogLevel.Information, "GCS store {Location}: endpoint {BaseUri} (from {EndpointSource}), part {PartSizeMiB} MiB, {Concurrency} reads at once, credentials from {CredentialSource}.")]
    public static partial void Created(ILogger logger, Uri location, Uri baseUri, string endpointSource, double partSizeMiB, int concurrency, string credentialSource);

    [LoggerMessage(205, LogLevel.Warning, "{OldKey} is the former name of {NewKey}: it still works, but set {NewKey} instead.")]
    public static partial void FormerOptionName(ILogger logger, string oldKey, string newKey);

    [LoggerMessage(202, LogLevel.Debug, "GCS upload of '{Key}' interrupted at byte {Offset}; the server holds {Persisted} bytes, resuming from there.")]
    public static partial void Resuming(ILogger logger, string key, long offset, long persisted);

    [LoggerMessage(203, LogLevel.Information, "A GCS create-only write in {Location} found its object taken after a retried final chunk; it is the writer's own earlier attempt (same length and CRC32C).")]
    public static partial void OwnEarlierAttempt(ILogger logger, Uri location);

    [LoggerMessage(204, LogLevel.Debug, "The create-only write that found its own earlier attempt in {Location} is of '{Key}'.")]
    public static partial void OwnEarlierAttemptKey(ILogger logger, Uri location, string key);
}
