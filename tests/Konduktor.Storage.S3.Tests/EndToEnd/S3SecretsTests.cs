using Amazon.Runtime;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// No access key, secret or session token reaches a log line (at the most verbose level, structured values included), an
/// exception's text, or the text of an options, store or manager object: through saves, restores, refused credentials and
/// failures under network faults.
/// </summary>
[Collection("RadosGW")]
public sealed class S3SecretsTests(RadosGwServer server) : IDisposable
{
    private const string Token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";
    private const string WrongSecret = "wrongSecretKeyThatMustNeverBeLogged0000000";

    private readonly string _folder = Directory.CreateTempSubdirectory("konduktor-secrets-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task SavesRestoresAndFailures_AtTraceLevel_NeverShowACredential()
    {
        await S3TestStores.EnsureBucketAsync(server);
        var witness = new SecretsWitness(server.AccessKey, server.SecretKey, WrongSecret, Token);
        using var logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(witness));
        var location = NewLocation();
        var options = ManagerOptions();

        using (var good = new S3CheckpointStore(location, S3TestStores.Options(server), new BasicAWSCredentials(server.AccessKey, server.SecretKey), logger: logs.CreateLogger<S3CheckpointStore>()))
        {
            var manager = new CheckpointManager(good, JobContext.Create(), options, logs.CreateLogger<CheckpointManager>());
            await manager.SaveAsync(1, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[12 * 1024 * 1024]) });
            witness.See(await manager.RestoreLatestAsync(Path.Join(_folder, "restored")));
            SeeObjects(witness, good, manager);
        }

        // A wrong secret with a session token: refused (403); neither the failure nor the logs may carry any of them.
        using (var bad = new S3CheckpointStore(location, S3TestStores.Options(server), new SessionAWSCredentials(server.AccessKey, WrongSecret, Token), logger: logs.CreateLogger<S3CheckpointStore>()))
        {
            var manager = new CheckpointManager(bad, JobContext.Create(), options, logs.CreateLogger<CheckpointManager>());
            var error = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => manager.SaveAsync(2, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[100]) }));
            witness.See(error);
            SeeObjects(witness, bad, manager);
        }

        Assert.True(witness.LogLines > 0, "nothing was logged");
        witness.AssertNoSecretSeen();
    }

    [Fact]
    public async Task CredentialsFileAndNetworkFaults_AtTraceLevel_NeverShowACredential()
    {
        await S3TestStores.EnsureBucketAsync(server);
        var witness = new SecretsWitness(server.AccessKey, server.SecretKey, WrongSecret, Token);
        using var logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(witness));
        var credentials = Path.Join(_folder, "credentials");
        await File.WriteAllTextAsync(credentials, $"""
            [default]
            aws_access_key_id = {server.AccessKey}
            aws_secret_access_key = {server.SecretKey}

            [stale]
            aws_access_key_id = {server.AccessKey}
            aws_secret_access_key = {WrongSecret}
            aws_session_token = {Token}
            """);
        await using var proxy = new LoopbackFaultProxy(server.Endpoint);
        var location = NewLocation();
        S3CheckpointStore Store(string profile, LoopbackFaultProxy via) => new(
            location,
            S3TestStores.Options(server, o =>
            {
                o.Endpoint = via.Endpoint.ToString();
                o.CredentialsFile = credentials;
                o.Profile = profile;
            }),
            credentials: null,
            S3ManagerTestSupport.FastRetries(3),
            logs.CreateLogger<S3CheckpointStore>());

        using (var store = Store("default", proxy))
        {
            var manager = new CheckpointManager(store, JobContext.Create(), ManagerOptions(), logs.CreateLogger<CheckpointManager>());

            // Retried faults: resets, SlowDown bursts, a truncated and a stalled answer, a 429 with Retry-After.
            proxy.UseProfile(
                new FaultProfile("secrets", [
                    new(new ProxyFault.ResetBeforeRequest(), 0.1),
                    new(LoopbackFaultProxy.SlowDown, 0.1, Burst: 2),
                    new(new ProxyFault.TruncateResponse(100), 0.2, Match: (m, _) => m == "GET"),
                    new(new ProxyFault.Respond(429, "<Error><Code>TooManyRequests</Code></Error>", RetryAfterSeconds: 0), 0.05),
                ]),
                seed: 11);
            await manager.SaveAsync(1, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[11 * 1024 * 1024]) });
            witness.See(await manager.RestoreLatestAsync(Path.Join(_folder, "restored")));
            proxy.UseProfile(null);

            // A server that keeps failing: the retries run out.
            proxy.Schedule(LoopbackFaultProxy.InternalError, nth: 1, burst: 1000);
            var exhausted = await Assert.ThrowsAsync<RetriesExhaustedException>(() => manager.SaveAsync(2, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[100]) }));
            witness.See(exhausted);
            SeeObjects(witness, store, manager);
        }

        Assert.True(proxy.FaultsInjected > 3, $"only {proxy.FaultsInjected} faults were injected");
        await using var second = new LoopbackFaultProxy(server.Endpoint);
        using (var stale = Store("stale", second))
        {
            // The stale profile's secret is refused: 403 names the credential source, never the secret.
            var manager = new CheckpointManager(stale, JobContext.Create(), ManagerOptions(), logs.CreateLogger<CheckpointManager>());
            second.Schedule(new ProxyFault.ResetBeforeRequest(), nth: 1);
            var denied = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => manager.SaveAsync(3, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[100]) }));
            Assert.Contains("stale", denied.Message, StringComparison.Ordinal);
            witness.See(denied);
            SeeObjects(witness, stale, manager);
        }

        witness.AssertNoSecretSeen();
    }

    private static void SeeObjects(SecretsWitness witness, S3CheckpointStore store, CheckpointManager manager)
    {
        witness.See(store);
        witness.See(store.CredentialSource);
        witness.See(store.Location);
        witness.See(store.Capabilities);
        witness.See(manager);
        witness.See(manager.Options);
        witness.See(manager.Options.Resilience);
        witness.See(manager.Options.Retention);
        witness.See(manager.Job);
    }

    private static CheckpointManagerOptions ManagerOptions() => new() { RunId = "run", Resilience = S3ManagerTestSupport.FastRetries(3) };

    private static Uri NewLocation() => new($"s3://{S3TestStores.Bucket}/secrets-{Guid.NewGuid():N}");
}
