using Konduktor.Storage.Testing;

using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>
/// No private key, client secret or refresh token reaches a log line or an exception message, even at the most verbose level:
/// credentials found in every discovery source, a save and restore, and the failures around credentials and the store.
/// </summary>
public sealed class GcsSecretsTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("konduktor-gcs-secrets-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task DiscoverySavesRestoresAndFailures_AtTraceLevel_NeverShowASecret()
    {
        var gcloud = Path.Combine(_home, ".config", "gcloud");
        var serviceAccount = Path.Combine(_home, "sa.json");
        var pem = GcsTestFiles.WriteServiceAccount(serviceAccount);
        var witness = new SecretsWitness([.. GcsTestFiles.PemBody(pem), GcsTestFiles.ClientSecret, GcsTestFiles.RefreshToken]);
        using var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(witness));
        var logger = factory.CreateLogger<GcsCheckpointStore>();
        GcsTestFiles.WriteAuthorizedUser(Path.Combine(gcloud, "application_default_credentials.json"));
        GcsTestFiles.WriteAuthorizedUser(Path.Combine(gcloud, "legacy_credentials", "me@example.com", "adc.json"));

        // Each source in turn, on Google's endpoint: resolving and logging send nothing.
        var variables = new Dictionary<string, string> { ["HOME"] = _home, ["GOOGLE_APPLICATION_CREDENTIALS"] = serviceAccount };
        foreach (var drop in new[] { string.Empty, "GOOGLE_APPLICATION_CREDENTIALS", "wellKnown" })
        {
            if (drop == "GOOGLE_APPLICATION_CREDENTIALS")
            {
                variables.Remove(drop);
            }
            else if (drop == "wellKnown")
            {
                File.Delete(Path.Combine(gcloud, "application_default_credentials.json"));
            }

            using var store = new GcsCheckpointStore(new Uri("gs://bucket/p"), null, null, null, logger, null, name => variables.GetValueOrDefault(name));
            witness.See(store.CredentialSource);
            witness.See(store);
        }

        // A file that cannot be used, with a secret inside.
        var broken = Path.Combine(_home, "broken.json");
        await File.WriteAllTextAsync(broken, $$"""{"type": "authorized_user", "client_secret": "{{GcsTestFiles.ClientSecret}}", "refresh_token": 5}""");
        witness.See(Assert.Throws<CredentialsException>(() => new GcsCheckpointStore(
            new Uri("gs://bucket/p"), new GcsStoreOptions { CredentialsFile = broken }, null, null, logger, null, _ => null)));

        // A save and a restore through faults, and a failing save into a missing bucket, all logged at trace level.
        await using (var server = await GcsTestServer.StartAsync())
        {
            using var store = GcsTestStores.Create(server, prefix: "secrets", chunkSizeMiB: 0.25, logger: logger);
            var manager = new CheckpointManager(store, JobContext.Create(), new CheckpointManagerOptions { RunId = "run", Resilience = GcsTestStores.FastRetries() }, factory.CreateLogger<CheckpointManager>());
            server.Faults.ResetMidChunk(1, afterBytes: 1000);
            server.Faults.TooManyRequests(1, retryAfterSeconds: 0);
            await manager.SaveAsync(1, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream(new byte[MiBs(1)]) });
            witness.See(await manager.RestoreLatestAsync(Path.Combine(_home, "restore")));
            witness.See(manager.Options);

            using var missing = GcsTestStores.Create(server, bucket: "missing-bucket", logger: logger);
            var failing = new CheckpointManager(missing, JobContext.Create(), new CheckpointManagerOptions { RunId = "run" }, factory.CreateLogger<CheckpointManager>());
            witness.See(await Record.ExceptionAsync(() => failing.SaveAsync(2, new Dictionary<string, Stream> { ["m.bin"] = new MemoryStream([1]) })));
        }

        Assert.True(witness.LogLines > 0, "nothing was logged");
        Assert.True(witness.Saw(serviceAccount), "the credential file's path was not logged");
        witness.AssertNoSecretSeen();
    }

    private static int MiBs(int count) => count * 1024 * 1024;
}
