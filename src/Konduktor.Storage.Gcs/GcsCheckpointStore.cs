using System.Globalization;

using Google.Apis.Auth.OAuth2;
using Google.Cloud.Storage.V1;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// A store in a Google Cloud Storage bucket for a location <c>gs://bucket/prefix</c>: every key is stored as <c>{prefix}/{key}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Writes are resumable upload sessions sent in chunks of <see cref="GcsStoreOptions.PartSizeMiB"/> while the caller writes
/// (at most two chunks in memory, pooled). A chunk that fails is not resent from the start: the store asks the session how many
/// bytes the server holds (<c>Content-Range: bytes */*</c>) and continues from there. The final chunk carries the whole object's
/// CRC32C, which the server checks. Create-only writes send <c>ifGenerationMatch=0</c>.
/// </para>
/// <para>
/// Reads are ranged reads of one generation, <see cref="GcsStoreOptions.Concurrency"/> chunks at once, delivered in order; a read
/// of a whole object is checked against the object's CRC32C. The client library's own retries are off: the store retries the
/// requests of a transfer through its <see cref="StoreRetryPolicy"/> and throws <see cref="TransientStoreException"/> for other
/// failures worth retrying; wrap it in a <see cref="ResilientCheckpointStore"/> (as <c>CheckpointManager</c> does) for whole operations.
/// </para>
/// <para>
/// GCS cannot list unfinished resumable sessions, so this store does not implement <see cref="IPendingUploadStore"/>: an
/// abandoned session holds no object and GCS discards it after a week.
/// </para>
/// </remarks>
public sealed class GcsCheckpointStore : ICheckpointStore, IDisposable
{
    private readonly GcsTransport _transport;
    private readonly BucketPath _path;

