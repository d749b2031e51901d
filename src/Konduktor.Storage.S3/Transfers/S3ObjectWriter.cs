using System.Buffers;

using Amazon.Runtime;
using Amazon.S3.Model;

namespace Konduktor.Storage.S3;

/// <summary>
/// Streams an object of unknown length into S3: buffered into one PUT while it stays within the single-PUT threshold,
/// else a multipart upload whose parts (pooled buffers of the part size) go up in parallel, at most
/// <see cref="S3StoreOptions.Concurrency"/> at once over all of the store's uploads; a write waits for a free slot. Each part is retried through the store's
/// policy and keeps its buffer until it succeeds. Failure, cancellation or disposal before completion aborts the upload.
/// A create-only writer never goes multipart: it buffers everything (up to one PUT's 5 GiB) and sends one conditional PUT,
/// the only create-only write that is atomic on every server (see <see cref="S3CheckpointStore.ThrowIfOverSinglePut"/>).
/// </summary>
internal sealed class S3ObjectWriter : ObjectWriteStream
{
    private readonly S3CheckpointStore _store;
    private readonly bool _createOnly;
    private readonly int _partSize;
    private readonly long _threshold;
    private readonly CancellationTokenSource _abort = new();
    private readonly List<ArraySegment<byte>> _held = [];
    private readonly List<Task> _inFlight = [];
    private readonly List<PartETag> _parts = [];
    private readonly Lock _partsLock = new();
    private byte[]? _current;
    private int _currentLength;
    private long _written;
    private string? _uploadId;
    private int _nextPart = 1;
    private Exception? _failure;
    private State _state;

    public S3ObjectWriter(S3CheckpointStore store, string key, bool createOnly)
    {
        _store = store;
        Key = key;
        _createOnly = createOnly;
        _partSize = store.Options.PartSizeBytes;
        _threshold = store.Options.SinglePutThresholdBytes;
    }

    private enum State
    {
        Open,
        Completed,
        Failed,
        Disposed,
    }

    public override string Key { get; }

    public override long BytesWritten => _written;

    public override bool CanWrite => _state == State.Open;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfNotWritable();
        ThrowIfOverSinglePut(buffer.Length);
        while (!buffer.IsEmpty)
        {
            var n = Append(buffer);
            buffer = buffer[n..];
            if (MustDispatch)
            {
                // A synchronous caller can only wait: the part boundary needs a request (and maybe a free slot).
                RunOrFail(DispatchHeldAsync(CancellationToken.None)).GetAwaiter().GetResult();
            }
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfNotWritable();
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfOverSinglePut(buffer.Length);
        while (!buffer.IsEmpty)
        {
            var n = Append(buffer.Span);
            buffer = buffer[n..];
            if (MustDispatch)
            {
                await RunOrFail(DispatchHeldAsync(cancellationToken)).ConfigureAwait(false);
            }
        }
    }

