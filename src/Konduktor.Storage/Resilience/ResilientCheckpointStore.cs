using System.Runtime.CompilerServices;

using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// Adds retries, timeouts and resumable transfers (a <see cref="StoreRetryPolicy"/>) to any <see cref="ICheckpointStore"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="StatAsync"/>, <see cref="DeleteAsync"/>, <see cref="OpenWriteAsync"/> and opening a read are retried as a whole.</item>
/// <item><see cref="PutAsync"/> is retried when its content stream can seek (it is rewound before every attempt); otherwise it is
/// attempted once and a transient failure becomes <see cref="RetriesExhaustedException"/> with one attempt. A put is one transfer of
/// unknown length, so <see cref="ResilienceOptions.AttemptTimeout"/> does not bound it; the total timeout does.</item>
/// <item>The writer from <see cref="OpenWriteAsync"/> is the inner store's: that store retries its parts itself.</item>
/// <item>The stream from <see cref="OpenReadAsync"/> survives failures mid-read: on a transient failure, or no progress for
/// <see cref="ResilienceOptions.StallTimeout"/>, it reopens the object at the current offset and continues.</item>
/// <item><see cref="ListAsync"/> restarts a listing that fails mid-way and skips the entries already returned.</item>
/// </list>
/// Reads and listings may fail <see cref="ResilienceOptions.MaxRetryAttempts"/> times in a row without progress before giving up
/// with <see cref="RetriesExhaustedException"/>; any progress resets that count, so a long restore survives sporadic resets.
/// </remarks>
internal sealed class ResilientCheckpointStore : ICheckpointStore, IPendingUploadStore, ILocalFileStore
{
    private readonly ICheckpointStore _inner;
    private readonly StoreRetryPolicy _policy;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The store to call.</param>
    /// <param name="options">The retry and timeout settings.</param>
    /// <param name="logger">Where retries are logged; none by default.</param>
    /// <param name="timeProvider">The clock for delays and timeouts; the system clock by default.</param>
    /// <exception cref="CheckpointConfigurationException">An option is out of range or contradicts another.</exception>
    public ResilientCheckpointStore(ICheckpointStore inner, ResilienceOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _policy = new StoreRetryPolicy(options, logger, timeProvider);
    }

    /// <inheritdoc />
    public Uri Location => _inner.Location;

    /// <inheritdoc />
    string? ILocalFileStore.LocalRoot => (_inner as ILocalFileStore)?.LocalRoot;

    /// <inheritdoc />
    /// <remarks>Opened once, without retries: local files do not fail transiently.</remarks>
    FileStream? ILocalFileStore.OpenLocalFile(string key) => (_inner as ILocalFileStore)?.OpenLocalFile(key);

    /// <inheritdoc />
    Task<long?> ILocalFileStore.AppendLocalFileAsync(
        ObjectWriteStream writer, SafeFileHandle source, long offset, long length, ContentHash hash, Action<long>? onProgress, CancellationToken cancellationToken) =>
        _inner is ILocalFileStore local
            ? local.AppendLocalFileAsync(writer, source, offset, length, hash, onProgress, cancellationToken)
            : Task.FromResult<long?>(null);

    /// <inheritdoc />
    public StoreCapabilities Capabilities => _inner.Capabilities;

