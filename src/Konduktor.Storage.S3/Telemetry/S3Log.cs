using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.S3;

/// <summary>The S3 store's log messages, source-generated. None carries a secret; keys appear only at debug level.</summary>
/// <remarks>
/// Event ids 100–199 belong to the S3 store (the core's ranges are documented in its own log class, the GCS store's are 200–299).
/// Information and warnings name locations, endpoints and upload ids; a message that names a key is at debug level.
/// </remarks>
internal static partial class S3Log
{
    [LoggerMessage(101, LogLevel.Information, "S3 store {Location}: endpoint {Endpoint}, region {Region}, {Addressing}-style addressing, compatibility {Compatibility}, conditional deletes {ConditionalDelete}, credentials from {CredentialSource}.")]
    public static partial void Created(ILogger logger, Uri location, string endpoint, string region, string addressing, string compatibility, bool conditionalDelete, string credentialSource);

    [LoggerMessage(102, LogLevel.Warning, "Could not abort the multipart upload {UploadId} in {Location}; garbage collection of stale uploads removes it later.")]
    public static partial void AbortFailed(ILogger logger, Exception exception, string uploadId, Uri location);

    [LoggerMessage(103, LogLevel.Information, "{Mode} stale multipart upload {UploadId} in {Location}, started {Initiated:O}.")]
    public static partial void StaleUpload(ILogger logger, string mode, string uploadId, Uri location, DateTimeOffset initiated);

    [LoggerMessage(105, LogLevel.Warning, "{OldKey} is the former name of {NewKey}: it still works, but set {NewKey} instead.")]
    public static partial void FormerOptionName(ILogger logger, string oldKey, string newKey);

    [LoggerMessage(104, LogLevel.Debug, "The stale multipart upload {UploadId} in {Location} is of '{Key}'.")]
    public static partial void StaleUploadKey(ILogger logger, string uploadId, Uri location, string key);
}
