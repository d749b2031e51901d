using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage.S3;

/// <summary>Validates <see cref="S3StoreOptions"/> at start-up, naming the configuration key, the value and what is allowed.</summary>
internal sealed class S3StoreOptionsValidator : IValidateOptions<S3StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, S3StoreOptions options)
    {
        try
        {
            ThrowIfInvalid(options);
            return ValidateOptionsResult.Success;
        }
        catch (CheckpointConfigurationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }

    /// <exception cref="CheckpointConfigurationException">A value is invalid.</exception>
    public static void ThrowIfInvalid(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PartSizeMiB is < 5 or > 1024)
        {
            throw Invalid(nameof(options.PartSizeMiB), options.PartSizeMiB, "an integer from 5 (S3's smallest part) to 1024 (one part is one in-memory buffer), in MiB");
        }

        if (options.Concurrency is < 1 or > 64)
        {
            throw Invalid(nameof(options.Concurrency), options.Concurrency, "an integer from 1 to 64");
        }

        if (options.SinglePutThresholdMiB is < 1 or > 5120)
        {
            throw Invalid(nameof(options.SinglePutThresholdMiB), options.SinglePutThresholdMiB.Value, "an integer from 1 to 5120 (S3's single PUT limit, in MiB), or unset");
        }

        if (!Enum.IsDefined(options.Compatibility))
        {
            throw new CheckpointConfigurationException(Key(nameof(options.Compatibility)), options.Compatibility.ToString(), "Auto, Aws or Generic");
        }

        if (options.ServiceUrl is { } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            throw new CheckpointConfigurationException(Key(nameof(options.ServiceUrl)), url, "an absolute http:// or https:// URL, e.g. http://rgw.local:7480");
        }

        if (options.Region is { } region && (region.Length == 0 || region.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))))
        {
            throw new CheckpointConfigurationException(Key(nameof(options.Region)), region, "a region name such as eu-west-1");
        }

        if (options.Profile is { } profile && string.IsNullOrWhiteSpace(profile))
        {
            throw new CheckpointConfigurationException(Key(nameof(options.Profile)), profile, "a profile name, or unset");
        }

        if (options.CredentialsFile is { } file && (string.IsNullOrWhiteSpace(file) || !Path.IsPathFullyQualified(file)))
        {
            throw new CheckpointConfigurationException(Key(nameof(options.CredentialsFile)), file, "an absolute path to a shared credentials file, or unset");
        }
    }

    private static string Key(string property) => $"{S3StoreOptions.SectionName}:{property}";

    private static CheckpointConfigurationException Invalid(string property, int value, string expected) =>
        new(Key(property), value.ToString(CultureInfo.InvariantCulture), expected);
}
