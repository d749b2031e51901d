namespace Konduktor.Storage.Stores;

/// <summary>
/// A store whose interrupted uploads live outside its listing (S3 multipart uploads): garbage collection lists the stale
/// ones and aborts them, as they would otherwise keep their parts — and their cost — forever.
/// </summary>
public interface IPendingUploadStore
{
    /// <summary>Lists the uploads under <paramref name="keyPrefix"/> that were started and neither completed nor aborted.</summary>
    /// <param name="keyPrefix">A key prefix, as in <see cref="ICheckpointStore.ListAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    IAsyncEnumerable<PendingUpload> ListPendingUploadsAsync(string keyPrefix, CancellationToken cancellationToken = default);

    /// <summary>Aborts one pending upload; an upload that is already gone is not an error.</summary>
    /// <param name="upload">The upload, as listed.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task AbortPendingUploadAsync(PendingUpload upload, CancellationToken cancellationToken = default);
}
