using System.Net;
using System.Runtime.CompilerServices;

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ByteRange = Konduktor.Storage.Stores.ByteRange;

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
public sealed partial class S3CheckpointStore : ICheckpointStore, IPendingUploadStore, IDisposable
{
    private readonly S3Transport _transport;
    private readonly BucketPath _path;
    private readonly ILogger _logger;

    /// <summary>Creates a store for an <c>s3://bucket/prefix</c> location.</summary>
    /// <param name="location">The location: <c>s3://bucket</c> or <c>s3://bucket/prefix</c>.</param>
    /// <param name="options">Endpoint, compatibility, transfer and credential settings; copied. Default: all defaults.</param>
    /// <param name="credentials">Credentials to sign with; <see langword="null"/> to find them (profile options, then the SDK's default chain).</param>
    /// <param name="resilience">How the parts of transfers are retried; default: the default <see cref="ResilienceOptions"/>.</param>
    /// <param name="logger">Where the store logs; none by default.</param>
    /// <param name="timeProvider">The clock; the system clock by default.</param>
    /// <exception cref="ArgumentException">The location is not exactly an <c>s3://</c> URI with a bucket (parsed like <see cref="CheckpointLocation.FromUri"/>: no query, fragment, empty or dot segments), or its bucket or prefix is not valid.</exception>
    /// <exception cref="CheckpointConfigurationException">An option is invalid, or no region can be found for AWS.</exception>
    /// <exception cref="CredentialsException">No credentials were found, or the configured profile or credentials file does not exist.</exception>
    public S3CheckpointStore(
        Uri location,
        S3StoreOptions? options = null,
        AWSCredentials? credentials = null,
        ResilienceOptions? resilience = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
        : this(
            location,
            options,
            credentials,
            resilience is null ? null : new StoreRetryPolicy(resilience, logger, timeProvider),
            logger,
            timeProvider,
            Environment.GetEnvironmentVariable)
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
        _path = BucketPath.Parse(location, "s3", "S3", S3BucketName.Problem);
        var copy = (options ?? new S3StoreOptions()).Clone();
        S3StoreOptionsValidator.ThrowIfInvalid(copy);
        _logger = logger ?? NullLogger.Instance;
        var time = timeProvider ?? TimeProvider.System;
        var policy = retryPolicy ?? new StoreRetryPolicy(new ResilienceOptions(), logger, timeProvider);
        var connection = S3Connection.Resolve(copy, environment);
        var (resolved, source) = S3CredentialResolver.Resolve(copy, credentials, connection.Config, environment);
        CredentialSource = source;
        var errors = new S3ErrorMapper(Location, Bucket, connection.Endpoint, source, time);
        configureClient?.Invoke(connection.Config);
        _transport = new S3Transport(new AmazonS3Client(resolved, connection.Config), _path, copy, policy, errors, connection.Generic, _logger, time);
        Capabilities = new StoreCapabilities
        {
            CreateOnly = true,
            ConditionalDelete = connection.ConditionalDelete,
            ServerChecksumAlgorithm = null,
            ConcurrentFiles = _transport.ConcurrentFiles,
        };
        Log.S3StoreCreated(_logger, Location, connection.Endpoint, connection.Region, connection.Addressing,
            connection.Generic ? "generic" : "aws", connection.ConditionalDelete, source);
        if (copy.ConfiguredEndpoint.Name != nameof(S3StoreOptions.Endpoint))
        {
            Log.S3FormerOptionName(_logger, $"{S3StoreOptions.SectionName}:ServiceUrl", $"{S3StoreOptions.SectionName}:Endpoint");
        }
    }

    /// <inheritdoc />
    public Uri Location => _path.Location;

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
    public string Bucket => _path.Bucket;

    /// <summary>The key prefix inside the bucket, without leading or trailing '/' (may be empty).</summary>
    public string Prefix => _path.Prefix;

    /// <summary>Where the credentials came from (never the secret), as logged at construction.</summary>
    public string CredentialSource { get; }

    private S3StoreOptions Options => _transport.Options;

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
        _path.ValidateKey(key);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        var createOnly = options?.CreateOnly ?? false;
        if (content.CanSeek && createOnly)
        {
            _transport.ThrowIfOverSinglePut(key, content.Length - content.Position);
        }

