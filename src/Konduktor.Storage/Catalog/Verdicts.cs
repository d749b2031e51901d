using System.Collections.Concurrent;

namespace Konduktor.Storage;

/// <summary>
/// The steps one manager found torn or corrupt, with the manifest version it judged (<see langword="null"/>: no manifest).
/// The manager owns one and hands it to its parts: restores and listings record verdicts, retention never counts a judged
/// step, and a save of such a step may supersede exactly that version and nothing else.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class Verdicts
{
    private readonly ConcurrentDictionary<long, string?> _judgedBad = new();

    /// <summary>Records that <paramref name="step"/>'s manifest version <paramref name="manifestETag"/> is torn or corrupt.</summary>
    public void JudgeBad(long step, string? manifestETag) => _judgedBad[step] = manifestETag;

    /// <summary>Whether <paramref name="step"/> was judged bad in exactly the version <paramref name="manifestETag"/>.</summary>
    public bool IsBad(long step, string? manifestETag) => _judgedBad.TryGetValue(step, out var judged) && judged == manifestETag;

    /// <summary>Whether a save may supersede <paramref name="step"/>'s manifest: a version that exists and was judged bad.</summary>
    public bool MaySupersede(long step, string? manifestETag) =>
        _judgedBad.TryGetValue(step, out var judged) && judged is not null && judged == manifestETag;

    /// <summary>Forgets the verdict on <paramref name="step"/> (a new checkpoint took it).</summary>
    public void Forget(long step) => _judgedBad.TryRemove(step, out _);
}
