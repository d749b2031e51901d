using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;

namespace Konduktor.Storage.S3;

/// <summary>
/// Finds the credentials a store signs with, and names where they came from (never the secret): explicit ones, a profile of a
/// given credentials file, or the SDK's default chain (environment, web identity, profile files, container/instance metadata).
/// </summary>
internal static class S3CredentialResolver
{
    private const string DefaultFiles = "~/.aws/credentials and ~/.aws/config";

    /// <summary>Resolves the credentials.</summary>
    /// <exception cref="CredentialsException">No credentials were found, or the named profile or file does not exist.</exception>
    public static (AWSCredentials Credentials, string Source) Resolve(
        S3StoreOptions options, AWSCredentials? explicitCredentials, IClientConfig config, Func<string, string?> environment)
    {
        if (explicitCredentials is not null)
        {
            return (explicitCredentials, "credentials given to the store in code");
        }

        if (options.Profile is not null || options.CredentialsFile is not null)
        {
            return FromProfile(options, environment);
        }

        try
        {
            var credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials(config)
                ?? throw new AmazonClientException("The default credential chain returned nothing.");
            return (credentials, Describe(credentials, environment));
        }
        catch (AmazonClientException e)
        {
            throw new CredentialsException("No AWS credentials were found for the S3 store.", DefaultChainSources(environment), e);
        }
    }

    /// <summary>The sources the SDK's default chain looks at, in order, as they apply to this environment.</summary>
    internal static IReadOnlyList<string> DefaultChainSources(Func<string, string?> environment)
    {
        var profile = environment("AWS_PROFILE") ?? "default";
        var credentialsFile = environment("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials";
        return
        [
            "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            environment("AWS_WEB_IDENTITY_TOKEN_FILE") is { } token ? $"web identity token {token}" : "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE not set)",
            $"profile '{profile}' in {credentialsFile} and the config file next to it",
            "container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*)",
            "EC2 instance metadata",
        ];
    }

    private static (AWSCredentials, string) FromProfile(S3StoreOptions options, Func<string, string?> environment)
    {
        var name = options.Profile ?? environment("AWS_PROFILE") ?? "default";
        var file = options.CredentialsFile;
        var source = $"profile '{name}' in {file ?? DefaultFiles}";
        if (file is not null && !File.Exists(file))
        {
            throw new CredentialsException(
                $"The credentials file {file} ({S3StoreOptions.SectionName}:CredentialsFile) does not exist.", [source]);
        }

        var chain = new CredentialProfileStoreChain(file);
        if (!chain.TryGetProfile(name, out _))
        {
            throw new CredentialsException($"The AWS profile '{name}' does not exist.", [source]);
        }

        try
        {
            if (chain.TryGetAWSCredentials(name, out var credentials) && credentials is not null)
            {
                return (credentials, source);
            }
        }
        catch (AmazonClientException e)
        {
            throw new CredentialsException($"The AWS profile '{name}' has no usable credentials.", [source], e);
        }

        throw new CredentialsException($"The AWS profile '{name}' has no usable credentials.", [source]);
    }

    private static string Describe(AWSCredentials credentials, Func<string, string?> environment) => credentials switch
    {
        EnvironmentVariablesAWSCredentials => "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        AssumeRoleWithWebIdentityCredentials => $"web identity token {environment("AWS_WEB_IDENTITY_TOKEN_FILE") ?? "(unknown file)"}",
        GenericContainerCredentials => "container credentials endpoint",
        InstanceProfileAWSCredentials => "EC2 instance metadata",
        _ => $"the AWS default chain ({credentials.GetType().Name}, profile '{environment("AWS_PROFILE") ?? "default"}' in {environment("AWS_SHARED_CREDENTIALS_FILE") ?? DefaultFiles})",
    };
}
