using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>Streams into a temporary file of a <see cref="FileSystemCheckpointStore"/> and publishes it on completion.</summary>
internal sealed class FileSystemObjectWriter : ObjectWriteStream
{
    private readonly FileSystemCheckpointStore _store;
    private readonly string _key;
    private readonly string _tempPath;
    private readonly bool _createOnly;
    private readonly FileStream _file;
    private readonly EarlyWriteback _writeback;
    private long _written;
    private bool _done;

    internal FileSystemObjectWriter(FileSystemCheckpointStore store, string key, string tempPath, bool createOnly)
    {
        _store = store;
        _key = key;
        _tempPath = tempPath;
        _createOnly = createOnly;
        // Readable too: a file appended by a kernel copy is hashed by reading it back.
        _file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 256 * 1024, FileOptions.Asynchronous);
        _writeback = new EarlyWriteback(_file.SafeFileHandle);
    }

    public override string Key => _key;

    /// <summary>The store this writer publishes into.</summary>
    internal FileSystemCheckpointStore Store => _store;

    public override long BytesWritten => _written;

    public override bool CanWrite => !_done;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfDone();
        _file.Write(buffer);
        _written += buffer.Length;
        _writeback.Written(_written);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfDone();
        cancellationToken.ThrowIfCancellationRequested();
        await _file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        _written += buffer.Length;
        _writeback.Written(_written);
    }

    /// <summary>
    /// Appends <paramref name="length"/> bytes of the local file <paramref name="source"/> from <paramref name="offset"/>
    /// (fewer only if it ends first: a file still growing is not chased past that length), copied inside the kernel (see
    /// <see cref="LocalFileCopy"/>) and hashed as this temporary file holds it.
    /// </summary>
    /// <returns>How many bytes were appended, and whether the kernel copied them.</returns>
    internal async Task<LocalCopyResult> AppendFileAsync(SafeFileHandle source, long offset, long length, ContentHash hash, Action<long>? onProgress, CancellationToken cancellationToken)
    {
        ThrowIfDone();
        try
        {
            // Bytes this stream buffered must land before the copy's, which go straight to the file.
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            var start = _written;
            var result = await LocalFileCopy.CopyAsync(
                source,
                offset,
                _file.SafeFileHandle,
                start,
                length,
                hash,
                done =>
                {
                    _writeback.Written(start + done);
                    onProgress?.Invoke(start + done);
                },
                cancellationToken).ConfigureAwait(false);
            _written += result.Bytes;
            _file.Seek(_written, SeekOrigin.Begin);
            return result;
        }
        catch (UnauthorizedAccessException ex)
        {
            throw _store.AccessDenied(ex.Message, ex);
        }
    }

    public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
    {
        if (_done)
        {
            throw new InvalidOperationException($"The writer of '{ObjectKey.Printable(_key)}' was already completed or disposed.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        _done = true;
        try
        {
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);

            // The data must be on disk before its name is: otherwise a crash could leave a published but empty file.
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return _store.Publish(_key, _tempPath, _createOnly);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw _store.AccessDenied(ex.Message, ex);
        }
        finally
        {
            // After a failed flush the handle is still open; after a rename the temp file is gone; after a failure or a
            // link it must not linger.
            await AbortAsync().ConfigureAwait(false);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_done)
        {
            _done = true;
            await AbortAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_done)
        {
            _done = true;
            AbortAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    private async ValueTask AbortAsync()
    {
        try
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Flushing buffered bytes of an abandoned write can fail (disk full); they are discarded either way.
        }

        FileSystemCheckpointStore.TryDeleteFile(_tempPath);
    }

    private void ThrowIfDone() => ObjectDisposedException.ThrowIf(_done, this);
}
