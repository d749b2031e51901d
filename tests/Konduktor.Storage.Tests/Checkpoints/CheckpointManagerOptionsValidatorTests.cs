namespace Konduktor.Storage.Tests;

/// <summary>The validator reports every invalid value at once, naming each key and value.</summary>
public sealed class CheckpointManagerOptionsValidatorTests
{
    [Fact]
    public void Validate_TwoInvalidValues_NamesBoth()
    {
        var options = new CheckpointManagerOptions { BufferSize = 100 };
        options.Retention.KeepLast = -2;

        var result = new CheckpointManagerOptionsValidator().Validate(null, options);
        var ex = Assert.Throws<CheckpointConfigurationException>(() => CheckpointManagerOptionsValidator.ThrowIfInvalid(options));

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
        foreach (var message in new[] { result.FailureMessage, ex.Message })
        {
            Assert.Contains("Konduktor:Checkpoints:Retention:KeepLast = '-2'", message, StringComparison.Ordinal);
            Assert.Contains("Konduktor:Checkpoints:BufferSize = '100'", message, StringComparison.Ordinal);
        }
    }
}
