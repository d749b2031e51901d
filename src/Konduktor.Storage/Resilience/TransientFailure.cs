using System.Net;
using System.Net.Sockets;

using Polly.Timeout;

namespace Konduktor.Storage;

/// <summary>Decides which failures are worth retrying, and names their cause for the retry metric.</summary>
internal static class TransientFailure
{
    /// <summary>The cause of a transfer that made no progress for <see cref="ResilienceOptions.StallTimeout"/>.</summary>
    public const string Stall = "stall";

    /// <summary>
    /// Whether <paramref name="exception"/> is transient. A cancellation is never transient while
    /// <paramref name="cancellationToken"/> (the caller's, or the operation's total timeout) is cancelled.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken cancellationToken = default) => exception switch
    {
        TransientStoreException or TimeoutRejectedException or TimeoutException or SocketException => true,
        HttpRequestException http => IsTransientStatus(http.StatusCode),

        // Errors this library raises on purpose, and argument errors, say the request itself is wrong.
        CheckpointStorageException or ArgumentException or NotSupportedException or InvalidOperationException => false,

        // HttpClient reports its own timeout as a cancellation caused by a TimeoutException.
        OperationCanceledException oce => !cancellationToken.IsCancellationRequested && oce.InnerException is TimeoutException,

        // A response body cut short (the connection closed before Content-Length bytes) or otherwise broken on the wire.
        HttpIOException => true,
        IOException io => HasSocketCause(io),
        _ => false,
    };

    /// <summary>A short, low-cardinality name of the cause: <c>server-error</c>, <c>throttled</c>, <c>timeout</c>, <c>connection</c>, <c>stall</c>, <c>transient</c>.</summary>
    public static string Cause(Exception exception) => exception switch
    {
        TransientStoreException { RetryAfter: not null } => "throttled",
        TransientStoreException { InnerException: { } inner } => Cause(inner),
        TransientStoreException => "transient",
        HttpRequestException { StatusCode: HttpStatusCode.TooManyRequests } => "throttled",
        HttpRequestException { StatusCode: HttpStatusCode.RequestTimeout } => "timeout",
        HttpRequestException { StatusCode: not null } => "server-error",
        HttpRequestException => "connection",
        TimeoutRejectedException or TimeoutException or OperationCanceledException => "timeout",
        SocketException or HttpIOException => "connection",
        IOException io when HasSocketCause(io) => "connection",
        _ => "other",
    };

    private static bool IsTransientStatus(HttpStatusCode? status) =>
        status is null or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError;

    private static bool HasSocketCause(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is SocketException)
            {
                return true;
            }
        }

        return false;
    }
}
