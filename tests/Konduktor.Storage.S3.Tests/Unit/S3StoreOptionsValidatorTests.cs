namespace Konduktor.Storage.S3.Tests;

/// <summary>The validator reports every invalid value at once, naming each key and value.</summary>
public sealed class S3StoreOptionsValidatorTests
{
    [Fact]
    public void Validate_TwoInvalidValues_NamesBoth()
    {
        var options = new S3StoreOptions { PartSizeMiB = 4, Concurrency = 65 };

        var result = new S3StoreOptionsValidator().Validate(null, options);
        var ex = Assert.Throws<CheckpointConfigurationException>(() => S3StoreOptionsValidator.ThrowIfInvalid(options));

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
        foreach (var message in new[] { result.FailureMessage, ex.Message })
        {
            Assert.Contains("S3:PartSizeMiB = '4'", message, StringComparison.Ordinal);
            Assert.Contains("S3:Concurrency = '65'", message, StringComparison.Ordinal);
        }

        Assert.Equal($"{S3StoreOptions.SectionName}:PartSizeMiB", ex.Key);
        Assert.Equal("4", ex.Value);
    }
}
