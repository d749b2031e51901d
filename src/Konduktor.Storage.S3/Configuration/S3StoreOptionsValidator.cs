using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage.S3;

/// <summary>Validates <see cref="S3StoreOptions"/> at start-up, naming the configuration key, the value and what is allowed.</summary>
internal sealed class S3StoreOptionsValidator : IValidateOptions<S3StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, S3StoreOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(S3StoreOptions options) => Problems(options).ThrowIfAny();

    private static ConfigurationProblems Problems(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new ConfigurationProblems();
        if (options.PartSizeMiB is < 5 or > 1024)
        {
            problems.Add(Key(nameof(options.PartSizeMiB)), Text(options.PartSizeMiB), "an integer from 5 (S3's smallest part) to 1024 (one part is one in-memory buffer), in MiB");
        }

        if (options.Concurrency is < 1 or > 64)
        {
            problems.Add(Key(nameof(options.Concurrency)), Text(options.Concurrency), "an integer from 1 to 64");
        }

        if (options.SinglePutThresholdMiB is < 1 or > 5120)
        {
            problems.Add(Key(nameof(options.SinglePutThresholdMiB)), Text(options.SinglePutThresholdMiB.Value), "an integer from 1 to 5120 (S3's single PUT limit, in MiB), or unset");
        }

        if (!Enum.IsDefined(options.Compatibility))
        {
            problems.Add(Key(nameof(options.Compatibility)), options.Compatibility.ToString(), "Auto, Aws or Generic");
        }

        if (options.ConfiguredEndpoint is ({ } url, var name)
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add(Key(name), url, "an absolute http:// or https:// URL, e.g. http://rgw.local:7480");
        }

        if (options.EndpointSetTwice)
        {
            problems.Add(Key("ServiceUrl"), options.ConfiguredEndpoint.Url!, $"unset: it is the former name of {Key(nameof(options.Endpoint))}, which is set to another value");
        }

        if (options.Region is { } region && (region.Length == 0 || region.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))))
        {
            problems.Add(Key(nameof(options.Region)), region, "a region name such as eu-west-1");
        }

        if (options.Profile is { } profile && string.IsNullOrWhiteSpace(profile))
        {
            problems.Add(Key(nameof(options.Profile)), profile, "a profile name, or unset");
        }

        if (options.CredentialsFile is { } file && (string.IsNullOrWhiteSpace(file) || !Path.IsPathFullyQualified(file)))
        {
            problems.Add(Key(nameof(options.CredentialsFile)), file, "an absolute path to a shared credentials file, or unset");
        }

        return problems;
    }

    private static string Key(string property) => $"{S3StoreOptions.SectionName}:{property}";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
