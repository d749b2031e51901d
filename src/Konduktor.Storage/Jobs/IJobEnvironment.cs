namespace Konduktor.Storage;

/// <summary>
/// Where <see cref="JobContext.FromEnvironment(IJobEnvironment)"/> reads from: environment variables, the home directory,
/// the host name, and whether files exist. It deliberately has no way to read a file, so building a
/// <see cref="JobContext"/> can never read a credential's contents. Implement it to build a context in tests.
/// </summary>
internal interface IJobEnvironment
{
    /// <summary>The home directory (where Konduktor mounts <c>~/.aws</c> and <c>~/.config/gcloud</c>), or <see langword="null"/> when there is none.</summary>
    string? HomeDirectory { get; }

    /// <summary>This machine's (pod's) host name.</summary>
    string HostName { get; }

    /// <summary>Returns an environment variable's value, or <see langword="null"/> when it is not set.</summary>
    /// <param name="name">The variable's name.</param>
    string? GetVariable(string name);

    /// <summary>Returns whether a file exists at <paramref name="path"/>; never throws.</summary>
    /// <param name="path">The file's path.</param>
    bool FileExists(string path);

    /// <summary>Returns the full paths of the immediate subdirectories of <paramref name="path"/>; empty when it does not exist or cannot be listed.</summary>
    /// <param name="path">The directory's path.</param>
    IEnumerable<string> GetDirectories(string path);
}
