using System.Runtime.CompilerServices;

using Amazon.S3.Model;

namespace Konduktor.Storage.S3;

/// <summary>The S3 store's pending (never completed) multipart uploads: listing and aborting them.</summary>
public sealed partial class S3CheckpointStore
{
    /// <summary>
    /// Finds multipart uploads under <paramref name="keyPrefix"/> started before <paramref name="olderThan"/> and never
    /// completed (a writer that crashed), and aborts them unless <paramref name="dryRun"/>. Their parts otherwise cost storage forever.
    /// <c>CheckpointManager.CollectGarbageAsync</c> does this for its scope through <see cref="IPendingUploadStore"/>.
    /// </summary>
    /// <param name="keyPrefix">A key prefix relative to the store: empty, or a valid key optionally ending with '/'.</param>
    /// <param name="olderThan">Only uploads started before this are stale; choose it well before any save in progress.</param>
    /// <param name="dryRun">When <see langword="true"/>, only report what would be aborted.</param>
    /// <param name="cancellationToken">Cancels the listing and the aborts.</param>
    /// <returns>The stale uploads found (and, unless <paramref name="dryRun"/>, aborted), in key order.</returns>
    /// <exception cref="ArgumentException">The prefix is not valid.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="RetriesExhaustedException">A request kept failing.</exception>
    public async Task<IReadOnlyList<PendingUpload>> AbortStaleMultipartUploadsAsync(
        string keyPrefix, DateTimeOffset olderThan, bool dryRun, CancellationToken cancellationToken = default)
    {
        var stale = new List<PendingUpload>();
        await foreach (var upload in ListPendingUploadsAsync(keyPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (upload.Started < olderThan)
            {
                stale.Add(upload);
            }
        }

        foreach (var upload in stale)
        {
            Log.S3StaleUpload(_logger, dryRun ? "Would abort" : "Aborting", upload.UploadId, Location, upload.Started);
            Log.S3StaleUploadKey(_logger, upload.UploadId, Location, upload.Key);
            if (!dryRun)
            {
                await AbortPendingUploadAsync(upload, cancellationToken).ConfigureAwait(false);
            }
        }

        return stale;
    }

    /// <inheritdoc />
    /// <remarks>Uploads whose start time the server does not report are left out: they may be saves in progress.</remarks>
    public async IAsyncEnumerable<PendingUpload> ListPendingUploadsAsync(string keyPrefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(keyPrefix);
        string? keyMarker = null;
        string? uploadIdMarker = null;
        while (true)
        {
            var request = new ListMultipartUploadsRequest
            {
                BucketName = Bucket,
                Prefix = _path.FullKey(keyPrefix),
                KeyMarker = keyMarker,
                UploadIdMarker = uploadIdMarker,
            };
            var page = await _transport.Policy.ExecuteAsync(
                "s3-list-uploads",
                ct => _transport.CallAsync("LIST UPLOADS", null, c => _transport.Client.ListMultipartUploadsAsync(request, c), ct),
                cancellationToken).ConfigureAwait(false);
            foreach (var upload in page.MultipartUploads ?? [])
            {
                if (_path.KeyOf(upload?.Key) is { } key && upload!.UploadId is { } uploadId && upload.Initiated is { } initiated)
                {
                    yield return new PendingUpload(key, uploadId, S3Transport.ToOffset(initiated));
                }
            }

            if (page.IsTruncated != true || (page.NextKeyMarker is null && page.NextUploadIdMarker is null))
            {
                yield break;
            }

            keyMarker = page.NextKeyMarker;
            uploadIdMarker = page.NextUploadIdMarker;
        }
    }

    /// <inheritdoc />
    public Task AbortPendingUploadAsync(PendingUpload upload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return _transport.AbortUploadAsync(upload.Key, upload.UploadId, cancellationToken);
    }
}
