using System.Globalization;

using Microsoft.Extensions.Options;

namespace Konduktor.Storage.Gcs;

/// <summary>Validates <see cref="GcsStoreOptions"/> at start-up, naming the configuration key, the value and what is allowed.</summary>
internal sealed class GcsStoreOptionsValidator : IValidateOptions<GcsStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, GcsStoreOptions options) => Problems(options).ToResult();

    /// <exception cref="CheckpointConfigurationException">A value is invalid; the message names every invalid value.</exception>
    public static void ThrowIfInvalid(GcsStoreOptions options) => Problems(options).ThrowIfAny();

    private static ConfigurationProblems Problems(GcsStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new ConfigurationProblems();
        var quarters = options.ChunkSizeMiB * 4;
        if (!double.IsFinite(quarters) || quarters != Math.Floor(quarters) || quarters < 1 || quarters > 4096)
        {
            problems.Add(
                Key(nameof(options.ChunkSizeMiB)),
                options.ChunkSizeMiB.ToString(CultureInfo.InvariantCulture),
                "a multiple of 0.25 (GCS uploads in units of 256 KiB) from 0.25 to 1024, e.g. 8 or 16.5");
        }

        if (options.Concurrency is < 1 or > 64)
        {
            problems.Add(Key(nameof(options.Concurrency)), options.Concurrency.ToString(CultureInfo.InvariantCulture), "an integer from 1 to 64");
        }

        if (options.BaseUri is { } baseUri && ParseBaseUri(baseUri) is null)
        {
            problems.Add(Key(nameof(options.BaseUri)), baseUri, "an absolute http:// or https:// URL of the JSON API, e.g. http://127.0.0.1:4443/storage/v1/");
        }

        if (options.ProjectId is { } project && (project.Length == 0 || project.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or ':' or '.'))))
        {
            problems.Add(Key(nameof(options.ProjectId)), project, "a project id such as my-project-123, or unset");
        }

        if (options.CredentialsFile is { } file && (string.IsNullOrWhiteSpace(file) || !Path.IsPathFullyQualified(file)))
        {
            problems.Add(Key(nameof(options.CredentialsFile)), file, "an absolute path to a service-account or authorized-user JSON file, or unset");
        }

        return problems;
    }

    /// <summary>The base URI with a trailing '/', or <see langword="null"/> when it is not an absolute http(s) URL.</summary>
    internal static Uri? ParseBaseUri(string value) =>
        Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : null;

    internal static string Key(string property) => $"{GcsStoreOptions.SectionName}:{property}";
}
