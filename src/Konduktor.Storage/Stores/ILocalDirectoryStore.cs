namespace Konduktor.Storage;

/// <summary>
/// A store (or a decorator of one) that keeps its objects as files under a local directory, so that the manager can refuse
/// to save or restore a directory that overlaps it.
/// </summary>
internal interface ILocalDirectoryStore
{
    /// <summary>The absolute path of the directory the objects are kept under, as configured; <see langword="null"/> when a decorated store keeps them elsewhere.</summary>
    string? LocalRoot { get; }
}
