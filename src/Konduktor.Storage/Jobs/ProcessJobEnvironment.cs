namespace Konduktor.Storage;

/// <summary>The real process environment, home directory and file system.</summary>
internal sealed class ProcessJobEnvironment : IJobEnvironment
{
    public static readonly ProcessJobEnvironment Instance = new();

    private ProcessJobEnvironment()
    {
    }

    public string? HomeDirectory
    {
        get
        {
            // An empty answer means the runtime could not find a home (no HOME, no passwd entry).
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return home.Length == 0 ? null : home;
        }
    }

    public string HostName => Environment.MachineName;

    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);

    public bool FileExists(string path) => File.Exists(path);

    public IEnumerable<string> GetDirectories(string path)
    {
        // Credential discovery is a report, not a requirement: an unreadable directory just contributes nothing.
        try
        {
            return Directory.Exists(path) ? Directory.GetDirectories(path) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
