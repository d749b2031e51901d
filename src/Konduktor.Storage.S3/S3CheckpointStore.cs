using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage.S3;

/// <summary>
/// A store in an S3 bucket (Amazon S3, or an S3-compatible server such as Ceph RadosGW or MinIO) for a location
/// <c>s3://bucket/prefix</c>: every key is stored as <c>{prefix}/{key}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Objects up to <see cref="S3StoreOptions.SinglePutThresholdMiB"/> are written with one PUT; larger or unknown-length ones
/// as a multipart upload whose parts go up in parallel (<see cref="S3StoreOptions.Concurrency"/> at once, each retried through
/// the <see cref="StoreRetryPolicy"/>), using at most part size × concurrency of memory. Create-only writes are always one PUT
/// with <c>If-None-Match: *</c>, whatever their size (up to S3's 5 GiB), never a multipart upload. A failed, cancelled or
/// abandoned multipart upload is aborted. Large reads are parallel ranged GETs
/// of one version (<c>If-Match</c> on its ETag), delivered in order with the same memory bound.
/// </para>
/// <para>
/// The SDK's own retries are off: the store throws <see cref="TransientStoreException"/> for failures worth retrying and retries
/// only the parts of a transfer itself; wrap it in a <see cref="ResilientCheckpointStore"/> (as <c>CheckpointManager</c> does)
/// for whole operations.
/// </para>
/// </remarks>
public sealed class S3CheckpointStore : ICheckpointStore, IPendingUploadStore, IDisposable
{
    /// <summary>The most one S3 PUT carries (5 GiB): the ceiling of a create-only write.</summary>
    internal const long MaxSinglePutBytes = 5L * 1024 * 1024 * 1024;

    private readonly AmazonS3Client _client;
    private readonly S3Connection _connection;
    private readonly S3ErrorMapper _errors;
    private readonly string _keyPrefix;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates a store for an <c>s3://bucket/prefix</c> location.</summary>
    /// <param name="location">The location: <c>s3://bucket</c> or <c>s3://bucket/prefix</c>.</param>
    /// <param name="options">Endpoint, compatibility, transfer and credential settings; copied. Default: all defaults.</param>
    /// <param name="credentials">Credentials to sign with; <see langword="null"/> to find them (profile options, then the SDK's default chain).</param>
    /// <param name="retryPolicy">Retries the parts of transfers; default: a policy with default <see cref="ResilienceOptions"/>.</param>
    /// <param name="logger">Where the store logs; none by default.</param>
    /// <param name="timeProvider">The clock; the system clock by default.</param>
    /// <exception cref="ArgumentException">The location is not exactly an <c>s3://</c> URI with a bucket (parsed like <see cref="CheckpointLocation.FromUri"/>: no query, fragment, empty or dot segments), or its bucket or prefix is not valid.</exception>
    /// <exception cref="CheckpointConfigurationException">An option is invalid, or no region can be found for AWS.</exception>
    /// <exception cref="CredentialsException">No credentials were found, or the configured profile or credentials file does not exist.</exception>
    public S3CheckpointStore(
        Uri location,
        S3StoreOptions? options = null,
        AWSCredentials? credentials = null,
        StoreRetryPolicy? retryPolicy = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
        : this(location, options, credentials, retryPolicy, logger, timeProvider, Environment.GetEnvironmentVariable)
    {
    }

    internal S3CheckpointStore(
        Uri location,
        S3StoreOptions? options,
        AWSCredentials? credentials,
        StoreRetryPolicy? retryPolicy,
        ILogger? logger,
        TimeProvider? timeProvider,
        Func<string, string?> environment,
        Action<AmazonS3Config>? configureClient = null)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(environment);
        (Bucket, Prefix) = ParseLocation(location);
        Options = (options ?? new S3StoreOptions()).Clone();
        S3StoreOptionsValidator.ThrowIfInvalid(Options);
        // Kept: the parts in flight, and a filling and a waiting part for each of the files the manager moves at once (four).
        PartBuffers = ArrayPool<byte>.Create(Options.PartSizeBytes, Options.Concurrency + 8);
        PartSlots = new SemaphoreSlim(Options.Concurrency, Options.Concurrency);
        ReadAhead = new ReadAheadBudget(Options.Concurrency);
        _keyPrefix = Prefix.Length == 0 ? string.Empty : Prefix + "/";
        Location = new Uri($"s3://{Bucket}/{string.Join('/', Prefix.Split('/').Select(Uri.EscapeDataString))}{(Prefix.Length == 0 ? string.Empty : "/")}");
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        Policy = retryPolicy ?? new StoreRetryPolicy(new ResilienceOptions(), logger, timeProvider);
        _connection = S3Connection.Resolve(Options, environment);
        var (resolved, source) = S3CredentialResolver.Resolve(Options, credentials, _connection.Config, environment);
        CredentialSource = source;
        _errors = new S3ErrorMapper(Location, Bucket, _connection.Endpoint, source, _time);
        configureClient?.Invoke(_connection.Config);
        _client = new AmazonS3Client(resolved, _connection.Config);
        Capabilities = new StoreCapabilities { CreateOnly = true, ConditionalDelete = _connection.ConditionalDelete, ServerChecksumAlgorithm = null };
        S3Log.Created(_logger, Location, _connection.Endpoint, _connection.Region, _connection.Addressing,
            _connection.Generic ? "generic" : "aws", _connection.ConditionalDelete, source);
    }

