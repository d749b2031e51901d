using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests;

/// <summary>
/// A throw-away folder tree for one hostile input: a file-system store and a restore target three levels down, so that a
/// name escaping with up to three <c>..</c> still lands inside the tree, where <see cref="AssertNothingOutsideTargets"/> finds it.
/// </summary>
internal sealed class HostileSandbox : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("konduktor-hostile-").FullName;

    public HostileSandbox()
    {
        var bottom = Path.Join(_root, "a", "b", "c");
        StoreRoot = Path.Join(bottom, "store");
        Target = Path.Join(bottom, "target");
        Directory.CreateDirectory(StoreRoot);
        Store = new FileSystemCheckpointStore(StoreRoot);
    }

    /// <summary>Where the store keeps its objects.</summary>
    public string StoreRoot { get; }

    /// <summary>Where restores go.</summary>
    public string Target { get; }

    /// <summary>The store under test, on <see cref="StoreRoot"/>.</summary>
    public FileSystemCheckpointStore Store { get; }

    /// <summary>Wraps the store, e.g. in a <see cref="DelegatingStore"/> that lies about objects.</summary>
    public ICheckpointStore? Decorated { get; set; }

    /// <summary>A manager for run <see cref="CheckpointTestKit.Run"/> on the (decorated) store.</summary>
    public CheckpointManager Manager() => CheckpointTestKit.Manager(Decorated ?? Store);

    /// <summary>Every file in the tree is inside the store's root or the restore target.</summary>
    public void AssertNothingOutsideTargets()
    {
        var strays = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(StoreRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                && !f.StartsWith(Target + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToList();
        Assert.True(strays.Count == 0, "written outside the store and the target: " + string.Join(", ", strays));
    }

    /// <summary>The files restored into the target, by relative '/'-separated name.</summary>
    public SortedSet<string> TargetFiles() => Directory.Exists(Target)
        ? new(Directory.EnumerateFiles(Target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Target, f).Replace('\\', '/')), StringComparer.Ordinal)
        : new(StringComparer.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
