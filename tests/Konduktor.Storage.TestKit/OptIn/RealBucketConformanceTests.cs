namespace Konduktor.Storage.Testing;

/// <summary>
/// The conformance suite against a real bucket named by an environment variable (mark the derived class with
/// <see cref="RequiresEnvironmentVariableAttribute"/>): every store is rooted at a fresh random prefix, and everything under
/// it is deleted after the test.
/// </summary>
/// <param name="bucketVariable">The variable that names the bucket.</param>
public abstract class RealBucketConformanceTests(string bucketVariable) : CheckpointStoreConformanceTests, IAsyncLifetime
{
    private readonly List<ICheckpointStore> _stores = [];

    /// <inheritdoc />
    public Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await foreach (var entry in store.ListAsync(string.Empty))
            {
                await store.DeleteAsync(entry.Key);
            }

            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>Creates a store for <paramref name="location"/> (<c>scheme://bucket/random-prefix</c>).</summary>
    /// <param name="location">The location.</param>
    protected abstract ICheckpointStore CreateStore(Uri location);

    /// <summary>The location scheme, e.g. <c>gs</c>.</summary>
    protected abstract string Scheme { get; }

    /// <inheritdoc />
    protected override Task<ICheckpointStore> CreateStoreAsync()
    {
        var bucket = Environment.GetEnvironmentVariable(bucketVariable)
            ?? throw new InvalidOperationException($"{bucketVariable} is not set (the test should have been skipped).");
        var store = CreateStore(new Uri($"{Scheme}://{bucket}/konduktor-test-{Guid.NewGuid():N}"));
        _stores.Add(store);
        return Task.FromResult(store);
    }
}