        if (content.CanSeek && (createOnly || content.Length - content.Position <= Options.SinglePutThresholdBytes))
        {
            var length = Math.Max(0, content.Length - content.Position);
            return await _transport.PutObjectAsync(key, content, length, createOnly, cancellationToken).ConfigureAwait(false);
        }

        return await StreamedPut.PutAsync(this, key, content, options, Math.Min(Options.PartSizeBytes, 1024 * 1024), cancellationToken)
            .ConfigureAwait(false);
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
        _path.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<ObjectWriteStream>(new S3ObjectWriter(_transport, key, options?.CreateOnly ?? false));
    }

    /// <inheritdoc />
    /// <remarks>
    /// One ranged GET of up to 1 MiB is sent at once; when the object (or range) is longer, the rest is fetched as parallel
    /// ranged GETs of the same version, each retried, ahead of the reader: <see cref="S3StoreOptions.Concurrency"/> parts shared by the
    /// store's open reads, at least two each.
    /// </remarks>
    /// <exception cref="PreconditionFailedException">While a large object was read, it was replaced.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
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

        var firstLength = Math.Min(wanted ?? long.MaxValue, Math.Min(Options.PartSizeBytes, TransferSizing.FirstRangeBytes));
        GetObjectResponse first;
        try
        {
            first = await _transport.CallAsync(
                "GET",
                key,
                ct => _transport.Client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = _path.FullKey(key), ByteRange = new Amazon.S3.Model.ByteRange(offset, offset + firstLength - 1) }, ct),
                cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointStorageException e) when (e.InnerException is AmazonServiceException { StatusCode: HttpStatusCode.RequestedRangeNotSatisfiable })
        {
            // The object exists (a missing one is 404) and is empty, or the offset is at or past its end.
            return Stream.Null;
        }

        var total = S3Transport.TotalLength(first) ?? (offset + first.ContentLength);
        var end = Math.Min(total, wanted is { } w ? offset + w : long.MaxValue);
        var firstEnd = offset + first.ContentLength;
        if (firstEnd >= end)
        {
            return first.ResponseStream;
        }

        return new S3ParallelReadStream(_transport, key, first, firstEnd, end);
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return _transport.StatAsync(key, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Pages hold at most 1000 entries (S3's limit), whatever <see cref="ListOptions.PageSize"/> asks.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListOptions.PageSize"/> is less than 1.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">A page request failed in a way worth retrying.</exception>
    public IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        BucketListing.ListAsync(prefix, options, (delimiter, pageSize, token, ct) => ListPageAsync(prefix, delimiter, pageSize, token, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// S3 deletes answer the same whether or not the object existed, so the object is looked up first to tell the two apart.
    /// With <paramref name="ifMatch"/> the DELETE itself carries <c>If-Match</c>, so a concurrent replacement is never deleted.
    /// </remarks>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
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
            _ = await _transport.CallAsync(
                "DELETE",
                key,
                ct => _transport.Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = _path.FullKey(key), IfMatch = ifMatch }, ct),
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

    /// <summary>Releases the SDK client and its connections.</summary>
    public void Dispose() => _transport.Dispose();

    private async Task<(IEnumerable<StoreEntry> Entries, string? Next)> ListPageAsync(
        string prefix, string? delimiter, int pageSize, string? token, CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request
        {
            BucketName = Bucket,
            Prefix = _path.FullKey(prefix),
            Delimiter = delimiter,
            MaxKeys = pageSize,
            ContinuationToken = token,
        };
        var page = await _transport.CallAsync("LIST", prefix.Length == 0 ? null : prefix, ct => _transport.Client.ListObjectsV2Async(request, ct), cancellationToken).ConfigureAwait(false);
        var entries = BucketListing.Merge(
            _path,
            page.S3Objects ?? [],
            page.CommonPrefixes ?? [],
            o => o.Key,
            (key, o) => new ObjectInfo(key, o.Size ?? 0, S3Transport.ToOffset(o.LastModified), o.ETag ?? string.Empty));
        return (entries, page.IsTruncated == true ? page.NextContinuationToken : null);
    }
}