    /// <inheritdoc />
    public Uri Location { get; }

    /// <inheritdoc />
    /// <remarks>
    /// Create-only writes are one PUT with <c>If-None-Match: *</c> (up to 5 GiB, S3's single-PUT limit), which is atomic
    /// everywhere; they are never multipart uploads, whose completion some servers (RadosGW 16) accept twice for one key
    /// despite the header. Conditional deletes follow <see cref="S3StoreOptions.ConditionalDelete"/>.
    /// No server checksum is reported: an S3 ETag is an MD5 only for some objects (not multipart, not SSE-KMS), and the
    /// checkpoint manifest's own checksums protect the data end to end.
    /// </remarks>
    public StoreCapabilities Capabilities { get; }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>The key prefix inside the bucket, without leading or trailing '/' (may be empty).</summary>
    public string Prefix { get; }

    /// <summary>Where the credentials came from (never the secret), as logged at construction.</summary>
    public string CredentialSource { get; }

    internal S3StoreOptions Options { get; }

    internal StoreRetryPolicy Policy { get; }

    /// <summary>
    /// Part buffers for this store's transfers. Not <see cref="ArrayPool{T}.Shared"/>: its per-thread caches strand part-sized
    /// arrays on whichever thread-pool thread returned them, so new ones get allocated and memory grows with the thread count.
    /// </summary>
    internal ArrayPool<byte> PartBuffers { get; }

    /// <summary>
    /// Parts in flight, shared by every upload of this store: several files saved at once share <see cref="S3StoreOptions.Concurrency"/>
    /// instead of multiplying it (and its memory). An upload waits for a slot only while its own or others' parts are in flight,
    /// which always end, so uploads cannot wait on each other in a circle.
    /// </summary>
    internal SemaphoreSlim PartSlots { get; }

    /// <summary>The read-ahead of this store's parallel reads: <see cref="S3StoreOptions.Concurrency"/> parts shared by all of them.</summary>
    internal ReadAheadBudget ReadAhead { get; }

    internal IAmazonS3 Client => _client;

    internal bool Generic => _connection.Generic;

    internal ILogger Logger => _logger;

    /// <inheritdoc />
    /// <remarks>
    /// Content of known length up to <see cref="S3StoreOptions.SinglePutThresholdMiB"/> is sent in one PUT (not retried here;
    /// <see cref="ResilientCheckpointStore"/> retries it when the stream can seek). Longer or unknown-length content becomes a
    /// multipart upload whose parts are retried. Create-only content is always one PUT, whatever its length (an unknown length
    /// is buffered first), so that of two writers of one key exactly one wins.
    /// </remarks>
    /// <exception cref="PreconditionFailedException"><see cref="ObjectWriteOptions.CreateOnly"/> was set and the key exists.</exception>
    /// <exception cref="CheckpointStorageException">Create-only content is larger than one PUT carries (5 GiB).</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    /// <exception cref="RetriesExhaustedException">A part of a multipart upload kept failing.</exception>
    public async Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        var createOnly = options?.CreateOnly ?? false;
        if (content.CanSeek && createOnly)
        {
            ThrowIfOverSinglePut(key, content.Length - content.Position);
        }

        if (content.CanSeek && (createOnly || content.Length - content.Position <= Options.SinglePutThresholdBytes))
        {
            var length = Math.Max(0, content.Length - content.Position);
            return await PutObjectAsync(key, content, length, createOnly, cancellationToken).ConfigureAwait(false);
        }

