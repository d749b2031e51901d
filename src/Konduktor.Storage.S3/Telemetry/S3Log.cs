using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.S3;

/// <summary>The S3 store's log messages, source-generated. None carries a secret; keys appear only at debug level.</summary>
internal static partial class S3Log
{
    [LoggerMessage(101, LogLevel.Information, "S3 store {Location}: endpoint {Endpoint}, region {Region}, {Addressing}-style addressing, compatibility {Compatibility}, conditional deletes {ConditionalDelete}, credentials from {CredentialSource}.")]
    public static partial void Created(ILogger logger, Uri location, string endpoint, string region, string addressing, string compatibility, bool conditionalDelete, string credentialSource);

    [LoggerMessage(102, LogLevel.Warning, "Could not abort the multipart upload {UploadId} in {Location}; garbage collection of stale uploads removes it later.")]
    public static partial void AbortFailed(ILogger logger, Exception exception, string uploadId, Uri location);

    [LoggerMessage(103, LogLevel.Information, "{Mode} stale multipart upload {UploadId} of '{Key}' in {Location}, started {Initiated:O}.")]
    public static partial void StaleUpload(ILogger logger, string mode, string uploadId, string key, Uri location, DateTimeOffset initiated);
}