    /// <inheritdoc />
    /// <exception cref="RetriesExhaustedException">Transient failures used up the retries, or the stream could not be replayed.</exception>
    public Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanSeek)
        {
            return _policy.ExecuteOnceAsync(Operations.Put, ct => _inner.PutAsync(key, content, options, ct), cancellationToken);
        }

        var start = content.Position;
        return _policy.ExecuteTransferAsync(
            Operations.Put,
            ct =>
            {
                // A failed attempt consumed part of the stream; every attempt sends it from the caller's position.
                content.Position = start;
                return _inner.PutAsync(key, content, options, ct);
            },
            cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="RetriesExhaustedException">Transient failures used up the retries.</exception>
    public Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        _policy.ExecuteAsync(Operations.OpenWrite, ct => _inner.OpenWriteAsync(key, options, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>The stream resumes after mid-read failures; it reads asynchronously only (<see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/>).</remarks>
    /// <exception cref="RetriesExhaustedException">Transient failures used up the retries.</exception>
    public async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
    {
        range?.Validate();
        var stream = await _policy.ExecuteAsync(Operations.OpenRead, ct => _inner.OpenReadAsync(key, range, ct), cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(_inner, _policy, key, range, stream);
    }

    /// <inheritdoc />
    /// <exception cref="RetriesExhaustedException">Transient failures used up the retries.</exception>
    public Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default) =>
        _policy.ExecuteAsync(Operations.Stat, ct => _inner.StatAsync(key, ct), cancellationToken);

    /// <inheritdoc />
    /// <exception cref="RetriesExhaustedException">Transient failures used up the retries.</exception>
    public Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        _policy.ExecuteAsync(Operations.Delete, ct => _inner.DeleteAsync(key, ifMatch, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// A page request that fails transiently, or takes longer than <see cref="ResilienceOptions.AttemptTimeout"/>, restarts the
    /// listing; entries up to the last one returned are skipped (listings are in ordinal key order), so none is returned twice or lost.
    /// </remarks>
    /// <exception cref="RetriesExhaustedException">The listing failed more than <see cref="ResilienceOptions.MaxRetryAttempts"/> times without progress.</exception>
    public async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? last = null;
        var failures = 0;
        var returned = 0L;
        while (true)
        {
            using var attempt = new AttemptTimer(_policy.Options.AttemptTimeout, _policy.TimeProvider, cancellationToken);
            var entries = _inner.ListAsync(prefix, options, attempt.Token).GetAsyncEnumerator(attempt.Token);
            var restart = false;
            try
            {
                while (true)
                {
                    StoreEntry entry;
                    try
                    {
                        attempt.Start();
                        if (!await entries.MoveNextAsync().ConfigureAwait(false))
                        {
                            yield break;
                        }

                        attempt.Stop();
                        entry = entries.Current;
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested && (attempt.Expired || TransientFailure.IsTransient(e, cancellationToken)))
                    {
                        var cause = attempt.Expired ? "timeout" : TransientFailure.Cause(e);
                        await _policy.BackOffAsync(Operations.List, cause, returned, ++failures, e, cancellationToken).ConfigureAwait(false);
                        restart = true;
                        break;
                    }

                    if (last is not null && string.CompareOrdinal(entry.Key, last) <= 0)
                    {
                        continue;
                    }

                    last = entry.Key;
                    failures = 0;
                    returned++;
                    yield return entry;
                }
            }
            finally
            {
                await entries.DisposeAsync().ConfigureAwait(false);
            }

            if (!restart)
            {
                yield break;
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Lists nothing when the wrapped store keeps no pending uploads.</remarks>
    public async IAsyncEnumerable<PendingUpload> ListPendingUploadsAsync(string keyPrefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (_inner is not IPendingUploadStore pending)
        {
            yield break;
        }

        var uploads = await _policy.ExecuteAsync(
            Operations.List,
            async ct =>
            {
                var list = new List<PendingUpload>();
                await foreach (var upload in pending.ListPendingUploadsAsync(keyPrefix, ct).ConfigureAwait(false))
                {
                    list.Add(upload);
                }

                return list;
            },
            cancellationToken).ConfigureAwait(false);
        foreach (var upload in uploads)
        {
            yield return upload;
        }
    }

    /// <inheritdoc />
    public Task AbortPendingUploadAsync(PendingUpload upload, CancellationToken cancellationToken = default) =>
        _inner is IPendingUploadStore pending
            ? _policy.ExecuteAsync(Operations.Delete, ct => pending.AbortPendingUploadAsync(upload, ct), cancellationToken)
            : Task.CompletedTask;

    /// <summary>The operation names used in metrics and messages.</summary>
    internal static class Operations
    {
        public const string
            Put = "put",
            OpenWrite = "open-write",
            OpenRead = "open-read",
            Read = "read",
            Stat = "stat",
            List = "list",
            Delete = "delete";
    }
}