    public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_state != State.Open)
        {
            throw new InvalidOperationException($"The writer of '{Key}' was {(_state == State.Completed ? "completed" : "failed or disposed")} already.");
        }

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfFailed();
            ObjectInfo info;
            if (_uploadId is null)
            {
                info = await PutBufferedAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                HoldCurrent();
                await DispatchHeldAsync(cancellationToken).ConfigureAwait(false);
                await Task.WhenAll(_inFlight).WaitAsync(cancellationToken).ConfigureAwait(false);
                ThrowIfFailed();
                info = await CompleteUploadAsync(cancellationToken).ConfigureAwait(false);
            }

            _state = State.Completed;
            ReleaseBuffers();
            return info;
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await DisposeCoreAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Stream.Dispose is synchronous; aborting the upload needs a request.
            DisposeCoreAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    private async ValueTask DisposeCoreAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        var completed = _state == State.Completed;
        _state = State.Disposed;
        if (!completed)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(_inFlight).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Cancelled or failed parts: the upload is being aborted anyway.
            }

            if (_uploadId is { } uploadId)
            {
                try
                {
                    await _store.AbortUploadAsync(Key, uploadId, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is CheckpointStorageException or OperationCanceledException)
                {
                    S3Log.AbortFailed(_store.Logger, e, uploadId, _store.Location);
                }
            }
        }

        ReleaseBuffers();
        _abort.Dispose();
    }

    /// <summary>Whether held parts must go up now: the total passed the single-PUT threshold, or the upload has started. Never for create-only writes.</summary>
    private bool MustDispatch => !_createOnly && _held.Count > 0 && (_uploadId is not null || _written > _threshold);

    private void ThrowIfOverSinglePut(int adding)
    {
        if (_createOnly)
        {
            try
            {
                _store.ThrowIfOverSinglePut(Key, _written + adding);
            }
            catch
            {
                _state = State.Failed;
                throw;
            }
        }
    }

    /// <summary>Copies as much as fits into the current part buffer; a full buffer joins the held parts.</summary>
    private int Append(ReadOnlySpan<byte> data)
    {
        _current ??= _store.PartBuffers.Rent(_partSize);
        var n = Math.Min(data.Length, _partSize - _currentLength);
        data[..n].CopyTo(_current.AsSpan(_currentLength));
        _currentLength += n;
        _written += n;
        if (_currentLength == _partSize)
        {
            HoldCurrent();
        }

        return n;
    }

    private void HoldCurrent()
    {
        if (_current is not null && _currentLength > 0)
        {
            _held.Add(new ArraySegment<byte>(_current, 0, _currentLength));
            _current = null;
            _currentLength = 0;
        }
    }

    /// <summary>Starts the upload if needed and hands every held part to an upload task, waiting for free slots.</summary>
    private async Task DispatchHeldAsync(CancellationToken cancellationToken)
    {
        _uploadId ??= await StartUploadAsync(cancellationToken).ConfigureAwait(false);
        while (_held.Count > 0)
        {
            await _store.PartSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var part = _held[0];
            _held.RemoveAt(0);
            if (_failure is not null)
            {
                _store.PartBuffers.Return(part.Array!);
                _store.PartSlots.Release();
                ThrowIfFailed();
            }

            _inFlight.Add(UploadPartAsync(_nextPart++, part, _uploadId));
        }
    }

    private Task<string> StartUploadAsync(CancellationToken cancellationToken) =>
        _store.Policy.ExecuteAsync(
            "s3-start-upload",
            ct => _store.CallAsync(
                "START UPLOAD",
                Key,
                async c =>
                {
                    var response = await _store.Client.InitiateMultipartUploadAsync(
                        new InitiateMultipartUploadRequest { BucketName = _store.Bucket, Key = _store.FullKey(Key) }, c).ConfigureAwait(false);
                    return response.UploadId ?? throw new AmazonClientException("The server started a multipart upload without an upload id.");
                },
                ct),
            cancellationToken);

    private async Task UploadPartAsync(int number, ArraySegment<byte> part, string uploadId)
    {
        try
        {
            // Parts run on after the write that started them returned, so only the writer's own abort stops them.
            var etag = await _store.Policy.ExecuteAsync(
                "s3-upload-part",
                ct => _store.CallAsync(
                    "UPLOAD PART",
                    Key,
                    async c =>
                    {
                        using var body = new MemoryStream(part.Array!, part.Offset, part.Count, writable: false);
                        var response = await _store.Client.UploadPartAsync(
                            new UploadPartRequest
                            {
                                BucketName = _store.Bucket,
                                Key = _store.FullKey(Key),
                                UploadId = uploadId,
                                PartNumber = number,
                                InputStream = body,
                                PartSize = part.Count,
                                UseChunkEncoding = !_store.Generic,
                            },
                            c).ConfigureAwait(false);
                        return response.ETag ?? throw new AmazonClientException($"The server accepted part {number} without an ETag.");
                    },
                    ct),
                _abort.Token).ConfigureAwait(false);
            lock (_partsLock)
            {
                _parts.Add(new PartETag(number, etag));
            }
        }
        catch (Exception e)
        {
            if (!_abort.IsCancellationRequested || e is not OperationCanceledException)
            {
                _ = Interlocked.CompareExchange(ref _failure, e, null);
            }

            // One part failing dooms the upload: stop the others rather than send bytes that will be aborted.
            try
            {
                await _abort.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }
        finally
        {
            _store.PartBuffers.Return(part.Array!);
            try
            {
                _store.PartSlots.Release();
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
            return await _store.Policy.ExecuteAsync(
                "s3-put",
                ct =>
                {
                    body.Position = 0;
                    return _store.PutObjectAsync(Key, body, body.Length, _createOnly, ct);
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
        await _store.Policy.ExecuteAsync(
            "s3-complete-upload",
            async ct =>
            {
                attempts++;
                try
                {
                    await _store.CallAsync(
                        "COMPLETE UPLOAD",
                        Key,
                        c => _store.Client.CompleteMultipartUploadAsync(
                            new CompleteMultipartUploadRequest
                            {
                                BucketName = _store.Bucket,
                                Key = _store.FullKey(Key),
                                UploadId = _uploadId,
                                PartETags = parts,
                            },
                            c),
                        ct).ConfigureAwait(false);
                }
                catch (CheckpointStorageException e) when (attempts > 1 && e.InnerException is AmazonServiceException { ErrorCode: "NoSuchUpload" })
                {
                    // An earlier attempt completed the upload but its answer was lost: the object is there if the lengths agree.
                    if (await _store.StatAsync(Key, ct).ConfigureAwait(false) is not { } info || info.Length != _written)
                    {
                        throw;
                    }
                }
            },
            cancellationToken).ConfigureAwait(false);

        // The upload is complete: nothing is left to abort whatever happens next.
        _uploadId = null;

        // S3 clones may answer the completion without an ETag; the object's own description is authoritative.
        return await StatAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new ObjectNotFoundException(_store.Location, Key);
    }

    // Inside a transfer no outer layer can retry, so the lookups around completion go through the policy like the parts do.
    private Task<ObjectInfo?> StatAsync(CancellationToken cancellationToken) =>
        _store.Policy.ExecuteAsync("s3-stat", ct => _store.StatAsync(Key, ct), cancellationToken);

    private async Task RunOrFail(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch
        {
            // A write that failed half-way leaves the stream unusable: it can only be disposed (which aborts).
            _state = State.Failed;
            throw;
        }
    }

    private void ThrowIfNotWritable()
    {
        if (_state != State.Open)
        {
            throw _state == State.Disposed
                ? new ObjectDisposedException(nameof(S3ObjectWriter))
                : new InvalidOperationException($"The writer of '{Key}' was {(_state == State.Completed ? "completed" : "failed")} already.");
        }

        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            _state = State.Failed;
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private void ReleaseBuffers()
    {
        foreach (var part in _held)
        {
            _store.PartBuffers.Return(part.Array!);
        }

        _held.Clear();
        if (_current is not null)
        {
            _store.PartBuffers.Return(_current);
            _current = null;
        }
    }
}
