using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.Gcs;

/// <summary>The GCS store's log messages, source-generated. None carries a secret; keys appear only at debug level.</summary>
internal static partial class GcsLog
{
    [LoggerMessage(201, LogLevel.Information, "GCS store {Location}: endpoint {BaseUri} (from {EndpointSource}), chunk {ChunkSizeMiB} MiB, {Concurrency} reads at once, credentials from {CredentialSource}.")]
    public static partial void Created(ILogger logger, Uri location, Uri baseUri, string endpointSource, double chunkSizeMiB, int concurrency, string credentialSource);

    [LoggerMessage(202, LogLevel.Debug, "GCS upload of '{Key}' interrupted at byte {Offset}; the server holds {Persisted} bytes, resuming from there.")]
    public static partial void Resuming(ILogger logger, string key, long offset, long persisted);

    [LoggerMessage(203, LogLevel.Information, "GCS create-only write of '{Key}' found the object taken after a retried final chunk; it is this writer's own earlier attempt (same length and CRC32C).")]
    public static partial void OwnEarlierAttempt(ILogger logger, string key);
}
