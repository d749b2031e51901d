using System.Collections.Concurrent;

namespace Konduktor.Storage;

/// <summary>
/// The writer folders of saves in progress in this process, which garbage collection must not touch. The saver adds and
/// removes them; garbage collection only asks.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class ActiveWriters
{
    private readonly ConcurrentDictionary<string, byte> _folders = new(StringComparer.Ordinal);

    /// <summary>Records a writer folder (ending in '/') as being written.</summary>
    public void Add(string writerFolder) => _folders.TryAdd(writerFolder, 0);

    /// <summary>Forgets a writer folder; <see langword="false"/> when it was not recorded (its save ended already).</summary>
    public bool Remove(string writerFolder) => _folders.TryRemove(writerFolder, out _);

    /// <summary>Whether a save of this process is writing <paramref name="writerFolder"/>.</summary>
    public bool Contains(string writerFolder) => _folders.ContainsKey(writerFolder);

    /// <summary>Whether <paramref name="key"/> lies in a writer folder a save of this process is writing.</summary>
    public bool Covers(string key) => _folders.Keys.Any(w => key.StartsWith(w, StringComparison.Ordinal));
}
