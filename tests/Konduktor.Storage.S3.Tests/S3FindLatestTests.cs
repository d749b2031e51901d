using static Konduktor.Storage.S3.Tests.S3ManagerTestSupport;

namespace Konduktor.Storage.S3.Tests;

/// <summary>How many HTTP requests finding the newest checkpoint costs against a real RadosGW.</summary>
[Collection("RadosGW")]
public sealed class S3FindLatestTests(RadosGwServer server)
{
    [Fact]
    public async Task OpenLatestAsync_AmongAThousandSteps_SendsThreeRequests()
    {
        var prefix = NewPrefix();
        var seeding = new CheckpointManager(
            await CreateStoreAsync(server, prefix: prefix),
            JobContext.Create(),
            new CheckpointManagerOptions { RunId = "run-find", Retention = new RetentionOptions { ApplyAfterSave = false } });
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (step, ct) =>
            await seeding.SaveAsync(
                step,
                new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(64, step)), ["optimizer.bin"] = new MemoryStream(RandomBytes(32, step)) },
                cancellationToken: ct));
        var counter = new FaultInjection((_, _) => null);
        var store = await CreateStoreAsync(server, prefix: prefix, configureClient: c => c.HttpClientFactory = counter);

        var reader = await Manager(store, "run-find").OpenLatestAsync();

        // One listing of the step folders, one of the newest step's folder, one read of its manifest. RadosGW marks a page
        // holding exactly its 1000-entry limit as truncated, so the step folders cost one more (empty) page here.
        Assert.Equal(999, reader.Step);
        Assert.Equal(1, counter.Count(HttpMethod.Get, "continuation-token"));
        Assert.Equal(2 + 1, counter.Count(HttpMethod.Get, "list-type=2"));
        Assert.Equal(1, counter.Count(HttpMethod.Get, "/manifest.json"));
        Assert.Equal(0, counter.Count(HttpMethod.Head, string.Empty));
        Assert.Equal(3 + 1, counter.Count(HttpMethod.Get, string.Empty));
    }
}
