using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>The scenarios on <c>gs://</c>, against the test kit's loopback GCS test server through <c>--endpoint</c>.</summary>
public sealed class GcsCliTests : CliScenarioTests, IAsyncLifetime
{
    private const string Bucket = "konduktor-cli-tests";
    private GcsTestServer? _server;

    internal override ConnectionSettings Connection => new(_server!.Endpoint.ToString(), null, null);

    protected override IReadOnlyDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        _server = await GcsTestServer.StartAsync();
        _server.CreateBucket(Bucket);
    }

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    protected override string NewLocation() => $"gs://{Bucket}/cli-{Guid.NewGuid():N}";
}
