using Konduktor.Storage.Testing;

using Microsoft.Extensions.Logging;

using Xunit.Sdk;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The test kit's secrets witness catches a secret wherever a user could see it, so the stores' secrets tests can trust it.</summary>
public sealed class SecretsWitnessTests
{
    private const string Secret = "s3cr3t-value";

    [Fact]
    public void AssertNoSecretSeen_SecretOnlyInAStructuredLogValue_Fails()
    {
        var witness = new SecretsWitness(Secret);
        using (var logs = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(witness)))
        {
            // The template leaves the value out of the message; a structured sink would still write it.
            KeyValuePair<string, object?>[] state = [new("key", Secret)];
            logs.CreateLogger("x").Log(LogLevel.Trace, default, state, null, (_, _) => "nothing to see");
        }

        var failure = Assert.Throws<TrueException>(witness.AssertNoSecretSeen);

        Assert.DoesNotContain(Secret, failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, witness.LogLines);
    }

    [Fact]
    public void AssertNoSecretSeen_SecretInAnInnerException_Fails()
    {
        var witness = new SecretsWitness("other", Secret);

        witness.See(new CheckpointStorageException("outer", new InvalidOperationException("inner " + Secret)));

        Assert.Throws<TrueException>(witness.AssertNoSecretSeen);
    }

    [Fact]
    public void AssertNoSecretSeen_SecretInAnObjectsText_Fails()
    {
        var witness = new SecretsWitness(Secret);

        witness.See(new { Password = Secret });

        Assert.Throws<TrueException>(witness.AssertNoSecretSeen);
    }

    [Fact]
    public void AssertNoSecretSeen_NothingSecret_Passes()
    {
        var witness = new SecretsWitness(Secret);

        witness.See(new CheckpointStorageException("S3 PUT of 'k' failed: 500"));
        witness.See(new CheckpointManagerOptions());

        witness.AssertNoSecretSeen();
        Assert.True(witness.Texts >= 2);
    }
}
