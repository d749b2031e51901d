namespace Konduktor.Storage.Testing;

/// <summary>An answer in the GCS JSON API's error format, thrown where a request fails and written by the server's dispatcher.</summary>
/// <param name="status">The HTTP status.</param>
/// <param name="reason">The GCS reason (<c>notFound</c>, <c>conditionNotMet</c>, <c>invalid</c>, …).</param>
/// <param name="message">What was wrong, naming the parameter or header.</param>
internal sealed class GcsError(int status, string reason, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Reason { get; } = reason;

    public static GcsError BadRequest(string message) => new(400, "invalid", message);

    public static GcsError NotImplemented(string message) => new(501, "notImplemented", $"The GCS test server does not implement {message}.");

    public static GcsError BucketNotFound(string bucket) => new(404, "notFound", $"The specified bucket does not exist: {bucket}.");

    public static GcsError ObjectNotFound(string bucket, string name) => new(404, "notFound", $"No such object: {bucket}/{name}");

    public static GcsError ConditionNotMet(string condition) => new(412, "conditionNotMet", $"At least one of the pre-conditions you specified did not hold: {condition}.");

    /// <summary>GCS answers a failed <c>ifGenerationNotMatch</c> or <c>ifMetagenerationNotMatch</c> on a read with 304, like <c>If-None-Match</c>.</summary>
    public static GcsError NotModified() => new(304, "notModified", "Not Modified");
}
