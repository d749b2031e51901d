using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;

using Google.Apis.Auth.OAuth2;
using Google.Apis.Storage.v1;
using Google.Cloud.Storage.V1;

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// A store in a Google Cloud Storage bucket for a location <c>gs://bucket/prefix</c>: every key is stored as <c>{prefix}/{key}</c>.
/// </summary>
/// <remarks>
/// <para>
/// Writes are resumable upload sessions sent in chunks of <see cref="GcsStoreOptions.ChunkSizeMiB"/> while the caller writes
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
    private readonly StorageClient _client;
    private readonly GcsConnection _connection;
    private readonly string _keyPrefix;

    /// <summary>Creates a store for a <c>gs://bucket/prefix</c> location.</summary>
    /// <param name="location">The location: <c>gs://bucket</c> or <c>gs://bucket/prefix</c>.</param>
    /// <param name="options">Endpoint, transfer and credential settings; copied. Default: all defaults.</param>
    /// <param name="credential">Credentials to use; <see langword="null"/> to find them (the configured file, ADC's files, gcloud's legacy file, the metadata server).</param>
    /// <param name="retryPolicy">Retries the requests of transfers; default: a policy with default <see cref="ResilienceOptions"/>.</param>
    /// <param name="logger">Where the store logs; none by default.</param>
    /// <param name="timeProvider">The clock; the system clock by default.</param>
    /// <exception cref="ArgumentException">The location is not exactly a <c>gs://</c> URI with a bucket (parsed like <see cref="CheckpointLocation.FromUri"/>: no query, fragment, empty or dot segments), or its prefix is not valid.</exception>
    /// <exception cref="CheckpointConfigurationException">An option is invalid, or <c>STORAGE_EMULATOR_HOST</c> is not a host and port.</exception>
    /// <exception cref="CredentialsException">A credentials file that was named does not exist or cannot be used.</exception>
    public GcsCheckpointStore(
        Uri location,
        GcsStoreOptions? options = null,
        GoogleCredential? credential = null,
        StoreRetryPolicy? retryPolicy = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null)
        : this(location, options, credential, retryPolicy, logger, timeProvider, Environment.GetEnvironmentVariable)
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
        (Bucket, Prefix) = ParseLocation(location);
        Options = (options ?? new GcsStoreOptions()).Clone();
        GcsStoreOptionsValidator.ThrowIfInvalid(Options);

        // Kept: the chunks read ahead, and a filling and a sending chunk for each of the files the manager moves at once (four).
        ChunkBuffers = ArrayPool<byte>.Create(Options.ChunkSizeBytes, Options.Concurrency + 8);
        ReadAhead = new ReadAheadBudget(Options.Concurrency);
        _keyPrefix = Prefix.Length == 0 ? string.Empty : Prefix + "/";
        Location = new Uri($"gs://{Bucket}/{string.Join('/', Prefix.Split('/').Select(Uri.EscapeDataString))}{(Prefix.Length == 0 ? string.Empty : "/")}");
        Logger = logger ?? NullLogger.Instance;
        Time = timeProvider ?? TimeProvider.System;
        Policy = retryPolicy ?? new StoreRetryPolicy(new ResilienceOptions(), logger, timeProvider);
        _connection = GcsConnection.Resolve(Options, environment);

        var builder = new StorageClientBuilder { BaseUri = _connection.BaseUri.ToString(), QuotaProject = Options.ProjectId };
        if (!_connection.Authenticated)
        {
            builder.UnauthenticatedAccess = true;
            CredentialSource = $"none: {_connection.Source} is a plain-http endpoint (an emulator or test server), used without credentials";
        }
        else if (credential is not null)
        {
            builder.GoogleCredential = credential;
            CredentialSource = "credentials given to the store in code";
        }
        else
        {
            (builder.GoogleCredential, CredentialSource) = GcsCredentialResolver.Resolve(Options, environment);
        }

        _client = builder.Build();

        // One retry layer, the store's policy: the HTTP layer must not retry (or follow) anything on its own.
        _client.Service.HttpClient.MessageHandler.NumTries = 1;
        _client.Service.HttpClient.MessageHandler.FollowRedirect = false;
        Errors = new GcsErrorMapper(Location, Bucket, _connection.BaseUri, CredentialSource, Time);
        Capabilities = new StoreCapabilities { CreateOnly = true, ConditionalDelete = true, ServerChecksumAlgorithm = "crc32c" };
        GcsLog.Created(Logger, Location, _connection.BaseUri, _connection.Source, Options.ChunkSizeMiB, Options.Concurrency, CredentialSource);
    }

    /// <inheritdoc />
    public Uri Location { get; }

    /// <inheritdoc />
    /// <remarks>
    /// Create-only writes are atomic (<c>ifGenerationMatch=0</c>); deletes carry the object's generation, which is its
    /// <see cref="ObjectInfo.ETag"/>; <see cref="ObjectInfo.ServerChecksum"/> is GCS's CRC32C (<c>crc32c:</c> and base64).
    /// </remarks>
    public StoreCapabilities Capabilities { get; }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>The key prefix inside the bucket, without leading or trailing '/' (may be empty).</summary>
    public string Prefix { get; }

    /// <summary>Where the credentials came from (never a secret), as logged at construction.</summary>
    public string CredentialSource { get; }

    internal GcsStoreOptions Options { get; }

    /// <summary>
    /// Chunk buffers for this store's transfers. Not <see cref="ArrayPool{T}.Shared"/>: its per-thread caches strand chunk-sized
    /// arrays on whichever thread-pool thread returned them, so new ones get allocated and memory grows with the thread count.
    /// </summary>
    internal ArrayPool<byte> ChunkBuffers { get; }

    /// <summary>The read-ahead of this store's parallel reads: <see cref="GcsStoreOptions.Concurrency"/> chunks shared by all of them.</summary>
    internal ReadAheadBudget ReadAhead { get; }

    internal StoreRetryPolicy Policy { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal GcsErrorMapper Errors { get; }

    internal HttpClient Http => _client.Service.HttpClient;

    internal StorageService Service => _client.Service;

    internal Uri BaseUri => _connection.BaseUri;

    internal Uri UploadBaseUri => _connection.UploadBaseUri;

    /// <inheritdoc />
    /// <remarks>The content is streamed into a resumable upload (see the class remarks); its chunks are retried and resumed.</remarks>
    /// <exception cref="PreconditionFailedException"><see cref="ObjectWriteOptions.CreateOnly"/> was set and the key exists.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="RetriesExhaustedException">A request of the upload kept failing.</exception>
    public async Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();
        var writer = new GcsObjectWriter(this, key, options?.CreateOnly ?? false);
        await using (writer.ConfigureAwait(false))
        {
            await content.CopyToAsync(writer, Math.Min(Options.ChunkSizeBytes, 1024 * 1024), cancellationToken).ConfigureAwait(false);
            return await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Nothing is sent until a chunk is full or the writer completes; a full chunk goes up while the caller fills the next (a write
    /// waits while one is in flight). Disposing the writer without completing cancels the session.
    /// </remarks>
    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<ObjectWriteStream>(new GcsObjectWriter(this, key, options?.CreateOnly ?? false));
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
        ValidateKey(key);
        range?.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        for (var attempt = 1; ; attempt++)
        {
            var obj = await GetObjectAsync(key, cancellationToken).ConfigureAwait(false) ?? throw new ObjectNotFoundException(Location, key);
            var size = (long)(obj.Size ?? 0);
            var offset = range?.Offset ?? 0;
            var end = range?.Length is { } length ? Math.Min(size, offset + length) : size;
            if (offset >= end)
            {
                return Stream.Null;
            }

            var generation = obj.Generation ?? 0;
            var firstLength = (int)Math.Min(end - offset, Options.ChunkSizeBytes);
            var first = await SendGetAsync(key, generation, offset, firstLength, cancellationToken).ConfigureAwait(false);
            if (first is null && attempt < 3)
            {
                // Replaced between the lookup and the read: look up the new generation.
                continue;
            }

            var expected = offset == 0 && end == size ? obj.Crc32c : null;
            return first is null
                ? throw new PreconditionFailedException(Location, key, "it kept being replaced while being opened")
                : new GcsReadStream(this, key, generation, first, offset, offset + firstLength, end, expected);
        }
    }

    /// <inheritdoc />
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        return await GetObjectAsync(key, cancellationToken).ConfigureAwait(false) is { } obj ? ToInfo(key, obj) : null;
    }

    /// <inheritdoc />
    /// <remarks>Pages hold at most 1000 entries (GCS's limit), whatever <see cref="ListOptions.PageSize"/> asks.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ListOptions.PageSize"/> is less than 1.</exception>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">A page request failed in a way worth retrying.</exception>
    public async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        var pageSize = options?.PageSize ?? 1000;
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1, "options.PageSize");
        var delimiter = string.IsNullOrEmpty(options?.Delimiter) ? null : options.Delimiter;
        string? token = null;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var request = _client.Service.Objects.List(Bucket);
            request.Prefix = FullKey(prefix);
            request.Delimiter = delimiter;
            request.MaxResults = Math.Min(pageSize, 1000);
            request.PageToken = token;
            var page = await CallAsync("LIST", null, request.ExecuteAsync, cancellationToken).ConfigureAwait(false);
            foreach (var entry in Merge(page.Items ?? [], page.Prefixes ?? []))
            {
                yield return entry;
            }

            token = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(token));
    }

    /// <inheritdoc />
    /// <remarks>
    /// The delete always carries a generation (<c>ifGenerationMatch</c>): <paramref name="ifMatch"/> when given, else the one just
    /// looked up, so a retried delete can never remove a newer object written meanwhile.
    /// </remarks>
    /// <exception cref="StoreAccessDeniedException">The credentials were refused.</exception>
    /// <exception cref="TransientStoreException">The request failed in a way worth retrying.</exception>
    public async Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        long generation;
        if (ifMatch is null)
        {
            if (await GetObjectAsync(key, cancellationToken).ConfigureAwait(false) is not { Generation: { } current })
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

        var request = _client.Service.Objects.Delete(Bucket, FullKey(key));
        request.IfGenerationMatch = generation;
        try
        {
            _ = await CallAsync("DELETE", key, request.ExecuteAsync, cancellationToken, $"expected version {ifMatch ?? generation.ToString(CultureInfo.InvariantCulture)}, found another").ConfigureAwait(false);
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
            throw ifMatch is null ? Errors.Transient("DELETE", key, "the object was replaced while being deleted", e) : e;
        }
    }

    /// <summary>Releases the client and its connections.</summary>
    public void Dispose() => _client.Dispose();

    /// <summary>The object name in the bucket.</summary>
    internal string FullKey(string key) => _keyPrefix + key;

    /// <summary>Checks a key, and that with the store's prefix it stays within GCS's name length.</summary>
    /// <exception cref="ArgumentException">The key is not valid, or too long with the prefix.</exception>
    internal void ValidateKey(string key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        ObjectKey.Validate(key, paramName);
        var bytes = Encoding.UTF8.GetByteCount(_keyPrefix) + Encoding.UTF8.GetByteCount(key);
        if (bytes > ObjectKey.MaxUtf8Bytes)
        {
            throw new ArgumentException(
                $"The key is {bytes - Encoding.UTF8.GetByteCount(_keyPrefix)} bytes of UTF-8; with the prefix '{Prefix}/' of {Location} it is {bytes}, more than GCS's limit of {ObjectKey.MaxUtf8Bytes}.",
                paramName);
        }
    }

    /// <summary>Runs one client request, mapping its failure to the store's exceptions.</summary>
    internal async Task<T> CallAsync<T>(string operation, string? key, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken, string preconditionReason = "it already exists")
    {
        try
        {
            return await request(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Errors.Map(e, operation, key, preconditionReason, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>Sends one request the store builds itself; an unsuccessful answer becomes the store's exception unless <paramref name="accept"/> takes it.</summary>
    internal async Task<HttpResponseMessage> SendAsync(
        string operation, string? key, Func<HttpRequestMessage> build, Func<HttpStatusCode, bool> accept, CancellationToken cancellationToken, string preconditionReason = "it already exists")
    {
        HttpResponseMessage response;
        try
        {
            using var request = build();
            response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Errors.Map(e, operation, key, preconditionReason, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        if (response.IsSuccessStatusCode || accept(response.StatusCode))
        {
            return response;
        }

        using (response)
        {
            throw await Errors.FromResponseAsync(response, operation, key, preconditionReason, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Parses an object resource the server answered with.</summary>
    internal async Task<GcsObject> ReadObjectAsync(HttpResponseMessage response, string operation, string key, CancellationToken cancellationToken)
    {
        try
        {
            var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return _client.Service.Serializer.Deserialize<GcsObject>(json) ?? throw new FormatException("empty object resource");
        }
        catch (Exception e) when (Errors.Map(e, operation, key, "it already exists", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>The store's description of an object resource.</summary>
    internal ObjectInfo ToInfo(string key, GcsObject obj) => new(
        key,
        (long)(obj.Size ?? 0),
        obj.UpdatedDateTimeOffset ?? obj.TimeCreatedDateTimeOffset ?? Time.GetUtcNow(),
        (obj.Generation ?? 0).ToString(CultureInfo.InvariantCulture),
        obj.Crc32c is { Length: > 0 } crc ? "crc32c:" + crc : null);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of one generation; <see langword="null"/> when that generation is gone (replaced or deleted).</summary>
    internal async Task<HttpResponseMessage?> SendGetAsync(string key, long generation, long offset, int length, CancellationToken cancellationToken)
    {
        // The generation pins the read; the precondition makes a server that ignores it refuse rather than mix versions.
        var g = generation.ToString(CultureInfo.InvariantCulture);
        var uri = new Uri(BaseUri, $"b/{Uri.EscapeDataString(Bucket)}/o/{Uri.EscapeDataString(FullKey(key))}?alt=media&generation={g}&ifGenerationMatch={g}");
        var response = await SendAsync(
            "GET",
            key,
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, offset + length - 1);
                return request;
            },
            status => status is HttpStatusCode.NotFound or HttpStatusCode.PreconditionFailed,
            cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.PreconditionFailed)
        {
            response.Dispose();
            return null;
        }

        return response;
    }

    private async Task<GcsObject?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var request = _client.Service.Objects.Get(Bucket, FullKey(key));
            return await CallAsync("GET METADATA", key, request.ExecuteAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    private static (string Bucket, string Prefix) ParseLocation(Uri location)
    {
        // The one location parser of the core, on the string the URI was made of (Uri would rewrite dot segments).
        var parsed = CheckpointLocation.FromUri(location);
        if (parsed.Scheme != "gs")
        {
            throw new ArgumentException($"'{location.OriginalString}' is not a GCS location (expected gs://bucket or gs://bucket/prefix).", nameof(location));
        }

        return (parsed.Bucket, parsed.Prefix);
    }

    /// <summary>A page's objects and rolled-up folders, merged into ordinal order, with the store's prefix taken off.</summary>
    private List<StoreEntry> Merge(IList<GcsObject> objects, IList<string> folders)
    {
        var entries = new List<StoreEntry>(objects.Count + folders.Count);
        foreach (var folder in folders)
        {
            if (folder.StartsWith(_keyPrefix, StringComparison.Ordinal))
            {
                entries.Add(new StoreEntry(folder[_keyPrefix.Length..], true, null));
            }
        }

        foreach (var obj in objects)
        {
            // An object no key can name (e.g. a "folder marker" ending in '/') cannot be read through the store either.
            if (obj.Name is { } name && name.StartsWith(_keyPrefix, StringComparison.Ordinal) && ObjectKey.Check(name[_keyPrefix.Length..]) is null)
            {
                var key = name[_keyPrefix.Length..];
                entries.Add(new StoreEntry(key, false, ToInfo(key, obj)));
            }
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return entries;
    }
}
