using System.Buffers;
using System.Globalization;
using System.Net;

using Google.Apis.Storage.v1;
using Google.Cloud.Storage.V1;

using Microsoft.Extensions.Logging;

using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// What the GCS store's writers and readers need of it, in one object: the client and bucket path, the endpoints, the shared
/// transfer budgets (chunk buffers, read-ahead), the retry policy, and the requests both the store and its transfers send.
/// </summary>
internal sealed class GcsTransport(
    StorageClient client,
    BucketPath path,
    GcsStoreOptions options,
    GcsConnection connection,
    StoreRetryPolicy policy,
    GcsErrorMapper errors,
    ILogger logger,
    TimeProvider time) : IDisposable
{
    public BucketPath Path => path;

    public Uri Location => path.Location;

    public GcsStoreOptions Options => options;

    public StoreRetryPolicy Policy => policy;

    public GcsErrorMapper Errors => errors;

    public ILogger Logger => logger;

    public HttpClient Http => client.Service.HttpClient;

    public StorageService Service => client.Service;

    public Uri BaseUri => connection.BaseUri;

    public Uri UploadBaseUri => connection.UploadBaseUri;

    /// <summary>
    /// Chunk buffers for this store's transfers. Not <see cref="ArrayPool{T}.Shared"/>: its per-thread caches strand chunk-sized
    /// arrays on whichever thread-pool thread returned them, so new ones get allocated and memory grows with the thread count.
    /// Kept: the chunks read ahead, and a filling and a sending chunk for each of the files the manager moves at once
    /// (<see cref="ConcurrentFiles"/>). Small objects' first buffers (1 MiB) come from the same pool.
    /// </summary>
    public ArrayPool<byte> ChunkBuffers { get; } = ArrayPool<byte>.Create(options.ChunkSizeBytes, TransferSizing.PooledBuffers(options.Concurrency, Math.Max(1, options.Concurrency / 4)));

    /// <summary>
    /// How many files a checkpoint manager moves at once through this store: a quarter of <see cref="GcsStoreOptions.Concurrency"/>,
    /// since each upload holds two chunks of its own (resumable sessions send one chunk at a time).
    /// </summary>
    public int ConcurrentFiles => Math.Max(1, options.Concurrency / 4);

    /// <summary>The read-ahead of this store's parallel reads: <see cref="GcsStoreOptions.Concurrency"/> chunks shared by all of them.</summary>
    public ReadAheadBudget ReadAhead { get; } = new(options.Concurrency);

    /// <summary>Runs one client request, mapping its failure to the store's exceptions.</summary>
    public Task<T> CallAsync<T>(string operation, string? key, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken, string preconditionReason = "it already exists") =>
        errors.CallAsync(operation, key, request, cancellationToken, preconditionReason);

    /// <summary>Sends one request the store builds itself; an unsuccessful answer becomes the store's exception unless <paramref name="accept"/> takes it.</summary>
    public async Task<HttpResponseMessage> SendAsync(
        string operation, string? key, Func<HttpRequestMessage> build, Func<HttpStatusCode, bool> accept, CancellationToken cancellationToken, string preconditionReason = "it already exists")
    {
        HttpResponseMessage response;
        try
        {
            using var request = build();
            response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (errors.Map(e, operation, key, preconditionReason, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        if (response.IsSuccessStatusCode || accept(response.StatusCode))
        {
            return response;
        }

        using (response)
        {
            throw await errors.FromResponseAsync(response, operation, key, preconditionReason, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Parses an object resource the server answered with.</summary>
    public async Task<GcsObject> ReadObjectAsync(HttpResponseMessage response, string operation, string key, CancellationToken cancellationToken)
    {
        try
        {
            var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return client.Service.Serializer.Deserialize<GcsObject>(json) ?? throw new FormatException("empty object resource");
        }
        catch (Exception e) when (errors.Map(e, operation, key, "it already exists", cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>The store's description of an object resource.</summary>
    public ObjectInfo ToInfo(string key, GcsObject obj) => new(
        key,
        (long)(obj.Size ?? 0),
        obj.UpdatedDateTimeOffset ?? obj.TimeCreatedDateTimeOffset ?? time.GetUtcNow(),
        (obj.Generation ?? 0).ToString(CultureInfo.InvariantCulture),
        obj.Crc32c is { Length: > 0 } crc ? "crc32c:" + crc : null);

    /// <summary>The object resource, or <see langword="null"/> when there is none.</summary>
    public async Task<GcsObject?> GetObjectAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var request = client.Service.Objects.Get(path.Bucket, path.FullKey(key));
            return await CallAsync("GET METADATA", key, request.ExecuteAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The object's description, or <see langword="null"/> when there is none.</summary>
    public async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken) =>
        await GetObjectAsync(key, cancellationToken).ConfigureAwait(false) is { } obj ? ToInfo(key, obj) : null;

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of one generation; <see langword="null"/> when that generation is gone (replaced or deleted).</summary>
    public async Task<HttpResponseMessage?> SendGetAsync(string key, long generation, long offset, int length, CancellationToken cancellationToken)
    {
        // The generation pins the read; the precondition makes a server that ignores it refuse rather than mix versions.
        var g = generation.ToString(CultureInfo.InvariantCulture);
        var uri = new Uri(BaseUri, $"b/{Uri.EscapeDataString(path.Bucket)}/o/{Uri.EscapeDataString(path.FullKey(key))}?alt=media&generation={g}&ifGenerationMatch={g}");
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

    /// <summary>Releases the client and its connections.</summary>
    public void Dispose() => client.Dispose();
}
