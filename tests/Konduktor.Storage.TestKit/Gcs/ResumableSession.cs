namespace Konduktor.Storage.Testing;

/// <summary>
/// One resumable upload: chunks persisted so far (kept as received; they become the object's segments), hashed as
/// they arrive, and what the finished object must satisfy. The preconditions are checked again when it completes, since
/// another writer may have won meanwhile.
/// </summary>
internal sealed class ResumableSession(string id, string bucket, GcsObjectProperties properties, GcsPreconditions preconditions, long? declaredLength, GcsExpectedHashes resourceHashes)
    : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<byte[]> _chunks = [];
    private readonly GcsHasher _hasher = new();
    private long _persisted;
    private GcsStoredObject? _result;
    private bool _cancelled;

    public string Id { get; } = id;

    public string Bucket { get; } = bucket;

    public void Cancel()
    {
        lock (_gate)
        {
            _cancelled = true;
            _chunks.Clear();
            _hasher.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _hasher.Dispose();
        }
    }

    /// <summary>
    /// Applies one PUT: persists a chunk that starts where the persisted bytes end, completes the upload on the last one,
    /// and answers the finished object (once complete, every further PUT gets it again) or the persisted length.
    /// </summary>
    /// <remarks>
    /// A chunk that does not start at the persisted length is not persisted; the answer (308 with the persisted range)
    /// tells the client where to resume.
    /// </remarks>
    public (GcsStoredObject? Done, long Persisted) Accept(GcsContentRange range, byte[] chunk, GcsExpectedHashes headerHashes, GcsBuckets buckets)
    {
        lock (_gate)
        {
            if (_cancelled)
            {
                throw new GcsError(404, "notFound", $"The upload session {Id} was cancelled.");
            }

            if (_result is not null)
            {
                return (_result, _persisted);
            }

            if (range.IsQuery)
            {
                if (range.Total is { } total && total < _persisted)
                {
                    throw GcsError.BadRequest($"The total size {total} is smaller than the {_persisted} bytes already persisted.");
                }

                return range.Total == _persisted ? (Complete([], headerHashes, buckets), _persisted) : (null, _persisted);
            }

            if (range.First != _persisted)
            {
                return (null, _persisted);
            }

            if (range.Total is { } t && range.Last + 1 == t)
            {
                return (Complete(chunk, headerHashes, buckets), _persisted);
            }

            if (chunk.Length % GcsUploads.ChunkGranularity != 0)
            {
                throw GcsError.BadRequest($"A non-final chunk must be a multiple of {GcsUploads.ChunkGranularity} bytes (256 KiB); this one has {chunk.Length}.");
            }

            if (declaredLength is { } declared && _persisted + chunk.Length > declared)
            {
                throw GcsError.BadRequest($"The chunk goes past the X-Upload-Content-Length of {declared} bytes.");
            }

            _chunks.Add(chunk);
            _hasher.Append(chunk);
            _persisted += chunk.Length;
            return (null, _persisted);
        }
    }

    private GcsStoredObject Complete(byte[] last, GcsExpectedHashes headerHashes, GcsBuckets buckets)
    {
        var total = _persisted + last.Length;
        if (declaredLength is { } declared && total != declared)
        {
            throw GcsError.BadRequest($"The upload ends at {total} bytes, not at the X-Upload-Content-Length of {declared}.");
        }

        // Hash the last chunk on a copy of the running hashes, so a rejected last chunk leaves them as they were.
        using var hashes = _hasher.Clone();
        hashes.Append(last);
        var content = new GcsContent(_chunks.Append(last), hashes);
        resourceHashes.Verify(content, "object resource");
        headerHashes.Verify(content, "x-goog-hash");
        _result = buckets.Put(Bucket, properties, content, preconditions);
        _chunks.Clear();
        _hasher.Dispose();
        _persisted = total;
        return _result;
    }
}
