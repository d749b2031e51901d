using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;

namespace Konduktor.Storage.S3;

/// <summary>
/// The settings a store runs with, resolved once from <see cref="S3StoreOptions"/>, the environment and the profile files:
/// the endpoint, region, addressing, protocol compatibility and the credentials' source.
/// </summary>
/// <param name="Config">The SDK configuration: SDK retries off (the store's policy is the one retry layer).</param>
/// <param name="Endpoint">The endpoint, for messages: a URL, or "AWS" for the regional default.</param>
/// <param name="Region">The region requests are signed for, or "(SDK default)".</param>
/// <param name="Generic">Whether the server is treated as a generic S3 clone: unchunked uploads, single deletes.</param>
/// <param name="ConditionalDelete">Whether DELETE is sent with <c>If-Match</c>.</param>
internal sealed record S3Connection(AmazonS3Config Config, string Endpoint, string Region, bool Generic, bool ConditionalDelete)
{
    private const string AwsEndpoint = "AWS (regional endpoint)";

    /// <summary>"path" or "virtual-hosted".</summary>
    public string Addressing => Config.ForcePathStyle ? "path" : "virtual-hosted";

    /// <summary>Resolves the connection settings.</summary>
    /// <exception cref="CheckpointConfigurationException">No region can be found for AWS, or an endpoint is not a URL.</exception>
    public static S3Connection Resolve(S3StoreOptions options, Func<string, string?> environment)
    {
        var (endpoint, endpointSource) = CustomEndpoint(options, environment);
        var generic = options.Compatibility == S3Compatibility.Generic || (options.Compatibility == S3Compatibility.Auto && endpoint is not null);
        var config = new AmazonS3Config
        {
            // One retry layer: the store's policy. The SDK would otherwise multiply attempts.
            MaxErrorRetry = 0,

            // The endpoint is resolved here, so the SDK must not silently override it from the environment or a profile.
            IgnoreConfiguredEndpointUrls = true,
        };

        string region;
        if (endpoint is not null)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CheckpointConfigurationException(endpointSource!, endpoint, "an absolute http:// or https:// URL");
            }

            config.ServiceURL = endpoint;
            config.ForcePathStyle = options.ForcePathStyle ?? generic;
            region = options.Region ?? RegionFromEnvironment(options, environment) ?? "us-east-1";
            config.AuthenticationRegion = region;
        }
        else
        {
            region = options.Region ?? RegionFromEnvironment(options, environment)
                ?? throw new CheckpointConfigurationException(
                    $"{S3StoreOptions.SectionName}:Region", null, "a region such as eu-west-1 (or AWS_REGION, or a region in the AWS profile)");
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            config.ForcePathStyle = options.ForcePathStyle ?? false;
        }

        if (generic)
        {
            // S3 clones reject (or worse, store) aws-chunked bodies with CRC32 trailers; checksums only where S3 requires them.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }

        var conditionalDelete = options.ConditionalDelete ?? !generic;
        return new S3Connection(config, endpoint ?? AwsEndpoint, region, generic, conditionalDelete);
    }

    /// <summary>The custom endpoint and the setting it came from, or nothing for AWS.</summary>
    internal static (string? Endpoint, string? Source) CustomEndpoint(S3StoreOptions options, Func<string, string?> environment)
    {
        if (options.ConfiguredEndpoint is ({ } configured, var name) && !string.IsNullOrWhiteSpace(configured))
        {
            return (configured, $"{S3StoreOptions.SectionName}:{name}");
        }

        if (string.Equals(environment("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return (null, null);
        }

        foreach (var variable in (string[])["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
        {
            if (environment(variable) is { Length: > 0 } url)
            {
                return (url, variable);
            }
        }

        var profile = Profile(options, environment);
        return profile?.EndpointUrl is { Length: > 0 } profileUrl
            ? (profileUrl, $"endpoint_url of the AWS profile '{profile.Name}'")
            : (null, null);
    }

    private static string? RegionFromEnvironment(S3StoreOptions options, Func<string, string?> environment) =>
        environment("AWS_REGION") is { Length: > 0 } region ? region
        : environment("AWS_DEFAULT_REGION") is { Length: > 0 } fallback ? fallback
        : Profile(options, environment)?.Region?.SystemName;

    private static CredentialProfile? Profile(S3StoreOptions options, Func<string, string?> environment)
    {
        if (options.CredentialsFile is { } file && !File.Exists(file))
        {
            return null;
        }

        var name = options.Profile ?? environment("AWS_PROFILE") ?? "default";
        return new CredentialProfileStoreChain(options.CredentialsFile).TryGetProfile(name, out var profile) ? profile : null;
    }
}
