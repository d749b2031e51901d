using System.Globalization;

namespace Konduktor.Storage.S3;

/// <summary>Validates <see cref="S3StoreOptions"/> at start-up, naming the configuration key, the value and what is allowed.</summary>
internal sealed class S3StoreOptionsValidator() : StoreOptionsValidator<S3StoreOptions>(S3StoreOptions.SectionName)
{
    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(S3StoreOptions options) => new S3StoreOptionsValidator().Problems(options).ThrowIfAny();

    protected override void Check(S3StoreOptions options, ConfigurationProblems problems)
    {
        if (options.PartSizeMiB is < 5 or > 1024)
        {
            problems.Add(Key(nameof(options.PartSizeMiB)), Text(options.PartSizeMiB), "an integer from 5 (S3's smallest part) to 1024 (one part is one in-memory buffer), in MiB");
        }

        CheckConcurrency(problems, options.Concurrency);

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
            AddFormerNameConflict(problems, "ServiceUrl", options.ConfiguredEndpoint.Url!, nameof(options.Endpoint));
        }

        if (options.Region is { } region && (region.Length == 0 || region.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-'))))
        {
            problems.Add(Key(nameof(options.Region)), region, "a region name such as eu-west-1");
        }

        if (options.Profile is { } profile && string.IsNullOrWhiteSpace(profile))
        {
            problems.Add(Key(nameof(options.Profile)), profile, "a profile name, or unset");
        }

        CheckCredentialsFile(problems, options.CredentialsFile, "an absolute path to a shared credentials file, or unset");
    }

    private static string Key(string property) => $"{S3StoreOptions.SectionName}:{property}";

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
