namespace Konduktor.Storage.Gcs;

/// <summary>Where the store sends its requests, resolved once from <see cref="GcsStoreOptions"/> and the environment.</summary>
/// <param name="BaseUri">The JSON API's base URI, ending in '/' (e.g. <c>https://storage.googleapis.com/storage/v1/</c>).</param>
/// <param name="Source">Which setting chose it, for messages.</param>
/// <param name="Authenticated">Whether requests carry credentials: never over plain http (emulators and test servers).</param>
internal sealed record GcsConnection(Uri BaseUri, string Source, bool Authenticated)
{
    /// <summary>Google Cloud Storage's JSON API.</summary>
    public static readonly Uri DefaultBaseUri = new("https://storage.googleapis.com/storage/v1/");

    /// <summary>The variable Google's libraries read to talk to an emulator (<c>host:port</c>, unauthenticated).</summary>
    public const string EmulatorHostVariable = "STORAGE_EMULATOR_HOST";

    /// <summary>Where resumable uploads start: the base URI with <c>/upload</c> in front of its path.</summary>
    public Uri UploadBaseUri => new(BaseUri, "/upload" + BaseUri.AbsolutePath);

    /// <summary>Resolves the connection.</summary>
    /// <exception cref="CheckpointConfigurationException"><c>STORAGE_EMULATOR_HOST</c> is not a host and port.</exception>
    public static GcsConnection Resolve(GcsStoreOptions options, Func<string, string?> environment)
    {
        if (options.ConfiguredEndpoint is ({ } configured, var name))
        {
            var key = GcsStoreOptionsValidator.Key(name);
            var uri = GcsStoreOptionsValidator.ParseEndpoint(configured)
                ?? throw new CheckpointConfigurationException(key, configured, "an absolute http:// or https:// URL");
            return new GcsConnection(uri, key, uri.Scheme == Uri.UriSchemeHttps);
        }

        if (environment(EmulatorHostVariable) is { Length: > 0 } host)
        {
            // Google's libraries accept "host:port" and "http://host:port", and never authenticate to an emulator.
            var root = host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host;
            if (!Uri.TryCreate(root.TrimEnd('/') + "/storage/v1/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CheckpointConfigurationException(EmulatorHostVariable, host, "an emulator's host and port, e.g. 127.0.0.1:4443");
            }

            return new GcsConnection(uri, EmulatorHostVariable, Authenticated: false);
        }

        return new GcsConnection(DefaultBaseUri, "Google Cloud Storage", Authenticated: true);
    }
}
