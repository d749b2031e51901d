namespace Konduktor.Storage.Gcs;

/// <summary>
/// Reads one generation of an object as ranged reads of a chunk each, delivered in order by
/// <see cref="OrderedRangeReadStream"/>: at most <see cref="GcsStoreOptions.Concurrency"/> chunks are fetched or buffered
/// ahead, shared among the store's open parallel reads; each fetch is retried through the store's policy. When the stream
/// covers the whole object, its CRC32C is checked at the end.
/// </summary>
internal sealed class GcsReadStream : OrderedRangeReadStream
{
    private readonly GcsTransport _store;
    private readonly string _key;
    private readonly long _generation;
    private readonly string? _expectedCrc;
    private Crc32C _crc = new();
    private bool _verified;

    public GcsReadStream(GcsTransport store, string key, long generation, HttpResponseMessage first, long offset, long firstEnd, long end, string? expectedCrc)
        : base(store.ChunkBuffers, store.ReadAhead, store.Options.ChunkSizeBytes, offset, (int)(firstEnd - offset), end)
    {
        _store = store;
        _key = key;
        _generation = generation;
        _expectedCrc = expectedCrc;
        Start((buffer, length, ct) => DrainAsync(first, buffer, length, ct));
    }

    protected override Task FetchAsync(long offset, byte[] buffer, int length, CancellationToken cancellationToken) =>
        _store.Policy.ExecuteAsync(
            "gcs-get-chunk",
            async ct =>
            {
                using var response = await _store.SendGetAsync(_key, _generation, offset, length, ct).ConfigureAwait(false)
                    ?? throw new PreconditionFailedException(_store.Location, _key, "it changed while being read");
                await ReadExactlyAsync(response, buffer, length, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    protected override void OnPart(ReadOnlySpan<byte> part)
    {
        if (_expectedCrc is not null)
        {
            _crc.Append(part);
        }
    }

    /// <summary>At the end of a whole-object read: the bytes must have the CRC32C GCS keeps for the object.</summary>
    protected override void OnEnd()
    {
        if (_expectedCrc is null || _verified)
        {
            return;
        }

        _verified = true;
        if (_crc.Base64 != _expectedCrc)
        {
            throw new CheckpointStorageException(
                $"The bytes read of '{_key}' (generation {_generation}) in {_store.Location} have CRC32C {_crc.Base64}, but GCS keeps {_expectedCrc} for the object: the download was corrupted.");
        }
    }

    private async Task DrainAsync(HttpResponseMessage first, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        using (first)
        {
            await ReadExactlyAsync(first, buffer, length, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReadExactlyAsync(HttpResponseMessage response, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var read = 0;
                while (read < length)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read, length - read), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw _store.Errors.Transient("GET", _key, $"the server sent {read} of {length} bytes of a chunk", null);
                    }

                    read += n;
                }
            }
        }
        catch (Exception e) when (_store.Errors.Map(e, "GET", _key, "it changed while being read", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }
}
