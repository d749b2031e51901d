using System.Buffers;
using System.Globalization;

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.S3;

/// <summary>
/// What the S3 store's writers and readers need of it, in one object: the client and bucket path, the shared transfer
/// budgets (part buffers, part slots, read-ahead), the retry policy, and the requests both the store and its transfers send.
/// </summary>
internal sealed class S3Transport(
    IAmazonS3 client,
    BucketPath path,
    S3StoreOptions options,
    StoreRetryPolicy policy,
    S3ErrorMapper errors,
    bool generic,
    ILogger logger,
    TimeProvider time) : IDisposable
{
    /// <summary>The most one S3 PUT carries (5 GiB): the ceiling of a create-only write.</summary>
    public const long MaxSinglePutBytes = 5L * 1024 * 1024 * 1024;

    public IAmazonS3 Client => client;

    public BucketPath Path => path;

    public Uri Location => path.Location;

    public S3StoreOptions Options => options;

    public StoreRetryPolicy Policy => policy;

    /// <summary>Whether the server is a generic S3 clone (unchunked uploads).</summary>
    public bool Generic => generic;

    public ILogger Logger => logger;

    /// <summary>
    /// Part buffers for this store's transfers. Not <see cref="ArrayPool{T}.Shared"/>: its per-thread caches strand part-sized
    /// arrays on whichever thread-pool thread returned them, so new ones get allocated and memory grows with the thread count.
    /// Kept: the parts in flight, and a filling and a waiting part for each of the files the manager moves at once
    /// (<see cref="ConcurrentFiles"/>). Small objects' first buffers (1 MiB) come from the same pool.
    /// </summary>
    public ArrayPool<byte> PartBuffers { get; } = ArrayPool<byte>.Create(options.PartSizeBytes, TransferSizing.PooledBuffers(options.Concurrency, ConcurrentFilesFor(options.Concurrency)));

    /// <summary>
    /// How many files a checkpoint manager moves at once through this store (and twice as many small ones, so their round
    /// trips overlap): half the parts in flight. A large file keeps several parts going by itself and holds a filling and a
    /// waiting part besides, so more large files at once would add memory, not speed.
    /// </summary>
    public int ConcurrentFiles => ConcurrentFilesFor(options.Concurrency);

    /// <summary>
    /// Parts in flight, shared by every upload of this store: several files saved at once share <see cref="S3StoreOptions.Concurrency"/>
    /// instead of multiplying it (and its memory). An upload waits for a slot only while its own or others' parts are in flight,
    /// which always end, so uploads cannot wait on each other in a circle.
    /// </summary>
    public SemaphoreSlim PartSlots { get; } = new(options.Concurrency, options.Concurrency);

    /// <summary>The read-ahead of this store's parallel reads: <see cref="S3StoreOptions.Concurrency"/> parts shared by all of them.</summary>
    public ReadAheadBudget ReadAhead { get; } = new(options.Concurrency);

    /// <summary>Runs one SDK request, mapping its failure to the store's exceptions.</summary>
    public Task<T> CallAsync<T>(string operation, string? key, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken, string preconditionReason = "it already exists") =>
        errors.CallAsync(operation, key, request, cancellationToken, preconditionReason);

    /// <summary>The object's description (HEAD), or <see langword="null"/> when there is none.</summary>
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await CallAsync(
                "HEAD",
                key,
                ct => client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = path.Bucket, Key = path.FullKey(key) }, ct),
                cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, head.ContentLength, ToOffset(head.LastModified), head.ETag ?? string.Empty);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Refuses create-only content one PUT cannot carry. Create-only writes are never sent as multipart uploads: RadosGW 16
    /// accepts <c>If-None-Match: *</c> on CompleteMultipartUpload twice for one key, and a look-up before completing is not
    /// atomic, so only a single PUT makes "exactly one writer wins" hold on every server.
    /// </summary>
    public void ThrowIfOverSinglePut(string key, long length)
    {
        if (length > MaxSinglePutBytes)
        {
            throw new CheckpointStorageException(
                $"The create-only write of '{key}' in {Location} is {length} bytes, more than the {MaxSinglePutBytes} bytes (5 GiB) one S3 PUT carries; create-only writes are never sent as multipart uploads, so it was refused.");
        }
    }

    /// <summary>Sends one PUT of <paramref name="length"/> bytes of <paramref name="body"/> from its position.</summary>
    public async Task<ObjectInfo> PutObjectAsync(string key, Stream body, long length, bool createOnly, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = path.Bucket,
            Key = path.FullKey(key),
            InputStream = body,
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            UseChunkEncoding = !generic,
            IfNoneMatch = createOnly ? "*" : null,
        };
        request.Headers.ContentLength = length;
        var response = await CallAsync("PUT", key, ct => client.PutObjectAsync(request, ct), cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(response.ETag)
            ? await StatAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(Location, key)
            : new ObjectInfo(key, length, time.GetUtcNow(), response.ETag);
    }

    /// <summary>Aborts a multipart upload; an upload that is already gone counts as aborted.</summary>
    public async Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            await policy.ExecuteAsync(
                "s3-abort-upload",
                ct => CallAsync(
                    "ABORT UPLOAD",
                    key,
                    c => client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = path.Bucket, Key = path.FullKey(key), UploadId = uploadId }, c),
                    ct),
                cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStorageException e) when (e.InnerException is AmazonServiceException { ErrorCode: "NoSuchUpload" })
        {
        }
    }

    /// <summary>Converts an SDK time (UTC or local; unspecified counts as UTC) to an offset.</summary>
    public static DateTimeOffset ToOffset(DateTime? time) => time switch
    {
        null => DateTimeOffset.UnixEpoch,
        { Kind: DateTimeKind.Local } local => new DateTimeOffset(local.ToUniversalTime(), TimeSpan.Zero),
        { } other => new DateTimeOffset(DateTime.SpecifyKind(other, DateTimeKind.Utc), TimeSpan.Zero),
    };

    /// <summary>The object's total length from a ranged answer's <c>Content-Range: bytes a-b/total</c>.</summary>
    public static long? TotalLength(GetObjectResponse response)
    {
        var range = response.ContentRange;
        var slash = range?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(range.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total) ? total : null;
    }

    /// <summary>Releases the SDK client, its connections and the part slots.</summary>
    public void Dispose()
    {
        client.Dispose();
        PartSlots.Dispose();
    }

    private static int ConcurrentFilesFor(int concurrency) => Math.Max(1, concurrency / 2);
}
