namespace Konduktor.Storage.Stores;

/// <summary>A byte range to read.</summary>
/// <param name="Offset">The first byte, from zero.</param>
/// <param name="Length">How many bytes at most; <see langword="null"/> to the end of the object.</param>
public readonly record struct ByteRange(long Offset, long? Length = null)
{
    /// <summary>Checks the range is well formed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset or the length is negative.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Offset, nameof(Offset));
        if (Length is { } length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(Length));
        }
    }
}
