using System.Text.Json;

using Google.Apis.Auth.OAuth2;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// Finds the credentials the store authenticates with, and names where they came from (never a secret): the configured file,
/// then Application Default Credentials' files (<c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's well-known file), then
/// gcloud's per-account <c>legacy_credentials/&lt;account&gt;/adc.json</c> (what a mounted gcloud folder may hold, and ADC
/// does not read), then the metadata server.
/// </summary>
internal static class GcsCredentialResolver
{
    /// <summary>The metadata server: the last source, tried lazily at the first request (nothing is sent at resolution).</summary>
    public const string MetadataServer = "the GCE/GKE metadata server";

    /// <summary>Resolves the credentials.</summary>
    /// <exception cref="CredentialsException">A named file is missing, unreadable, or not a service-account or authorized-user file.</exception>
    public static (GoogleCredential Credential, string Source) Resolve(GcsStoreOptions options, Func<string, string?> environment)
    {
        var tried = new List<string>();
        if (options.CredentialsFile is { } configured)
        {
            return Load(configured, $"{GcsStoreOptionsValidator.Key(nameof(options.CredentialsFile))} ({configured})", required: true, tried)!.Value;
        }

        if (environment("GOOGLE_APPLICATION_CREDENTIALS") is { Length: > 0 } named)
        {
            // ADC fails when the variable names a missing file rather than looking further: so does the store.
            return Load(named, $"GOOGLE_APPLICATION_CREDENTIALS ({named})", required: true, tried)!.Value;
        }

        tried.Add("GOOGLE_APPLICATION_CREDENTIALS (not set)");
        if (environment("HOME") is { Length: > 0 } home)
        {
            var wellKnown = CredentialFileLocations.GcloudAdc(home)!;
            if (Load(wellKnown, $"gcloud's application default credentials ({wellKnown})", required: false, tried) is { } adc)
            {
                return adc;
            }

            foreach (var (account, legacy) in CredentialFileLocations.GcloudLegacyAdc(home, Subfolders))
            {
                if (Load(legacy, $"gcloud's legacy credentials of {account} ({legacy})", required: false, tried) is { } found)
                {
                    return found;
                }
            }
        }
        else
        {
            tried.Add("gcloud's files under $HOME/.config/gcloud (HOME not set)");
        }

        tried.Add(MetadataServer);
        return (GoogleCredential.FromComputeCredential(new ComputeCredential()), $"{MetadataServer} (no credential file found: {string.Join("; ", tried.SkipLast(1))})");
    }

    private static string[] Subfolders(string folder)
    {
        try
        {
            return Directory.Exists(folder) ? Directory.GetDirectories(folder) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static (GoogleCredential, string)? Load(string path, string source, bool required, List<string> tried)
    {
        if (!File.Exists(path))
        {
            tried.Add($"{source}: no such file");
            if (required)
            {
                throw new CredentialsException($"The credentials file {path} does not exist.", tried);
            }

            return null;
        }

        tried.Add(source);
        try
        {
            var type = CredentialType(path);
            var credential = CredentialFactory.FromFile(path, type);
            return (credential, $"{source}, {type}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            // The message names the file and the kind of problem only: the library's own may quote the file's contents.
            throw new CredentialsException(
                $"The credentials file {path} cannot be used ({e.GetType().Name}); expected a service_account or authorized_user JSON file.", tried);
        }
    }

    /// <summary>The file's <c>type</c>: only the kinds ADC files hold are accepted.</summary>
    private static string CredentialType(string path)
    {
        using var stream = File.OpenRead(path);
        using var json = JsonDocument.Parse(stream);
        var type = json.RootElement.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        return type is JsonCredentialParameters.ServiceAccountCredentialType
            or JsonCredentialParameters.AuthorizedUserCredentialType
            or JsonCredentialParameters.ExternalAccountCredentialType
            or JsonCredentialParameters.ImpersonatedServiceAccountCredentialType
            ? type
            : throw new InvalidOperationException("unknown credential type");
    }
}
