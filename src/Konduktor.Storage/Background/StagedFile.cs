namespace Konduktor.Storage;

/// <summary>
/// One file of a background save, captured into staging the saver owns: memory chunks first, the rest in a staging file;
/// or a local file as a hard link or a copy. Disposing releases the staging.
/// </summary>
internal sealed class StagedFile : IAsyncDisposable
{
    private readonly StagingArea _staging;
    private readonly List<byte[]> _chunks = [];
    private int _lastChunkLength = StagingArea.ChunkSize;
    private string? _spillPath;
    private long _diskReserved;

    private StagedFile(StagingArea staging, string name)
    {
        _staging = staging;
        Name = name;
    }

    public string Name { get; }

    /// <summary>The captured length.</summary>
    public long Length { get; private set; }

    /// <summary>Stages bytes written into the returned stream; the file is complete when the stream is disposed.</summary>
    public static (StagedFile File, Stream Writer) Create(StagingArea staging, string name, Func<CancellationToken, Task> waitForRoom)
    {
        var file = new StagedFile(staging, name);
        return (file, new StagingWriteStream(file, waitForRoom));
    }

    /// <summary>Captures a local file: a hard link to it when allowed and possible, else a copy of the length it has now.</summary>
    /// <exception cref="IOException">The path is not a regular file, or the file shrank while it was copied.</exception>
    public static async Task<StagedFile> CaptureLocalAsync(
        StagingArea staging, string name, string path, Func<CancellationToken, Task> waitForRoom, CancellationToken cancellationToken)
    {
        using var source = LocalFileSource.Open(path);
        var file = new StagedFile(staging, name) { Length = source.Length };
        try
        {
            var target = staging.NewFilePath();
            if (staging.LinkLocalFiles && FileSystemNative.IsPosix)
            {
                var real = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
                var error = FileSystemNative.Link(real, target);
                if (error == 0 && new FileInfo(target).Length == source.Length)
                {
                    file._spillPath = target;
                    return file;
                }

                if (error == 0)
                {
                    File.Delete(target); // the file changed between opening and linking: copy what was opened instead
                }
                else if (error is not (Posix.EXDEV or Posix.EPERM or Posix.EOPNOTSUPP))
                {
                    throw FileSystemNative.Error(error, "link the file to be saved into staging at", target);
                }
            }

            await file.ReserveDiskAsync(source.Length, waitForRoom, cancellationToken).ConfigureAwait(false);
            file._spillPath = target;
            var copy = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
            await using (copy.ConfigureAwait(false))
            {
                await new LocalFileReadStream(source.Handle, 0, source.Length).CopyToAsync(copy, StagingArea.ChunkSize, cancellationToken).ConfigureAwait(false);
                if (copy.Length < source.Length)
                {
                    throw LocalFileSource.Shrank(path, source.Length, copy.Length);
                }
            }

            return file;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds the staged bytes to <paramref name="save"/>: a staging file alone as a local file (kernel copies), else streamed.</summary>
    public Task UploadAsync(CheckpointSave save, CancellationToken cancellationToken) =>
        _chunks.Count == 0 && _spillPath is not null
            ? save.AddLocalFileAsync(Name, _spillPath, cancellationToken)
            : save.AddFileAsync(Name, new StagedReadStream(this), cancellationToken);

    public ValueTask DisposeAsync()
    {
        foreach (var chunk in _chunks)
        {
            _staging.ReturnChunk(chunk);
        }

        _chunks.Clear();
        if (_spillPath is not null)
        {
            try
            {
                File.Delete(_spillPath);
            }
            catch (IOException)
            {
                // The staging folder goes when the saver is disposed.
            }

            _spillPath = null;
        }

        _staging.ReleaseDisk(_diskReserved);
        _diskReserved = 0;
        return ValueTask.CompletedTask;
    }

    private async ValueTask ReserveDiskAsync(long bytes, Func<CancellationToken, Task> waitForRoom, CancellationToken cancellationToken)
    {
        while (!_staging.TryReserveDisk(bytes))
        {
            await waitForRoom(cancellationToken).ConfigureAwait(false);
        }

        _diskReserved += bytes;
    }

    /// <summary>Writes into memory chunks while the memory limit allows, then into a staging file.</summary>
    private sealed class StagingWriteStream(StagedFile file, Func<CancellationToken, Task> waitForRoom) : Stream
    {
        private FileStream? _spill;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => file.Length;

        public override long Position
        {
            get => file.Length;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                if (WriteToMemory(ref buffer))
                {
                    continue;
                }

                // A synchronous writer (a serializer's Write) must be served synchronously: wait for disk room here.
                var spill = _spill ?? OpenSpill();
                file.ReserveDiskAsync(buffer.Length, waitForRoom, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                spill.Write(buffer);
                file.Length += buffer.Length;
                return;
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (!buffer.IsEmpty)
            {
                var span = buffer.Span;
                var before = span.Length;
                if (WriteToMemory(ref span))
                {
                    buffer = buffer[(before - span.Length)..];
                    continue;
                }

                var spill = _spill ?? OpenSpill();
                await file.ReserveDiskAsync(buffer.Length, waitForRoom, cancellationToken).ConfigureAwait(false);
                await spill.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                file.Length += buffer.Length;
                return;
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (_spill is not null)
            {
                await _spill.DisposeAsync().ConfigureAwait(false);
                _spill = null;
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _spill?.Dispose();
                _spill = null;
            }

            base.Dispose(disposing);
        }

        /// <summary>Copies what fits into memory chunks; false once the content has spilled to disk or memory is full.</summary>
        private bool WriteToMemory(ref ReadOnlySpan<byte> buffer)
        {
            if (_spill is not null)
            {
                return false;
            }

            if (file._lastChunkLength == StagingArea.ChunkSize)
            {
                if (file._staging.TryRentChunk() is not { } chunk)
                {
                    return false;
                }

                file._chunks.Add(chunk);
                file._lastChunkLength = 0;
            }

            var n = Math.Min(buffer.Length, StagingArea.ChunkSize - file._lastChunkLength);
            buffer[..n].CopyTo(file._chunks[^1].AsSpan(file._lastChunkLength));
            file._lastChunkLength += n;
            file.Length += n;
            buffer = buffer[n..];
            return true;
        }

        private FileStream OpenSpill()
        {
            file._spillPath = file._staging.NewFilePath();
            _spill = new FileStream(file._spillPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 0, FileOptions.Asynchronous);
            return _spill;
        }
    }

    /// <summary>Reads the memory chunks, then the staging file.</summary>
    private sealed class StagedReadStream(StagedFile file) : ReadOnlyStream
    {
        private int _chunk;
        private int _offset;
        private FileStream? _spill;

        public override long Length => file.Length;

        public override int Read(Span<byte> buffer)
        {
            var n = ReadMemory(buffer);
            return n > 0 || buffer.IsEmpty ? n : OpenSpill()?.Read(buffer) ?? 0;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = ReadMemory(buffer.Span);
            return n > 0 || buffer.IsEmpty
                ? n
                : OpenSpill() is { } spill ? await spill.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) : 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _spill?.Dispose();
                _spill = null;
            }

            base.Dispose(disposing);
        }

        private int ReadMemory(Span<byte> buffer)
        {
            while (_chunk < file._chunks.Count)
            {
                var end = _chunk == file._chunks.Count - 1 ? file._lastChunkLength : StagingArea.ChunkSize;
                if (_offset < end)
                {
                    var n = Math.Min(buffer.Length, end - _offset);
                    file._chunks[_chunk].AsSpan(_offset, n).CopyTo(buffer);
                    _offset += n;
                    return n;
                }

                _chunk++;
                _offset = 0;
            }

            return 0;
        }

        private FileStream? OpenSpill() =>
            _spill ??= file._spillPath is null ? null : new FileStream(file._spillPath, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous);
    }
}
