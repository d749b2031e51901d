namespace Konduktor.Storage.Stores;

/// <summary>Options of one write.</summary>
public sealed class ObjectWriteOptions
{
    /// <summary>The options of a create-only write.</summary>
    public static ObjectWriteOptions CreateOnlyWrite { get; } = new() { CreateOnly = true };

    /// <summary>
    /// When <see langword="true"/>, the write fails with <see cref="PreconditionFailedException"/> if the key exists,
    /// and two concurrent create-only writes of one key never both succeed. Default: <see langword="false"/>.
    /// </summary>
    public bool CreateOnly { get; init; }
}
