using Amazon.Runtime;
using Amazon.S3.Model;

namespace Konduktor.Storage.S3;

/// <summary>
/// Streams an object of unknown length into S3: buffered into one PUT while it stays within the single-PUT threshold,
/// else a multipart upload whose parts (pooled buffers of the part size) go up in parallel, at most
/// <see cref="S3StoreOptions.Concurrency"/> at once over all of the store's uploads; a write waits for a free slot. Each part is retried through the store's
/// policy and keeps its buffer until it succeeds. Failure, cancellation or disposal before completion aborts the upload.
/// A create-only writer never goes multipart: it buffers everything (up to one PUT's 5 GiB) and sends one conditional PUT,
/// the only create-only write that is atomic on every server (see <see cref="S3Transport.ThrowIfOverSinglePut"/>).
/// The state machine is <see cref="BucketObjectWriter"/>'s; this class supplies S3's steps.
/// </summary>
internal sealed class S3ObjectWriter(S3Transport transport, string key, bool createOnly)
    : BucketObjectWriter(key, transport.PartBuffers, transport.Options.PartSizeBytes)
{
    private readonly long _threshold = transport.Options.SinglePutThresholdBytes;
    private readonly List<ArraySegment<byte>> _held = [];
    private readonly List<Task> _inFlight = [];
    private readonly List<PartETag> _parts = [];
    private readonly Lock _partsLock = new();
    private string? _uploadId;
    private int _nextPart = 1;

    /// <summary>Whether held parts must go up now: the total passed the single-PUT threshold, or the upload has started. Never for create-only writes.</summary>
    protected override bool DispatchDue => !createOnly && _held.Count > 0 && (_uploadId is not null || BytesWritten > _threshold);

    protected override void CheckWrite(int adding)
    {
        if (createOnly)
        {
            transport.ThrowIfOverSinglePut(Key, BytesWritten + adding);
        }
    }

    protected override void OnPartFull() => HoldCurrent();

    /// <summary>Starts the upload if needed and hands every held part to an upload task, waiting for free slots.</summary>
    protected override async Task DispatchAsync(CancellationToken cancellationToken)
    {
        _uploadId ??= await StartUploadAsync(cancellationToken).ConfigureAwait(false);
        while (_held.Count > 0)
        {
            await transport.PartSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var part = _held[0];
            _held.RemoveAt(0);
            try
            {
                ThrowIfFailed();
            }
            catch
            {
                Pool.Return(part.Array!);
                transport.PartSlots.Release();
                throw;
            }

            _inFlight.Add(UploadPartAsync(_nextPart++, part, _uploadId));
        }
    }

    protected override async Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            return await PutBufferedAsync(cancellationToken).ConfigureAwait(false);
        }

        HoldCurrent();
        await DispatchAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_inFlight).WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
        return await CompleteUploadAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task WaitInFlightAsync() => Task.WhenAll(_inFlight);

    protected override async Task AbortCoreAsync()
    {
        if (_uploadId is { } uploadId)
        {
            try
            {
                await transport.AbortUploadAsync(Key, uploadId, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CheckpointStorageException or OperationCanceledException)
            {
                Log.S3AbortFailed(transport.Logger, e, uploadId, transport.Location);
            }
        }
    }

    protected override void ReleaseBuffers()
    {
        foreach (var part in _held)
        {
            Pool.Return(part.Array!);
        }

        _held.Clear();
        base.ReleaseBuffers();
    }

    private void HoldCurrent()
    {
        if (TakeCurrent() is { } part)
        {
            _held.Add(part);
        }
    }

    private Task<string> StartUploadAsync(CancellationToken cancellationToken) =>
        transport.Policy.ExecuteAsync(
            "s3-start-upload",
            ct => transport.CallAsync(
                "START UPLOAD",
                Key,
                async c =>
                {
                    var response = await transport.Client.InitiateMultipartUploadAsync(
                        new InitiateMultipartUploadRequest { BucketName = transport.Path.Bucket, Key = transport.Path.FullKey(Key) }, c).ConfigureAwait(false);
                    return response.UploadId ?? throw new AmazonClientException("The server started a multipart upload without an upload id.");
                },
                ct),
            cancellationToken);

    private async Task UploadPartAsync(int number, ArraySegment<byte> part, string uploadId)
    {
        try
        {
            // Parts run on after the write that started them returned, so only the writer's own abort stops them.
            var etag = await transport.Policy.ExecuteAsync(
                "s3-upload-part",
                ct => transport.CallAsync(
                    "UPLOAD PART",
                    Key,
                    async c =>
                    {
                        using var body = new MemoryStream(part.Array!, part.Offset, part.Count, writable: false);
                        var response = await transport.Client.UploadPartAsync(
                            new UploadPartRequest
                            {
                                BucketName = transport.Path.Bucket,
                                Key = transport.Path.FullKey(Key),
                                UploadId = uploadId,
                                PartNumber = number,
                                InputStream = body,
                                PartSize = part.Count,
                                UseChunkEncoding = !transport.Generic,
                            },
                            c).ConfigureAwait(false);
                        return response.ETag ?? throw new AmazonClientException($"The server accepted part {number} without an ETag.");
                    },
                    ct),
                AbortToken).ConfigureAwait(false);
            lock (_partsLock)
            {
                _parts.Add(new PartETag(number, etag));
            }
        }
        catch (Exception e)
        {
            // One part failing dooms the upload: stop the others rather than send bytes that will be aborted.
            await FailAsync(e).ConfigureAwait(false);
        }
        finally
        {
            Pool.Return(part.Array!);
            try
            {
                transport.PartSlots.Release();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task<ObjectInfo> PutBufferedAsync(CancellationToken cancellationToken)
    {
        HoldCurrent();
        var body = new SegmentReadStream(_held);
        await using (body.ConfigureAwait(false))
        {
            return await transport.Policy.ExecuteAsync(
                "s3-put",
                ct =>
                {
                    body.Position = 0;
                    return transport.PutObjectAsync(Key, body, body.Length, createOnly, ct);
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ObjectInfo> CompleteUploadAsync(CancellationToken cancellationToken)
    {
        List<PartETag> parts;
        lock (_partsLock)
        {
            parts = [.. _parts.OrderBy(p => p.PartNumber)];
        }

        var attempts = 0;
        await transport.Policy.ExecuteAsync(
            "s3-complete-upload",
            async ct =>
            {
                attempts++;
                try
                {
                    await transport.CallAsync(
                        "COMPLETE UPLOAD",
                        Key,
                        c => transport.Client.CompleteMultipartUploadAsync(
                            new CompleteMultipartUploadRequest
                            {
                                BucketName = transport.Path.Bucket,
                                Key = transport.Path.FullKey(Key),
                                UploadId = _uploadId,
                                PartETags = parts,
                            },
                            c),
                        ct).ConfigureAwait(false);
                }
                catch (CheckpointStorageException e) when (attempts > 1 && e.InnerException is AmazonServiceException { ErrorCode: "NoSuchUpload" })
                {
                    // An earlier attempt completed the upload but its answer was lost: the object is there if the lengths agree.
                    if (await transport.StatAsync(Key, ct).ConfigureAwait(false) is not { } info || info.Length != BytesWritten)
                    {
                        throw;
                    }
                }
            },
            cancellationToken).ConfigureAwait(false);

        // The upload is complete: nothing is left to abort whatever happens next.
        _uploadId = null;

        // S3 clones may answer the completion without an ETag; the object's own description is authoritative.
        // Inside a transfer no outer layer can retry, so the lookup goes through the policy like the parts do.
        return await transport.Policy.ExecuteAsync("s3-stat", ct => transport.StatAsync(Key, ct), cancellationToken).ConfigureAwait(false)
            ?? throw new ObjectNotFoundException(transport.Location, Key);
    }
}
