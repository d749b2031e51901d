namespace Konduktor.Storage.Gcs.Tests;

/// <summary>The validator reports every invalid value at once, naming each key and value.</summary>
public sealed class GcsStoreOptionsValidatorTests
{
    [Fact]
    public void Validate_TwoInvalidValues_NamesBoth()
    {
        var options = new GcsStoreOptions { PartSizeMiB = 0.3, ProjectId = "my project" };

        var result = new GcsStoreOptionsValidator().Validate(null, options);
        var ex = Assert.Throws<CheckpointConfigurationException>(() => GcsStoreOptionsValidator.ThrowIfInvalid(options));

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
        foreach (var message in new[] { result.FailureMessage, ex.Message })
        {
            Assert.Contains("Gcs:PartSizeMiB = '0.3'", message, StringComparison.Ordinal);
            Assert.Contains("Gcs:ProjectId = 'my project'", message, StringComparison.Ordinal);
        }

        Assert.Equal($"{GcsStoreOptions.SectionName}:PartSizeMiB", ex.Key);
    }
}
