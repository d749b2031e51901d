using System.Globalization;

namespace Konduktor.Storage.Gcs;

/// <summary>Validates <see cref="GcsStoreOptions"/> at start-up, naming the configuration key, the value and what is allowed.</summary>
internal sealed class GcsStoreOptionsValidator() : StoreOptionsValidator<GcsStoreOptions>(GcsStoreOptions.SectionName)
{
    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(GcsStoreOptions options) => new GcsStoreOptionsValidator().Problems(options).ThrowIfAny();

    protected override void Check(GcsStoreOptions options, ConfigurationProblems problems)
    {
        var (partSize, partSizeName) = options.ConfiguredPartSize;
        var quarters = partSize * 4;
        if (!double.IsFinite(quarters) || quarters != Math.Floor(quarters) || quarters < 1 || quarters > 4096)
        {
            problems.Add(
                Key(partSizeName),
                partSize.ToString(CultureInfo.InvariantCulture),
                "a multiple of 0.25 (GCS uploads in units of 256 KiB) from 0.25 to 1024, e.g. 8 or 16.5");
        }

        CheckConcurrency(problems, options.Concurrency);

        if (options.ConfiguredEndpoint is ({ } endpoint, var endpointName) && ParseEndpoint(endpoint) is null)
        {
            problems.Add(Key(endpointName), endpoint, "an absolute http:// or https:// URL of a server or of its JSON API, e.g. http://127.0.0.1:4443");
        }

        foreach (var (former, value, current) in options.Contradictions())
        {
            AddFormerNameConflict(problems, former, value, current);
        }

        if (options.ProjectId is { } project && (project.Length == 0 || project.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or ':' or '.'))))
        {
            problems.Add(Key(nameof(options.ProjectId)), project, "a project id such as my-project-123, or unset");
        }

        CheckCredentialsFile(problems, options.CredentialsFile, "an absolute path to a service-account or authorized-user JSON file, or unset");
    }

    /// <summary>
    /// The JSON API's base URI with a trailing '/' (a server root gets <c>storage/v1/</c>), or <see langword="null"/> when the
    /// value is not an absolute http(s) URL.
    /// </summary>
    internal static Uri? ParseEndpoint(string value)
    {
        if (!Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        return uri.AbsolutePath == "/" ? new Uri(uri, "storage/v1/") : uri;
    }

    internal static string Key(string property) => $"{GcsStoreOptions.SectionName}:{property}";
}
