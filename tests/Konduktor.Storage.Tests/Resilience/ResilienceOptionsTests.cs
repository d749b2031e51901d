namespace Konduktor.Storage.Tests;

public sealed class ResilienceOptionsTests
{
    public static TheoryData<string, Action<ResilienceOptions>, string> InvalidValues => new()
    {
        { "MaxRetryAttempts", o => o.MaxRetryAttempts = -1, "-1" },
        { "MaxRetryAttempts", o => o.MaxRetryAttempts = 101, "101" },
        { "BaseDelay", o => o.BaseDelay = TimeSpan.Zero, "00:00:00" },
        { "MaxDelay", o => o.MaxDelay = TimeSpan.FromSeconds(-1), "-00:00:01" },
        { "AttemptTimeout", o => o.AttemptTimeout = TimeSpan.Zero, "00:00:00" },
        { "TotalTimeout", o => o.TotalTimeout = TimeSpan.FromDays(2), "2.00:00:00" },
        { "StallTimeout", o => o.StallTimeout = TimeSpan.FromMilliseconds(-5), "-00:00:00.0050000" },
        { "BaseDelay", o => o.BaseDelay = TimeSpan.FromMinutes(1), "00:01:00" },
        { "AttemptTimeout", o => o.AttemptTimeout = TimeSpan.FromHours(1), "01:00:00" },
    };

    [Fact]
    public void Defaults_AreValidAndAsDocumented()
    {
        var options = new ResilienceOptions();

        Assert.True(new ResilienceOptionsValidator().Validate(null, options).Succeeded);
        ResilienceOptionsValidation.ThrowIfInvalid(options);
        Assert.Equal(6, options.MaxRetryAttempts);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxDelay);
        Assert.Equal(TimeSpan.FromMinutes(2), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMinutes(30), options.TotalTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.StallTimeout);
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void Validate_InvalidValue_FailureNamesKeyAndValue(string property, Action<ResilienceOptions> breakIt, string value)
    {
        var options = new ResilienceOptions();
        breakIt(options);

        var result = new ResilienceOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"Konduktor:Checkpoints:Resilience:{property} = '{value}'", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidValues))]
    public void ThrowIfInvalid_InvalidValue_NamesKeyValueAndWhatIsAllowed(string property, Action<ResilienceOptions> breakIt, string value)
    {
        var options = new ResilienceOptions();
        breakIt(options);

        var error = Assert.Throws<CheckpointConfigurationException>(() => ResilienceOptionsValidation.ThrowIfInvalid(options));

        Assert.Equal($"Konduktor:Checkpoints:Resilience:{property}", error.Key);
        Assert.Equal(value, error.Value);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
        Assert.Contains("expected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BaseDelayAboveMaxDelay_NamesBothKeysAndTheValue()
    {
        var options = new ResilienceOptions { BaseDelay = TimeSpan.FromSeconds(40), MaxDelay = TimeSpan.FromSeconds(30) };

        var result = new ResilienceOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Konduktor:Checkpoints:Resilience:BaseDelay = '00:00:40'", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Konduktor:Checkpoints:Resilience:MaxDelay", result.FailureMessage, StringComparison.Ordinal);
    }
}
