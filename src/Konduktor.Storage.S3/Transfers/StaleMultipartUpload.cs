namespace Konduktor.Storage.S3;

/// <summary>A multipart upload that was started and never completed or aborted (a writer that crashed).</summary>
/// <param name="Key">The key it would have written, relative to the store's prefix.</param>
/// <param name="UploadId">The upload's id.</param>
/// <param name="Initiated">When the upload was started.</param>
public sealed record StaleMultipartUpload(string Key, string UploadId, DateTimeOffset Initiated);
