namespace Konduktor.Storage.Testing;

/// <summary>
/// What the fault campaign needs from one kind of store: the test server the proxy fronts, and stores of that kind that
/// send their requests to a given endpoint (the proxy, or the server directly for checks without faults).
/// </summary>
public interface IFaultCampaignStore
{
    /// <summary>The store's short name in the report, e.g. <c>s3</c>.</summary>
    string Name { get; }

    /// <summary>The test server, on loopback.</summary>
    Uri ServerEndpoint { get; }

    /// <summary>A file size that the store sends in several parts (multipart or resumable chunks), so one save makes many requests.</summary>
    int LargeFileBytes { get; }

    /// <summary>A store at <paramref name="prefix"/> of the test bucket that sends its requests to <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The proxy or the server.</param>
    /// <param name="prefix">The prefix every store of one campaign shares.</param>
    /// <param name="resilience">Retries and timeouts for the store's own per-part requests.</param>
    /// <returns>The store; disposed by the campaign when it is <see cref="IDisposable"/>.</returns>
    Task<ICheckpointStore> CreateStoreAsync(Uri endpoint, string prefix, ResilienceOptions resilience);
}
