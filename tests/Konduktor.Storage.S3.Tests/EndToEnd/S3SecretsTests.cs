using Amazon.Runtime;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.S3.Tests;

/// <summary>No access key, secret or token reaches a log line or an exception message, even at the most verbose level.</summary>
[Collection("RadosGW")]
public sealed class S3SecretsTests(RadosGwServer server)
{
    private const string Token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";

    [Fact]
    public async Task SavesRestoresAndFailures_AtTraceLevel_NeverShowACredential()
    {
        await S3TestStores.EnsureBucketAsync(server);
        var logs = new CollectingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var texts = new List<string>();
        var location = new Uri($"s3://{S3TestStores.Bucket}/secrets-{Guid.NewGuid():N}");
        var options = new CheckpointManagerOptions { RunId = "run" };
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(5);
        options.Resilience.MaxDelay = TimeSpan.FromMilliseconds(20);

        using (var good = new S3CheckpointStore(location, S3TestStores.Options(server), new BasicAWSCredentials(server.AccessKey, server.SecretKey), logger: factory.CreateLogger<S3CheckpointStore>()))
        {
            var manager = new CheckpointManager(good, JobContext.Create(), options, factory.CreateLogger<CheckpointManager>());
            await manager.SaveAsync(1, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[12 * 1024 * 1024]) });
            await manager.RestoreLatestAsync(Path.Combine(Path.GetTempPath(), "konduktor-secrets", Guid.NewGuid().ToString("N")));
        }

        // A wrong secret with a session token: the failure's message and the logs must not carry any of them.
        const string WrongSecret = "wrongSecretKeyThatMustNeverBeLogged0000000";
        using (var bad = new S3CheckpointStore(location, S3TestStores.Options(server), new SessionAWSCredentials(server.AccessKey, WrongSecret, Token), logger: factory.CreateLogger<S3CheckpointStore>()))
        {
            var manager = new CheckpointManager(bad, JobContext.Create(), options, factory.CreateLogger<CheckpointManager>());
            var error = await Record.ExceptionAsync(() => manager.SaveAsync(2, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[100]) }));
            Assert.NotNull(error);
            texts.Add(error.ToString());
        }

        texts.AddRange(logs.Lines);
        Assert.NotEmpty(logs.Lines);
        foreach (var secret in new[] { server.AccessKey, server.SecretKey, WrongSecret, Token })
        {
            Assert.DoesNotContain(texts, t => t.Contains(secret, StringComparison.Ordinal));
        }
    }
}
