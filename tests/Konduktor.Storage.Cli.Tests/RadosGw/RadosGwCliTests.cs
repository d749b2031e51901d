using System.Collections.Concurrent;

using Konduktor.Storage.S3.Tests;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>
/// The scenarios on the real RadosGW: an <c>s3://</c> location, <c>--endpoint</c>, and credentials from a profile of a
/// credentials file named by <c>Konduktor__Checkpoints__S3__CredentialsFile</c>, as a user's configuration would.
/// </summary>
[Collection("RadosGW")]
public sealed class RadosGwCliTests : CliScenarioTests
{
    private readonly RadosGwServer _server;

    private static readonly ConcurrentDictionary<Uri, Lazy<Task>> Buckets = new();

    public RadosGwCliTests(RadosGwServer server)
    {
        _server = server;
        var credentials = Temp.Combine("credentials");
        File.WriteAllText(credentials, $"[cli]\naws_access_key_id = {server.AccessKey}\naws_secret_access_key = {server.SecretKey}\n");
        File.WriteAllText(Temp.Combine("config"), "[profile cli]\nregion = us-east-1\n");
        Environment = new Dictionary<string, string?> { ["Konduktor__Checkpoints__S3__CredentialsFile"] = credentials };
        Connection = new ConnectionSettings(server.Endpoint.ToString(), null, "cli");
    }

    internal override ConnectionSettings Connection { get; }

    protected override IReadOnlyDictionary<string, string?> Environment { get; }

    private const string Bucket = "konduktor-cli-tests";

    protected override string NewLocation()
    {
        Buckets.GetOrAdd(_server.Endpoint, _ => new Lazy<Task>(() => _server.CreateBucketAsync(Bucket))).Value.GetAwaiter().GetResult();
        return $"s3://{Bucket}/cli-{Guid.NewGuid():N}";
    }

    [Fact]
    public Task SampleRun_LsVerifyFlipPull()
    {
        // The sample's pods as Konduktor runs them: credentials mounted at ~/.aws, the endpoint from AWS_ENDPOINT_URL_S3.
        var work = Temp.Combine("pods");
        var aws = Path.Combine(work, ".home", ".aws");
        Directory.CreateDirectory(aws);
        File.WriteAllText(Path.Combine(aws, "credentials"), $"[default]\naws_access_key_id = {_server.AccessKey}\naws_secret_access_key = {_server.SecretKey}\n");
        File.WriteAllText(Path.Combine(aws, "config"), $"[default]\nregion = {RadosGwServer.Region}\n");
        var location = NewLocation();
        return SampleCheckpointsScenario.RunAsync(
            work,
            new Checkpoints(location, Connection, Environment),
            _ => new Dictionary<string, string>
            {
                ["Konduktor__Checkpoints__Location"] = location,
                ["AWS_ENDPOINT_URL_S3"] = _server.Endpoint.ToString(),
            },
            CliAsync);
    }

    [Fact]
    public async Task MissingBucket_OneLineExit2()
    {
        var result = await CliAsync("ls", "s3://no-such-bucket-here/x", "--run", "job");

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no-such-bucket-here", line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongCredentials_OneLineExit2()
    {
        var wrong = Temp.Combine("wrong-credentials");
        await File.WriteAllTextAsync(wrong, $"[cli]\naws_access_key_id = {_server.AccessKey}\naws_secret_access_key = not-the-secret\n");
        var environment = new Dictionary<string, string?> { ["Konduktor__Checkpoints__S3__CredentialsFile"] = wrong };

        var result = await CliRunner.RunAsync(environment, "ls", NewLocation(), "--endpoint", _server.Endpoint.ToString(), "--profile", "cli");

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("SignatureDoesNotMatch", line, StringComparison.Ordinal);
    }
}
