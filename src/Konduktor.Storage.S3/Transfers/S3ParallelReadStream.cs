using Amazon.S3.Model;
using ByteRange = Konduktor.Storage.Stores.ByteRange;

namespace Konduktor.Storage.S3;

/// <summary>
/// Reads one version of a large object as parallel ranged GETs of a part each (<c>If-Match</c> on the first answer's ETag),
/// delivered in order by <see cref="OrderedRangeReadStream"/>: at most <see cref="S3StoreOptions.Concurrency"/> parts are
/// fetched or buffered ahead, shared among the store's open parallel reads; each part is retried through the store's policy.
/// </summary>
internal sealed class S3ParallelReadStream : OrderedRangeReadStream
{
    private readonly S3Transport _store;
    private readonly string _key;
    private readonly string? _etag;

    public S3ParallelReadStream(S3Transport store, string key, GetObjectResponse first, long firstEnd, long end)
        : base(store.PartBuffers, store.ReadAhead, store.Options.PartSizeBytes, firstEnd - first.ContentLength, (int)first.ContentLength, end)
    {
        _store = store;
        _key = key;
        _etag = string.IsNullOrEmpty(first.ETag) ? null : first.ETag;
        Start((buffer, length, ct) => DrainAsync(first, buffer, length, ct));
    }

    protected override Task FetchAsync(long offset, byte[] buffer, int length, CancellationToken cancellationToken) =>
        _store.Policy.ExecuteAsync(
            "s3-get-part",
            ct => _store.CallAsync(
                "GET",
                _key,
                async c =>
                {
                    using var response = await _store.Client.GetObjectAsync(
                        new GetObjectRequest
                        {
                            BucketName = _store.Path.Bucket,
                            Key = _store.Path.FullKey(_key),
                            ByteRange = new Amazon.S3.Model.ByteRange(offset, offset + length - 1),
                            EtagToMatch = _etag,
                        },
                        c).ConfigureAwait(false);
                    await ReadExactlyAsync(response, buffer, length, c).ConfigureAwait(false);
                    return true;
                },
                ct,
                "it changed while being read"),
            cancellationToken);

    private async Task DrainAsync(GetObjectResponse first, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        using (first)
        {
            await _store.CallAsync("GET", _key, async c =>
            {
                await ReadExactlyAsync(first, buffer, length, c).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ReadExactlyAsync(GetObjectResponse response, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        var stream = response.ResponseStream;
        await using (stream.ConfigureAwait(false))
        {
            var read = 0;
            while (read < length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, length - read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"The server sent {read} of {length} bytes of a part.");
                }

                read += n;
            }
        }
    }
}
