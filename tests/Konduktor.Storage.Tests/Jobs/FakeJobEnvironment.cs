namespace Konduktor.Storage.Tests;

/// <summary>
/// An in-memory environment and file system. It has no way to read a file, like <see cref="IJobEnvironment"/> itself,
/// so a test passing through it shows JobContext never needs a credential's contents.
/// </summary>
internal sealed class FakeJobEnvironment : IJobEnvironment
{
    public const string Home = "/home/trainer";

    public Dictionary<string, string?> Variables { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Directories with no files in them; directories holding a file exist implicitly.</summary>
    public HashSet<string> Directories { get; } = new(StringComparer.Ordinal);

    public string? HomeDirectory { get; set; } = Home;

    public string HostName { get; set; } = "pod-0";

    public FakeJobEnvironment Set(string name, string? value)
    {
        Variables[name] = value;
        return this;
    }

    public FakeJobEnvironment WithFile(string path)
    {
        Files.Add(path);
        return this;
    }

    public string? GetVariable(string name) => Variables.GetValueOrDefault(name);

    public bool FileExists(string path) => Files.Contains(path);

    public IEnumerable<string> GetDirectories(string path)
    {
        var prefix = path.TrimEnd('/') + "/";
        var children = new List<string>();
        foreach (var file in Files)
        {
            if (file.StartsWith(prefix, StringComparison.Ordinal) && file.IndexOf('/', prefix.Length) is var end and > 0)
            {
                children.Add(file[..end]);
            }
        }

        children.AddRange(Directories.Where(d => d.StartsWith(prefix, StringComparison.Ordinal) && d.IndexOf('/', prefix.Length) < 0));
        return children.Distinct(StringComparer.Ordinal);
    }
}
