namespace Konduktor.Storage.Stores;

/// <summary>An upload that was started and neither completed nor aborted.</summary>
/// <param name="Key">The key it would have written.</param>
/// <param name="UploadId">The store's id of the upload.</param>
/// <param name="Started">When it was started.</param>
public sealed record PendingUpload(string Key, string UploadId, DateTimeOffset Started);
