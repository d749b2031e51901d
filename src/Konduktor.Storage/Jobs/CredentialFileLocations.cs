namespace Konduktor.Storage;

/// <summary>
/// Where the cloud SDKs look for credential files, in one place: <see cref="JobContext"/> reports what exists there and the
/// GCS store loads from there, so the two never disagree about a path.
/// </summary>
internal static class CredentialFileLocations
{
    /// <summary><c>~/.aws/credentials</c>, or <see langword="null"/> without a home directory.</summary>
    public static string? AwsCredentials(string? home) => home is null ? null : Path.Combine(home, ".aws", "credentials");

    /// <summary><c>~/.aws/config</c>, or <see langword="null"/> without a home directory.</summary>
    public static string? AwsConfig(string? home) => home is null ? null : Path.Combine(home, ".aws", "config");

    /// <summary>gcloud's well-known Application Default Credentials file, or <see langword="null"/> without a home directory.</summary>
    public static string? GcloudAdc(string? home) => home is null ? null : Path.Combine(Gcloud(home), "application_default_credentials.json");

    /// <summary>
    /// gcloud's per-account <c>legacy_credentials/&lt;account&gt;/adc.json</c> candidates (they may not exist), sorted by account so
    /// that every pod with the same mount sees the same order.
    /// </summary>
    /// <param name="home">The home directory.</param>
    /// <param name="getDirectories">Lists a folder's subfolders; empty when the folder does not exist.</param>
    public static IEnumerable<(string Account, string Path)> GcloudLegacyAdc(string? home, Func<string, IEnumerable<string>> getDirectories) =>
        home is null
            ? []
            : getDirectories(Path.Combine(Gcloud(home), "legacy_credentials"))
                .Order(StringComparer.Ordinal)
                .Select(static account => (System.IO.Path.GetFileName(account), System.IO.Path.Combine(account, "adc.json")));

    private static string Gcloud(string home) => Path.Combine(home, ".config", "gcloud");
}
