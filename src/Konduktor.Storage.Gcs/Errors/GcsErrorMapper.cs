using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

using Google;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// Turns answers and failures of the JSON API into the store's exception family: not found, precondition failed, access denied
/// (naming the credential source), a missing bucket, transient (retried by the policy, with the server's <c>Retry-After</c>),
/// or a clear permanent error naming the bucket and the endpoint.
/// </summary>
internal sealed class GcsErrorMapper(Uri location, string bucket, Uri baseUri, string credentialSource, TimeProvider time) : IStoreErrorMap
{
    public string CredentialSource => credentialSource;

    /// <summary>
    /// The exception to throw for <paramref name="exception"/>, or <see langword="null"/> to let it through unchanged
    /// (the caller's cancellation, argument errors, exceptions that are already the store's).
    /// </summary>
    public Exception? Map(Exception exception, string operation, string? key, string preconditionReason, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case CheckpointStorageException or ArgumentException or NotSupportedException or InvalidOperationException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case GoogleApiException api when api.HttpStatusCode != 0:
                return FromStatus((int)api.HttpStatusCode, api.Error?.Message ?? api.Message, retryAfter: null, operation, key, preconditionReason, api);
            case OperationCanceledException oce when oce.InnerException is TimeoutException:
                return Transient(operation, key, "the request timed out", exception);
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or IOException or SocketException or TimeoutException)
            {
                return Transient(operation, key, $"{e.GetType().Name}: {e.Message}", exception);
            }
        }

        return exception is GoogleApiException
            ? new CheckpointStorageException($"GCS {operation}{Describe(key)} at {baseUri} failed: {exception.Message}", exception)
            : null;
    }

    /// <summary>The exception for an unsuccessful HTTP answer of a request the store sent itself.</summary>
    public async Task<Exception> FromResponseAsync(HttpResponseMessage response, string operation, string? key, string preconditionReason, CancellationToken cancellationToken)
    {
        string detail;
        try
        {
            detail = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            detail = detail.Length > 300 ? detail[..300] + "…" : detail;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            detail = string.Empty;
        }

        var cause = new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase}: {detail}", null, response.StatusCode);
        return FromStatus((int)response.StatusCode, detail, RetryAfter(response.Headers.RetryAfter, time.GetUtcNow()), operation, key, preconditionReason, cause);
    }

    /// <summary>The store's exception for an HTTP status.</summary>
    public Exception FromStatus(int status, string detail, TimeSpan? retryAfter, string operation, string? key, string preconditionReason, Exception cause)
    {
        if (status == 404 && (key is null || IsBucketMissing(detail)))
        {
            return new CheckpointStorageException(
                $"The bucket '{bucket}' does not exist at {baseUri} (GCS {operation}{Describe(key)}); create it, or fix the location {location}.", cause);
        }

        return status switch
        {
            404 => new ObjectNotFoundException(location, key ?? string.Empty, cause),
            412 => new PreconditionFailedException(location, key ?? string.Empty, preconditionReason, cause),
            401 or 403 => new StoreAccessDeniedException(location, credentialSource, $"GCS {operation}{Describe(key)} at {baseUri}: {status}: {detail}", cause),
            408 or 429 or >= 500 => Transient(operation, key, $"{status}: {detail}", cause, retryAfter),
            _ => new CheckpointStorageException($"GCS {operation}{Describe(key)} at {baseUri} failed: {status}: {detail}", cause),
        };
    }

    public TransientStoreException Transient(string operation, string? key, string detail, Exception? cause, TimeSpan? retryAfter = null) =>
        new($"GCS {operation}{Describe(key)} at {baseUri} failed transiently: {detail}", cause, retryAfter);

    /// <summary>The server's Retry-After (seconds or an HTTP date), when the answer carried one.</summary>
    internal static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } when date > now => date - now,
        _ => null,
    };

    // GCS says "The specified bucket does not exist." (or "Not Found" for a listing); an object's 404 says "No such object".
    private static bool IsBucketMissing(string detail) =>
        detail.Contains("bucket", StringComparison.OrdinalIgnoreCase) && !detail.Contains("No such object", StringComparison.OrdinalIgnoreCase);

    private static string Describe(string? key) => key is null ? string.Empty : $" of '{key}'";
}