        var writer = new S3ObjectWriter(this, key, createOnly);
        await using (writer.ConfigureAwait(false))
        {
            await content.CopyToAsync(writer, Math.Min(Options.PartSizeBytes, 1024 * 1024), cancellationToken).ConfigureAwait(false);
            return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The writer buffers up to <see cref="S3StoreOptions.SinglePutThresholdMiB"/> and sends it as one PUT at
    /// <see cref="ObjectWriteStream.CompleteAsync"/>; beyond that it starts a multipart upload and sends parts in parallel
    /// while the caller writes (a write waits while <see cref="S3StoreOptions.Concurrency"/> parts of the store's uploads are in flight).
    /// Disposing it without completing aborts the upload. A create-only writer buffers everything (up to 5 GiB, else its write
    /// throws <see cref="CheckpointStorageException"/>) and sends one PUT at completion: create-only writes are never multipart.
    /// </remarks>
    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<ObjectWriteStream>(new S3ObjectWriter(this, key, options?.CreateOnly ?? false));
    }

    /// <inheritdoc />
    /// <remarks>
    /// One ranged GET of up to a part is sent at once; when the object (or range) is longer, the rest is fetched as parallel
    /// ranged GETs of the same version, each retried, ahead of the reader: <see cref="S3StoreOptions.Concurrency"/> parts shared by the
    /// store's open reads, at least two each.
    /// </remarks>
    /// <exception cref="PreconditionFailedException">While a large object was read, it was replaced.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        range?.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        var offset = range?.Offset ?? 0;
        var wanted = range?.Length;
        if (wanted == 0)
        {
            // No bytes to fetch, but a missing object must still say so.
            _ = await StatAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(Location, key);
            return Stream.Null;
        }