    /// <summary>Creates a store for a <c>gs://bucket/prefix</c> location.</summary>
    /// <param name="location">The location: <c>gs://bucket</c> or <c>gs://bucket/prefix</c>.</param>
    /// <param name="options">Endpoint, transfer and credential settings; copied. Default: all defaults.</param>
    /// <param name="credential">Credentials to use; <see langword="null"/> to find them (the configured file, ADC's files, gcloud's legacy file, the metadata server).</param>
    /// <param name="resilience">How the requests of transfers are retried; default: the default <see cref="ResilienceOptions"/>.</param>
    /// <param name="logger">Where the store logs; none by default.</param>
    /// <param name="timeProvider">The clock; the system clock by default.</param>
    /// <exception cref="ArgumentException">The location is not exactly a <c>gs://</c> URI with a bucket (parsed like <see cref="CheckpointLocation.FromUri"/>: no query, fragment, empty or dot segments), or its prefix is not valid.</exception>
    /// <exception cref="CheckpointConfigurationException">An option is invalid, or <c>STORAGE_EMULATOR_HOST</c> is not a host and port.</exception>
    /// <exception cref="CredentialsException">A credentials file that was named does not exist or cannot be used.</exception>
    public GcsCheckpointStore(
        Uri location,
        GcsStoreOptions? options = null,
        GoogleCredential? credential = null,
        ResilienceOptions? resilience = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
        : this(
            location,
            options,
            credential,
            resilience is null ? null : new StoreRetryPolicy(resilience, logger, timeProvider),
            logger,
            timeProvider,
            Environment.GetEnvironmentVariable)
    {
    }

    internal GcsCheckpointStore(
        Uri location,
        GcsStoreOptions? options,
        GoogleCredential? credential,
        StoreRetryPolicy? retryPolicy,
        ILogger? logger,
        TimeProvider? timeProvider,
        Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(environment);
        _path = BucketPath.Parse(location, "gs", "GCS");
        var copy = (options ?? new GcsStoreOptions()).Clone();
        GcsStoreOptionsValidator.ThrowIfInvalid(copy);
        var storeLogger = logger ?? NullLogger.Instance;
        var time = timeProvider ?? TimeProvider.System;
        var policy = retryPolicy ?? new StoreRetryPolicy(new ResilienceOptions(), logger, timeProvider);
        var connection = GcsConnection.Resolve(copy, environment);

        var builder = new StorageClientBuilder { BaseUri = connection.BaseUri.ToString(), QuotaProject = copy.ProjectId };
        if (!connection.Authenticated)
        {
            builder.UnauthenticatedAccess = true;
            CredentialSource = $"none: {connection.Source} is a plain-http endpoint (an emulator or test server), used without credentials";
        }
        else if (credential is not null)
        {
            builder.GoogleCredential = credential;
            CredentialSource = "credentials given to the store in code";
        }
        else
        {
            (builder.GoogleCredential, CredentialSource) = GcsCredentialResolver.Resolve(copy, environment);
        }

        var client = builder.Build();

        // One retry layer, the store's policy: the HTTP layer must not retry (or follow) anything on its own.
        client.Service.HttpClient.MessageHandler.NumTries = 1;
        client.Service.HttpClient.MessageHandler.FollowRedirect = false;
        var errors = new GcsErrorMapper(Location, Bucket, connection.BaseUri, CredentialSource, time);
        _transport = new GcsTransport(client, _path, copy, connection, policy, errors, storeLogger, time);
        Capabilities = new StoreCapabilities { CreateOnly = true, ConditionalDelete = true, ServerChecksumAlgorithm = "crc32c", ConcurrentFiles = _transport.ConcurrentFiles };
        Log.GcsStoreCreated(storeLogger, Location, connection.BaseUri, connection.Source, copy.ConfiguredPartSize.MiB, copy.Concurrency, CredentialSource);
        foreach (var (former, current) in copy.FormerNamesInUse())
        {
            Log.GcsFormerOptionName(storeLogger, GcsStoreOptionsValidator.Key(former), GcsStoreOptionsValidator.Key(current));
        }
    }

    /// <inheritdoc />
    public Uri Location => _path.Location;

    /// <inheritdoc />
    /// <remarks>
    /// Create-only writes are atomic (<c>ifGenerationMatch=0</c>); deletes carry the object's generation, which is its
    /// <see cref="ObjectInfo.ETag"/>; <see cref="ObjectInfo.ServerChecksum"/> is GCS's CRC32C (<c>crc32c:</c> and base64).
    /// </remarks>
    public StoreCapabilities Capabilities { get; }

    /// <summary>The bucket.</summary>
    public string Bucket => _path.Bucket;

    /// <summary>The key prefix inside the bucket, without leading or trailing '/' (may be empty).</summary>
    public string Prefix => _path.Prefix;

    /// <summary>Where the credentials came from (never a secret), as logged at construction.</summary>
    public string CredentialSource { get; }

    /// <summary>What the store's writers and readers use of it.</summary>
    internal GcsTransport Transport => _transport;

    private GcsStoreOptions Options => _transport.Options;

    /// <inheritdoc />
    /// <remarks>The content is streamed into a resumable upload (see the class remarks); its chunks are retried and resumed.</remarks>
    /// <exception cref="PreconditionFailedException"><see cref="ObjectWriteOptions.CreateOnly"/> was set and the key exists.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="RetriesExhaustedException">A request of the upload kept failing.</exception>
    public Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        StreamedPut.PutAsync(this, key, content, options, Math.Min(Options.ChunkSizeBytes, 1024 * 1024), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Nothing is sent until a chunk is full or the writer completes; a full chunk goes up while the caller fills the next (a write
    /// waits while one is in flight). Disposing the writer without completing cancels the session.
    /// </remarks>
    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<ObjectWriteStream>(new GcsObjectWriter(_transport, key, options?.CreateOnly ?? false));
    }

    /// <inheritdoc />
    /// <remarks>
    /// The object's generation is looked up first and every ranged read is pinned to it, so a reader never sees a mix of two
    /// versions. A read of the whole object fails with <see cref="CheckpointStorageException"/> at its end when the bytes do not
    /// match the object's CRC32C.
    /// </remarks>
    /// <exception cref="PreconditionFailedException">While a large object was read, it was replaced.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
        range?.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        for (var attempt = 1; ; attempt++)
        {
            var obj = await _transport.GetObjectAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(Location, key);
            var size = (long)(obj.Size ?? 0);
            var offset = range?.Offset ?? 0;
            var end = range?.Length is { } length ? Math.Min(size, offset + length) : size;
            if (offset >= end)
            {
                return Stream.Null;
            }

            var generation = obj.Generation ?? 0;
            var firstLength = (int)Math.Min(end - offset, TransferSizing.RangeSize(Options.ChunkSizeBytes, Options.Concurrency, end - offset));
            var first = await _transport.SendGetAsync(key, generation, offset, firstLength, cancellationToken).ConfigureAwait(false);
            if (first is null && attempt < 3)
            {
                // Replaced between the lookup and the read: look up the new generation.
                continue;
            }

            var expected = offset == 0 && end == size ? obj.Crc32c : null;
            return first is null
                ? throw new PreconditionFailedException(Location, key, "it kept being replaced while being opened")
                : new GcsReadStream(_transport, key, generation, first, offset, offset + firstLength, end, expected);
        }
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return await _transport.StatAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Pages hold at most 1000 entries (GCS's limit), whatever <see cref="ListOptions.PageSize"/> asks.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListOptions.PageSize"/> is less than 1.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">A page request failed in a way worth retrying.</exception>
    public IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        BucketListing.ListAsync(prefix, options, (delimiter, pageSize, token, ct) => ListPageAsync(prefix, delimiter, pageSize, token, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// The delete always carries a generation (<c>ifGenerationMatch</c>): <paramref name="ifMatch"/> when given, else the one just
    /// looked up, so a retried delete can never remove a newer object written meanwhile.
    /// </remarks>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        _path.ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        long generation;
        if (ifMatch is null)
        {
            if (await _transport.GetObjectAsync(key, cancellationToken).ConfigureAwait(false) is not { Generation: { } current })
            {
                return false;
            }

            generation = current;
        }
        else if (!long.TryParse(ifMatch, NumberStyles.None, CultureInfo.InvariantCulture, out generation))
        {
            // Not a generation this store handed out: it cannot match, but a missing object still reports false.
            return await StatAsync(key, cancellationToken).ConfigureAwait(false) is null
                ? false
                : throw new PreconditionFailedException(Location, key, $"expected version {ifMatch}, which is not a GCS generation");
        }

        var request = _transport.Service.Objects.Delete(Bucket, _path.FullKey(key));
        request.IfGenerationMatch = generation;
        try
        {
            _ = await _transport.CallAsync("DELETE", key, request.ExecuteAsync, cancellationToken, $"expected version {ifMatch ?? generation.ToString(CultureInfo.InvariantCulture)}, found another").ConfigureAwait(false);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
        catch (PreconditionFailedException e)
        {
            if (await StatAsync(key, cancellationToken).ConfigureAwait(false) is null)
            {
                // Deleted by someone else meanwhile.
                return false;
            }

            // Replaced between the lookup and the delete: the caller's retry looks up the new generation.
            throw ifMatch is null ? _transport.Errors.Transient("DELETE", key, "the object was replaced while being deleted", e) : e;
        }
    }

    /// <summary>Releases the client and its connections.</summary>
    public void Dispose() => _transport.Dispose();

    private async Task<(IEnumerable<StoreEntry> Entries, string? Next)> ListPageAsync(
        string prefix, string? delimiter, int pageSize, string? token, CancellationToken cancellationToken)
    {
        var request = _transport.Service.Objects.List(Bucket);
        request.Prefix = _path.FullKey(prefix);
        request.Delimiter = delimiter;
        request.MaxResults = pageSize;
        request.PageToken = token;
        var page = await _transport.CallAsync("LIST", null, request.ExecuteAsync, cancellationToken).ConfigureAwait(false);
        return (BucketListing.Merge(_path, page.Items ?? [], page.Prefixes ?? [], o => o.Name, _transport.ToInfo), page.NextPageToken);
    }
}
