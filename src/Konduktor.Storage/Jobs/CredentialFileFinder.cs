namespace Konduktor.Storage;

/// <summary>Finds the credential files Konduktor mounts or the environment names, by existence only.</summary>
internal static class CredentialFileFinder
{
    public static (IReadOnlyList<CredentialFile> Found, IReadOnlyList<CredentialFile> Missing) Find(IJobEnvironment environment)
    {
        var found = new List<CredentialFile>();
        var missing = new List<CredentialFile>();
        var home = environment.HomeDirectory;

        // Listed in the order the SDKs prefer them: a file named by a variable before the default location.
        AddNamed(CredentialFileKinds.AwsCredentials, JobVariables.AwsSharedCredentialsFile);
        AddDefault(CredentialFileKinds.AwsCredentials, ".aws", "credentials");
        AddNamed(CredentialFileKinds.AwsConfig, JobVariables.AwsConfigFile);
        AddDefault(CredentialFileKinds.AwsConfig, ".aws", "config");
        AddNamed(CredentialFileKinds.GoogleApplicationCredentials, JobVariables.GoogleApplicationCredentials);
        AddDefault(CredentialFileKinds.GcloudAdc, ".config", "gcloud", "application_default_credentials.json");

        if (home is not null)
        {
            var legacy = Path.Combine(home, ".config", "gcloud", "legacy_credentials");

            // Sorted so that the report, and anything that picks the first entry, is the same on every pod.
            foreach (var account in environment.GetDirectories(legacy).Order(StringComparer.Ordinal))
            {
                var path = Path.Combine(account, "adc.json");
                if (environment.FileExists(path))
                {
                    Add(new CredentialFile(CredentialFileKinds.GcloudLegacyAdc, path, null));
                }
            }
        }

        return (found, missing);

        void AddNamed(string kind, string variable)
        {
            if (JobEnvironmentReader.ReadText(environment, variable) is not { } path)
            {
                return;
            }

            var file = new CredentialFile(kind, path, variable);
            if (environment.FileExists(path))
            {
                Add(file);
            }
            else
            {
                missing.Add(file);
            }
        }

        void AddDefault(string kind, params string[] relative)
        {
            if (home is null)
            {
                return;
            }

            var path = Path.Combine([home, .. relative]);
            if (environment.FileExists(path))
            {
                Add(new CredentialFile(kind, path, null));
            }
        }

        // A variable may name the default location itself; report that file once, as named by the variable.
        void Add(CredentialFile file)
        {
            if (!found.Exists(f => string.Equals(f.Path, file.Path, StringComparison.Ordinal)))
            {
                found.Add(file);
            }
        }
    }
}
