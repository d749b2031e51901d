using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// Streams an object into a GCS resumable upload session: bytes fill a pooled chunk buffer; a full chunk is sent while the caller
/// fills the next (so at most two chunks are held). A chunk whose request fails is resumed from the offset the server reports
/// (a <c>bytes */*</c> status query), through the store's policy. The final request carries the total length and the CRC32C of
/// every byte. Failure, cancellation or disposal before completion cancels the session.
/// The state machine is <see cref="BucketObjectWriter"/>'s; this class supplies GCS's steps.
/// </summary>
internal sealed class GcsObjectWriter(GcsTransport transport, string key, bool createOnly)
    : BucketObjectWriter(key, transport.ChunkBuffers, transport.Options.ChunkSizeBytes)
{
    private const string StartOperation = "gcs-start-upload";
    private const string ChunkOperation = "gcs-upload-chunk";

    private readonly GcsTransport _store = transport;
    private readonly bool _createOnly = createOnly;
    private Crc32C _crc = new();
    private Task? _sending;
    private Uri? _session;

    /// <summary>A full chunk goes up at once (while the caller fills the next).</summary>
    protected override bool DispatchDue => CurrentLength == PartSize;

    protected override void OnAppended(ReadOnlySpan<byte> data) => _crc.Append(data);

    /// <summary>Waits for the chunk in flight, then sends the full one in the background and starts a new one.</summary>
    protected override async Task DispatchAsync(CancellationToken cancellationToken)
    {
        if (_sending is { } previous)
        {
            await previous.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        _session ??= await StartAsync(cancellationToken).ConfigureAwait(false);
        var start = BytesWritten - CurrentLength;
        var chunk = TakeCurrent()!.Value.Array!;
        _sending = SendInBackgroundAsync(_session, chunk, start);
    }

    protected override async Task<ObjectInfo> CompleteCoreAsync(CancellationToken cancellationToken)
    {
        if (_sending is { } previous)
        {
            await previous.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        _session ??= await StartAsync(cancellationToken).ConfigureAwait(false);
        var length = CurrentLength;
        var last = TakeCurrent();
        try
        {
            return await SendChunkAsync(_session, last?.Array ?? [], length, BytesWritten - length, final: true, cancellationToken).ConfigureAwait(false)
                ?? throw new CheckpointStorageException($"GCS accepted the final chunk of '{Key}' in {_store.Location} without finishing the object.");
        }
        finally
        {
            if (last?.Array is { } buffer)
            {
                Pool.Return(buffer);
            }
        }
    }

    protected override Task WaitInFlightAsync() => _sending ?? Task.CompletedTask;

    protected override Task AbortCoreAsync() => _session is { } session ? CancelSessionAsync(session) : Task.CompletedTask;

    private async Task SendInBackgroundAsync(Uri session, byte[] chunk, long start)
    {
        try
        {
            // The chunk runs on after the write that started it returned, so only the writer's own abort stops it.
            _ = await SendChunkAsync(session, chunk, PartSize, start, final: false, AbortToken).ConfigureAwait(false);
        }
        finally
        {
            Pool.Return(chunk);
        }
    }

    /// <summary>Starts the resumable session (retried: a failed start leaves nothing behind).</summary>
    /// <remarks>
    /// A create-only write is atomic at any size: <c>ifGenerationMatch=0</c> given when the session starts is checked again by GCS
    /// when the final chunk creates the object, and the object appears whole at that moment or not at all, so of two sessions
    /// for one name exactly one finalises (the other gets 412). Unlike S3 multipart uploads on some servers, nothing here needs
    /// the write to fit in one request.
    /// </remarks>
    private Task<Uri> StartAsync(CancellationToken cancellationToken)
    {
        var name = _store.Path.FullKey(Key);
        var uri = new Uri(
            _store.UploadBaseUri,
            $"b/{Uri.EscapeDataString(_store.Path.Bucket)}/o?uploadType=resumable&name={Uri.EscapeDataString(name)}{(_createOnly ? "&ifGenerationMatch=0" : string.Empty)}");
        return _store.Policy.ExecuteAsync(
            StartOperation,
            async ct =>
            {
                using var response = await _store.SendAsync(
                    "START UPLOAD",
                    Key,
                    () =>
                    {
                        var request = new HttpRequestMessage(HttpMethod.Post, uri)
                        {
                            Content = new StringContent(JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = name }), Encoding.UTF8, "application/json"),
                        };
                        request.Headers.Add("X-Upload-Content-Type", "application/octet-stream");
                        return request;
                    },
                    _ => false,
                    ct).ConfigureAwait(false);
                return response.Headers.Location is { } location
                    ? (location.IsAbsoluteUri ? location : new Uri(uri, location))
                    : throw new CheckpointStorageException($"GCS started an upload of '{Key}' in {_store.Location} without a session URI (Location header).");
            },
            cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes of <paramref name="chunk"/>, which start at <paramref name="start"/> in the object, through
    /// the policy: after a failed attempt the next one asks the server how much it holds and sends only the rest.
    /// </summary>
    /// <returns>The object when the upload finished (the final chunk), else <see langword="null"/>.</returns>
    private async Task<ObjectInfo?> SendChunkAsync(Uri session, byte[] chunk, int length, long start, bool final, CancellationToken cancellationToken)
    {
        var end = start + length;
        var crc = final ? _crc.Base64 : null;
        var interrupted = false;
        try
        {
            return await _store.Policy.ExecuteAsync(
                ChunkOperation,
                async ct =>
                {
                    var from = start;
                    if (interrupted)
                    {
                        var (persisted, done) = await QueryAsync(session, ct).ConfigureAwait(false);
                        if (done is not null)
                        {
                            return final ? done : throw new CheckpointStorageException($"GCS finished the upload of '{Key}' in {_store.Location} before its last chunk.");
                        }

                        if (persisted < start || persisted > end)
                        {
                            throw new CheckpointStorageException(
                                $"The GCS upload session of '{Key}' in {_store.Location} holds {persisted} bytes, outside the chunk being sent ({start} to {end}); the write must start over.");
                        }

                        Log.GcsResuming(_store.Logger, Key, start, persisted);
                        from = persisted;
                    }

                    interrupted = true;
                    return await PutAsync(session, chunk, start, (int)(from - start), end, final ? end : null, crc, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (PreconditionFailedException) when (final && _createOnly && interrupted)
        {
            // A retried final chunk found the name taken: maybe by this very upload, whose answer was lost.
            var current = await _store.Policy.ExecuteAsync("gcs-stat", ct => _store.StatAsync(Key, ct), cancellationToken).ConfigureAwait(false);
            if (current is not null && current.Length == end && current.ServerChecksum == "crc32c:" + crc)
            {
                Log.GcsOwnEarlierAttempt(_store.Logger, _store.Location);
                Log.GcsOwnEarlierAttemptKey(_store.Logger, _store.Location, Key);
                return current;
            }

            throw;
        }
    }

    /// <summary>Sends bytes from <paramref name="offset"/> of the chunk (which starts at <paramref name="chunkStart"/>) up to the object offset <paramref name="end"/>, until the server holds them all.</summary>
    private async Task<ObjectInfo?> PutAsync(Uri session, byte[] chunk, long chunkStart, int offset, long end, long? total, string? crc, CancellationToken cancellationToken)
    {
        while (true)
        {
            var from = chunkStart + offset;
            var count = (int)(end - from);
            using var response = await _store.SendAsync(
                "UPLOAD CHUNK",
                Key,
                () =>
                {
                    var content = new ByteArrayContent(chunk, offset, count);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    var totalText = total?.ToString(CultureInfo.InvariantCulture) ?? "*";
                    content.Headers.TryAddWithoutValidation(
                        "Content-Range", count == 0 ? $"bytes */{totalText}" : $"bytes {from}-{end - 1}/{totalText}");
                    var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = content };
                    if (crc is not null)
                    {
                        request.Headers.TryAddWithoutValidation("x-goog-hash", "crc32c=" + crc);
                    }

                    return request;
                },
                status => (int)status == 308 || status is HttpStatusCode.NotFound or HttpStatusCode.Gone,
                cancellationToken).ConfigureAwait(false);
            if ((int)response.StatusCode == 308)
            {
                var persisted = Persisted(response);
                if (persisted >= end)
                {
                    return null;
                }

                // The server kept only part of the chunk: send the rest.
                offset = (int)(persisted - chunkStart);
                if (offset < 0)
                {
                    throw new CheckpointStorageException($"The GCS upload session of '{Key}' in {_store.Location} lost bytes it had acknowledged; the write must start over.");
                }

                continue;
            }

            ThrowIfSessionGone(response);
            return _store.ToInfo(Key, await _store.ReadObjectAsync(response, "UPLOAD CHUNK", Key, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>Asks the session how many bytes it holds (<c>Content-Range: bytes */*</c>), or for the object when it is finished.</summary>
    private async Task<(long Persisted, ObjectInfo? Done)> QueryAsync(Uri session, CancellationToken cancellationToken)
    {
        using var response = await _store.SendAsync(
            "UPLOAD STATUS",
            Key,
            () =>
            {
                var content = new ByteArrayContent([]);
                content.Headers.TryAddWithoutValidation("Content-Range", "bytes */*");
                return new HttpRequestMessage(HttpMethod.Put, session) { Content = content };
            },
            status => (int)status == 308 || status is HttpStatusCode.NotFound or HttpStatusCode.Gone,
            cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode == 308)
        {
            return (Persisted(response), null);
        }

        ThrowIfSessionGone(response);
        return (-1, _store.ToInfo(Key, await _store.ReadObjectAsync(response, "UPLOAD STATUS", Key, cancellationToken).ConfigureAwait(false)));
    }

    private void ThrowIfSessionGone(HttpResponseMessage response)
    {
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Gone)
        {
            throw new CheckpointStorageException(
                $"The GCS upload session of '{Key}' in {_store.Location} expired or was cancelled ({(int)response.StatusCode}); the write must start over.");
        }
    }

    /// <summary>How many bytes the server holds, from a 308's <c>Range: bytes=0-N</c> (none yet when absent).</summary>
    private static long Persisted(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Range", out var values))
        {
            return 0;
        }

        var value = values.FirstOrDefault() ?? string.Empty;
        var dash = value.LastIndexOf('-');
        return dash >= 0 && long.TryParse(value.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            ? last + 1
            : throw new CheckpointStorageException($"GCS answered an upload chunk with an unreadable Range header '{value}'.");
    }

    /// <summary>Cancels the session so the server drops what it received (best effort: GCS discards idle sessions after a week).</summary>
    private async Task CancelSessionAsync(Uri session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await _store.Http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, session), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
        }
    }
}
