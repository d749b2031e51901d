using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Konduktor.Storage;

/// <summary>
/// A store that keeps objects in memory: for tests, including users' own unit tests. It honours create-only writes
/// and conditional deletes exactly, lists in ordinal order, and reports a CRC-64 server checksum as S3 and GCS report theirs.
/// </summary>
public sealed class InMemoryCheckpointStore : ICheckpointStore
{
    private readonly SortedDictionary<string, Entry> _objects = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private long _version;

    /// <summary>Creates an empty store.</summary>
    /// <param name="name">Names the store in its <see cref="Location"/> (<c>memory://name/</c>).</param>
    /// <param name="timeProvider">The clock for <see cref="ObjectInfo.LastModified"/>; the system clock by default.</param>
    public InMemoryCheckpointStore(string name = "default", TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Location = new Uri($"memory://{Uri.EscapeDataString(name)}/");
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public Uri Location { get; }

    /// <inheritdoc />
    public StoreCapabilities Capabilities { get; } = new() { CreateOnly = true, ConditionalDelete = true, ServerChecksumAlgorithm = "crc64" };

    /// <summary>How many objects the store holds.</summary>
    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _objects.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        StreamedPut.PutAsync(this, key, content, options, bufferSize: null, cancellationToken);

    /// <inheritdoc />
    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<ObjectWriteStream>(new Writer(this, key, options?.CreateOnly ?? false));
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        range?.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        var data = Get(key)?.Data ?? throw new ObjectNotFoundException(Location, key);
        var offset = (int)Math.Min(range?.Offset ?? 0, data.Length);
        var length = (int)Math.Min(range?.Length ?? long.MaxValue, data.Length - offset);
        return Task.FromResult<Stream>(new MemoryStream(data, offset, length, writable: false));
    }

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Get(key)?.Info);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        var delimiter = options?.Delimiter;
        List<StoreEntry> entries = [];
        lock (_gate)
        {
            string? lastFolder = null;
            foreach (var (key, entry) in _objects)
            {
                if (!key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var cut = string.IsNullOrEmpty(delimiter) ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (cut < 0)
                {
                    entries.Add(new StoreEntry(key, false, entry.Info));
                }
                else if (key[..(cut + delimiter!.Length)] is var folder && folder != lastFolder)
                {
                    entries.Add(new StoreEntry(folder, true, null));
                    lastFolder = folder;
                }
            }
        }

        // Folders and objects interleave in ordinal order, as S3 and GCS return them.
        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return entry;
        }
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ObjectKey.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (!_objects.TryGetValue(key, out var entry))
            {
                return Task.FromResult(false);
            }

            if (ifMatch is not null && entry.Info.ETag != ifMatch)
            {
                throw new PreconditionFailedException(Location, key, $"expected version {ifMatch}, found {entry.Info.ETag}");
            }

            _objects.Remove(key);
            return Task.FromResult(true);
        }
    }

    private Entry? Get(string key)
    {
        lock (_gate)
        {
            return _objects.GetValueOrDefault(key);
        }
    }

    private ObjectInfo Commit(string key, byte[] data, bool createOnly)
    {
        var crc = Convert.ToHexStringLower(Crc64.Hash(data));
        lock (_gate)
        {
            if (createOnly && _objects.ContainsKey(key))
            {
                throw new PreconditionFailedException(Location, key, "it already exists");
            }

            var info = new ObjectInfo(key, data.Length, _time.GetUtcNow(), $"v{++_version}", $"crc64:{crc}");
            _objects[key] = new Entry(data, info);
            return info;
        }
    }

    private sealed record Entry(byte[] Data, ObjectInfo Info);

    private sealed class Writer(InMemoryCheckpointStore store, string key, bool createOnly) : ObjectWriteStream
    {
        private readonly MemoryStream _buffer = new();
        private bool _done;

        public override string Key => key;

        public override long BytesWritten => _buffer.Length;

        public override bool CanWrite => !_done;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _buffer.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
        {
            if (_done)
            {
                throw new InvalidOperationException($"The writer of '{key}' was already completed or disposed.");
            }

            cancellationToken.ThrowIfCancellationRequested();
            _done = true;
            return Task.FromResult(store.Commit(key, _buffer.ToArray(), createOnly));
        }

        protected override void Dispose(bool disposing)
        {
            _done = true;
            _buffer.Dispose();
            base.Dispose(disposing);
        }
    }
}
