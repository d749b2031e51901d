using System.Globalization;
using System.Net;
using System.Net.Sockets;

using Amazon.Runtime;
using Amazon.Runtime.Internal;

namespace Konduktor.Storage.S3;

/// <summary>
/// Turns SDK and network failures into the store's exception family: not found, precondition failed, access denied,
/// transient (retried by the policy) or a clear permanent error naming the bucket and the endpoint.
/// </summary>
internal sealed class S3ErrorMapper(Uri location, string bucket, string endpoint, string credentialSource, TimeProvider time) : IStoreErrorMap
{
    private static readonly HashSet<string> AccessCodes = new(StringComparer.Ordinal)
    {
        "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled",
    };

    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestThrottled",
        "TooManyRequests", "OperationAborted", "ConditionalRequestConflict",
    };

    public Uri Location => location;

    public string CredentialSource => credentialSource;

    /// <summary>
    /// The exception to throw for <paramref name="exception"/>, or <see langword="null"/> to let it through unchanged
    /// (the caller's cancellation, argument errors, exceptions that are already the store's).
    /// </summary>
    /// <param name="exception">What the SDK threw.</param>
    /// <param name="operation">A short description of the request, for messages (e.g. "PUT").</param>
    /// <param name="key">The key involved, if any (relative to the store).</param>
    /// <param name="preconditionReason">What a 412 means for this request, e.g. "it already exists".</param>
    /// <param name="cancellationToken">The caller's token: a cancellation it caused is never turned into anything else.</param>
    public Exception? Map(Exception exception, string operation, string? key, string preconditionReason = "the precondition did not hold", CancellationToken cancellationToken = default)
    {
        switch (exception)
        {
            case CheckpointStorageException or ArgumentException or NotSupportedException or InvalidOperationException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case AmazonServiceException service when service.StatusCode != 0 || !string.IsNullOrEmpty(service.ErrorCode):
                return MapService(service, operation, key, preconditionReason);
            case OperationCanceledException oce when oce.InnerException is TimeoutException:
                return Transient(operation, key, "the request timed out", exception);
        }

        // The SDK wraps network failures in AmazonClientException/AmazonServiceException without a status.
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or SocketException or TimeoutException or WebException)
            {
                return Transient(operation, key, $"{e.GetType().Name}: {e.Message}", exception);
            }
        }

        return exception is AmazonClientException
            ? new CheckpointStorageException($"S3 {operation}{Describe(key)} at {endpoint} failed: {exception.Message}", exception)
            : null;
    }

    private Exception MapService(AmazonServiceException e, string operation, string? key, string preconditionReason)
    {
        var code = e.ErrorCode ?? string.Empty;
        var status = (int)e.StatusCode;
        if (code == "NoSuchBucket")
        {
            return new CheckpointStorageException(
                $"The bucket '{bucket}' does not exist at {endpoint} (S3 {operation}{Describe(key)}); create it, or fix the location {location}.", e);
        }

        if (status == 412 || code == "PreconditionFailed")
        {
            return new PreconditionFailedException(location, key ?? string.Empty, preconditionReason, e);
        }

        if (code == "NoSuchKey" || (status == 404 && key is not null && code is "" or "NotFound"))
        {
            return new ObjectNotFoundException(location, key ?? string.Empty, e);
        }

        if (status is 401 or 403 || AccessCodes.Contains(code))
        {
            return new StoreAccessDeniedException(location, credentialSource, $"S3 {operation}{Describe(key)} at {endpoint}: {status} {code}: {e.Message}", e);
        }

        if (status is 408 or 429 or >= 500 || TransientCodes.Contains(code))
        {
            return Transient(operation, key, $"{status} {code}: {e.Message}", e, RetryAfter(e, time.GetUtcNow()));
        }

        return new CheckpointStorageException($"S3 {operation}{Describe(key)} at {endpoint} failed: {status} {code}: {e.Message}", e);
    }

    private TransientStoreException Transient(string operation, string? key, string detail, Exception cause, TimeSpan? retryAfter = null) =>
        new($"S3 {operation}{Describe(key)} at {endpoint} failed transiently: {detail}", cause, retryAfter);

    private static string Describe(string? key) => key is null ? string.Empty : $" of '{key}'";

    /// <summary>The server's Retry-After (seconds or an HTTP date), when the response carried one.</summary>
    internal static TimeSpan? RetryAfter(AmazonServiceException e, DateTimeOffset now)
    {
        if (e.InnerException is not HttpErrorResponseException { Response: { } response })
        {
            return null;
        }

        var value = response.IsHeaderPresent("Retry-After") ? response.GetHeaderValue("Retry-After") : null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) && date > now
            ? date - now
            : null;
    }
}