        var firstLength = Math.Min(wanted ?? long.MaxValue, Options.PartSizeBytes);
        GetObjectResponse first;
        try
        {
            first = await CallAsync(
                "GET",
                key,
                ct => _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = FullKey(key), ByteRange = new Amazon.S3.Model.ByteRange(offset, offset + firstLength - 1) }, ct),
                cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStorageException e) when (e.InnerException is AmazonServiceException { StatusCode: HttpStatusCode.RequestedRangeNotSatisfiable })
        {
            // The object exists (a missing one is 404) and is empty, or the offset is at or past its end.
            return Stream.Null;
        }

        var total = TotalLength(first) ?? (offset + first.ContentLength);
        var end = Math.Min(total, wanted is { } w ? offset + w : long.MaxValue);
        var firstEnd = offset + first.ContentLength;
        if (firstEnd >= end)
        {
            return first.ResponseStream;
        }

        return new S3ParallelReadStream(this, key, first, firstEnd, end);
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var head = await CallAsync(
                "HEAD",
                key,
                ct => _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = FullKey(key) }, ct),
                cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, head.ContentLength, ToOffset(head.LastModified), head.ETag ?? string.Empty);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    /// <remarks>Pages hold at most 1000 entries (S3's limit), whatever <see cref="ListOptions.PageSize"/> asks.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListOptions.PageSize"/> is less than 1.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">A page request failed in a way worth retrying.</exception>
    public async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        var pageSize = options?.PageSize ?? 1000;
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1, "options.PageSize");

        // S3 returns at most 1000 keys per page whatever is asked.
        pageSize = Math.Min(pageSize, 1000);
        var delimiter = string.IsNullOrEmpty(options?.Delimiter) ? null : options.Delimiter;
        string? token = null;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = new ListObjectsV2Request
            {
                BucketName = Bucket,
                Prefix = FullKey(prefix),
                Delimiter = delimiter,
                MaxKeys = pageSize,
                ContinuationToken = token,
            };
            var page = await CallAsync("LIST", prefix.Length == 0 ? null : prefix, ct => _client.ListObjectsV2Async(request, ct), cancellationToken).ConfigureAwait(false);
            foreach (var entry in Merge(page))
            {
                yield return entry;
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (!string.IsNullOrEmpty(token));
    }

    /// <inheritdoc />
    /// <remarks>
    /// S3 deletes answer the same whether or not the object existed, so the object is looked up first to tell the two apart.
    /// With <paramref name="ifMatch"/> the DELETE itself carries <c>If-Match</c>, so a concurrent replacement is never deleted.
    /// </remarks>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        if (ifMatch is not null && !Capabilities.ConditionalDelete)
        {
            throw new NotSupportedException(
                $"{Location} does not do conditional deletes ({S3StoreOptions.SectionName}:ConditionalDelete is false for this server).");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var current = await StatAsync(key, cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            return false;
        }

        if (ifMatch is not null && current.ETag != ifMatch)
        {
            throw new PreconditionFailedException(Location, key, $"expected version {ifMatch}, found {current.ETag}");
        }

        try
        {
            _ = await CallAsync(
                "DELETE",
                key,
                ct => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = FullKey(key), IfMatch = ifMatch }, ct),
                cancellationToken,
                $"expected version {ifMatch}, found another version").ConfigureAwait(false);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            // A conditional delete of an object deleted meanwhile.
            return false;
        }
    }

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
            S3Log.StaleUpload(_logger, dryRun ? "Would abort" : "Aborting", upload.UploadId, upload.Key, Location, upload.Started);
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
                Prefix = FullKey(keyPrefix),
                KeyMarker = keyMarker,
                UploadIdMarker = uploadIdMarker,
            };
            var page = await Policy.ExecuteAsync(
                "s3-list-uploads",
                ct => CallAsync("LIST UPLOADS", null, c => _client.ListMultipartUploadsAsync(request, c), ct),
                cancellationToken).ConfigureAwait(false);
            foreach (var upload in page.MultipartUploads ?? [])
            {
                if (upload?.Key is { } fullKey && upload.UploadId is { } uploadId && upload.Initiated is { } initiated
                    && fullKey.StartsWith(_keyPrefix, StringComparison.Ordinal))
                {
                    yield return new PendingUpload(fullKey[_keyPrefix.Length..], uploadId, ToOffset(initiated));
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
        return AbortUploadAsync(upload.Key, upload.UploadId, cancellationToken);
    }

    /// <summary>Releases the SDK client and its connections.</summary>
    public void Dispose()
    {
        _client.Dispose();
        PartSlots.Dispose();
    }

    /// <summary>The key in the bucket.</summary>
    internal string FullKey(string key) => _keyPrefix + key;

    /// <summary>Checks a key, and that with the store's prefix it stays within S3's key length.</summary>
    /// <exception cref="ArgumentException">The key is not valid, or too long with the prefix.</exception>
    internal void ValidateKey(string key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        ObjectKey.Validate(key, paramName);

        // Some servers answer an over-long key before reading the body and then misread that body as the next request.
        var bytes = Encoding.UTF8.GetByteCount(_keyPrefix) + Encoding.UTF8.GetByteCount(key);
        if (bytes > ObjectKey.MaxUtf8Bytes)
        {
            throw new ArgumentException(
                $"The key is {bytes - Encoding.UTF8.GetByteCount(_keyPrefix)} bytes of UTF-8; with the prefix '{Prefix}/' of {Location} it is {bytes}, more than S3's limit of {ObjectKey.MaxUtf8Bytes}.",
                paramName);
        }
    }

    /// <summary>Runs one SDK request, mapping its failure to the store's exceptions.</summary>
    internal async Task<T> CallAsync<T>(string operation, string? key, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken, string preconditionReason = "it already exists")
    {
        try
        {
            return await request(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (_errors.Map(e, operation, key, preconditionReason, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// Refuses create-only content one PUT cannot carry. Create-only writes are never sent as multipart uploads: RadosGW 16
    /// accepts <c>If-None-Match: *</c> on CompleteMultipartUpload twice for one key, and a look-up before completing is not
    /// atomic, so only a single PUT makes "exactly one writer wins" hold on every server.
    /// </summary>
    internal void ThrowIfOverSinglePut(string key, long length)
    {
        if (length > MaxSinglePutBytes)
        {
            throw new CheckpointStorageException(
                $"The create-only write of '{key}' in {Location} is {length} bytes, more than the {MaxSinglePutBytes} bytes (5 GiB) one S3 PUT carries; create-only writes are never sent as multipart uploads, so it was refused.");
        }
    }

    /// <summary>Sends one PUT of <paramref name="length"/> bytes of <paramref name="body"/> from its position.</summary>
    internal async Task<ObjectInfo> PutObjectAsync(string key, Stream body, long length, bool createOnly, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = Bucket,
            Key = FullKey(key),
            InputStream = body,
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            UseChunkEncoding = !Generic,
            IfNoneMatch = createOnly ? "*" : null,
        };
        request.Headers.ContentLength = length;
        var response = await CallAsync("PUT", key, ct => _client.PutObjectAsync(request, ct), cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(response.ETag)
            ? await StatAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(Location, key)
            : new ObjectInfo(key, length, _time.GetUtcNow(), response.ETag);
    }

    /// <summary>Aborts a multipart upload; an upload that is already gone counts as aborted.</summary>
    internal async Task AbortUploadAsync(string key, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            await Policy.ExecuteAsync(
                "s3-abort-upload",
                ct => CallAsync(
                    "ABORT UPLOAD",
                    key,
                    c => _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = FullKey(key), UploadId = uploadId }, c),
                    ct),
                cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStorageException e) when (e.InnerException is AmazonServiceException { ErrorCode: "NoSuchUpload" })
        {
        }
    }

    /// <summary>Converts an SDK time (UTC or local; unspecified counts as UTC) to an offset.</summary>
    internal static DateTimeOffset ToOffset(DateTime? time) => time switch
    {
        null => DateTimeOffset.UnixEpoch,
        { Kind: DateTimeKind.Local } local => new DateTimeOffset(local.ToUniversalTime(), TimeSpan.Zero),
        { } other => new DateTimeOffset(DateTime.SpecifyKind(other, DateTimeKind.Utc), TimeSpan.Zero),
    };

    /// <summary>The object's total length from a ranged answer's <c>Content-Range: bytes a-b/total</c>.</summary>
    internal static long? TotalLength(GetObjectResponse response)
    {
        var range = response.ContentRange;
        var slash = range?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(range.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total) ? total : null;
    }

    private static (string Bucket, string Prefix) ParseLocation(Uri location)
    {
        // The one location parser of the core, on the string the URI was made of: Uri itself would lower-case the bucket
        // and silently rewrite dot segments, so "MyBucket" or "a/../b" would become another bucket or prefix.
        var parsed = CheckpointLocation.FromUri(location);
        if (parsed.Scheme != "s3")
        {
            throw new ArgumentException($"'{location.OriginalString}' is not an S3 location (expected s3://bucket or s3://bucket/prefix).", nameof(location));
        }

        if (BucketNameProblem(parsed.Bucket) is { } bucketProblem)
        {
            throw new ArgumentException($"'{parsed.Bucket}' in '{location.OriginalString}' is not a valid S3 bucket name: {bucketProblem}.", nameof(location));
        }

        return (parsed.Bucket, parsed.Prefix);
    }

    /// <summary>Why <paramref name="bucket"/> breaks S3's naming rules, or <see langword="null"/> when it keeps them.</summary>
    private static string? BucketNameProblem(string bucket)
    {
        if (bucket.Length is < 3 or > 63)
        {
            return $"it has {bucket.Length} characters, not 3 to 63";
        }

        if (bucket.FirstOrDefault(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')) is var bad and not '\0')
        {
            return $"it contains '{bad}' (only lowercase letters, digits, '.' and '-' are allowed)";
        }

        if (!char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
        {
            return "it must begin and end with a letter or a digit";
        }

        if (bucket.Contains("..", StringComparison.Ordinal))
        {
            return "it contains two adjacent periods";
        }

        return System.Net.IPAddress.TryParse(bucket, out _) && bucket.Count(c => c == '.') == 3 ? "it is formatted as an IP address" : null;
    }

    /// <summary>A page's objects and rolled-up folders, merged into ordinal order, with the store's prefix taken off.</summary>
    private IEnumerable<StoreEntry> Merge(ListObjectsV2Response page)
    {
        var objects = page.S3Objects ?? [];
        var folders = page.CommonPrefixes ?? [];
        int o = 0, f = 0;
        while (o < objects.Count || f < folders.Count)
        {
            var takeFolder = o == objects.Count
                || (f < folders.Count && string.CompareOrdinal(folders[f], objects[o].Key) < 0);
            if (takeFolder)
            {
                var folder = folders[f++];
                if (folder is not null && folder.StartsWith(_keyPrefix, StringComparison.Ordinal))
                {
                    yield return new StoreEntry(folder[_keyPrefix.Length..], true, null);
                }

                continue;
            }

            var item = objects[o++];
            if (item?.Key is not { } full || !full.StartsWith(_keyPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var key = full[_keyPrefix.Length..];
            if (ObjectKey.Check(key) is not null)
            {
                // An object no key can name (e.g. a "folder marker" ending in '/') cannot be read through the store either.
                continue;
            }

            yield return new StoreEntry(key, false, new ObjectInfo(key, item.Size ?? 0, ToOffset(item.LastModified), item.ETag ?? string.Empty));
        }
    }
}
