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
        AddDefault(CredentialFileKinds.AwsCredentials, CredentialFileLocations.AwsCredentials(home));
        AddNamed(CredentialFileKinds.AwsConfig, JobVariables.AwsConfigFile);
        AddDefault(CredentialFileKinds.AwsConfig, CredentialFileLocations.AwsConfig(home));
        AddNamed(CredentialFileKinds.GoogleApplicationCredentials, JobVariables.GoogleApplicationCredentials);
        AddDefault(CredentialFileKinds.GcloudAdc, CredentialFileLocations.GcloudAdc(home));
        foreach (var (_, path) in CredentialFileLocations.GcloudLegacyAdc(home, environment.GetDirectories))
        {
            AddDefault(CredentialFileKinds.GcloudLegacyAdc, path);
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

        void AddDefault(string kind, string? path)
        {
            if (path is not null && environment.FileExists(path))
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
