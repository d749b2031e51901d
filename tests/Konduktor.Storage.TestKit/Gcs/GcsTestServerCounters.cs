namespace Konduktor.Storage.Testing;

/// <summary>
/// What a <see cref="GcsTestServer"/> has received, for tests to assert on (e.g. that an interrupted upload resumed
/// instead of restarting). Requests answered by an injected fault count under their kind too. Thread-safe.
/// </summary>
public sealed class GcsTestServerCounters
{
    private long _requests;
    private long _uploadBodyBytesReceived;
    private long _resumableInitiations;
    private long _statusQueries;
    private long _downloads;
    private long _faultsInjected;

    /// <summary>Every request received.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Every body byte read on <c>/upload/</c> endpoints (initiations, media, multipart, chunks), including bytes of interrupted chunks.</summary>
    public long UploadBodyBytesReceived => Interlocked.Read(ref _uploadBodyBytesReceived);

    /// <summary>Resumable-upload initiation POSTs (<c>uploadType=resumable</c> without <c>upload_id</c>).</summary>
    public long ResumableInitiations => Interlocked.Read(ref _resumableInitiations);

    /// <summary>Session PUTs with <c>Content-Range: bytes */N</c> or <c>bytes */*</c>.</summary>
    public long StatusQueries => Interlocked.Read(ref _statusQueries);

    /// <summary><c>alt=media</c> GETs.</summary>
    public long Downloads => Interlocked.Read(ref _downloads);

    /// <summary>Requests answered by an injected fault (error status, 429 or abort).</summary>
    public long FaultsInjected => Interlocked.Read(ref _faultsInjected);

    internal void Request() => Interlocked.Increment(ref _requests);

    internal void UploadBodyBytes(long count) => Interlocked.Add(ref _uploadBodyBytesReceived, count);

    internal void ResumableInitiation() => Interlocked.Increment(ref _resumableInitiations);

    internal void StatusQuery() => Interlocked.Increment(ref _statusQueries);

    internal void Download() => Interlocked.Increment(ref _downloads);

    internal void FaultInjected() => Interlocked.Increment(ref _faultsInjected);
}
