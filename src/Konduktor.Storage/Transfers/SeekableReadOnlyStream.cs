namespace Konduktor.Storage;

/// <summary>A <see cref="ReadOnlyStream"/> over bytes it can reach at any offset: it keeps the position, a derived stream moves its source along.</summary>
internal abstract class SeekableReadOnlyStream : ReadOnlyStream
{
    private long _position;

    public sealed override bool CanSeek => true;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
            OnSeek(value);
        }
    }

    /// <summary>Moves the source to <paramref name="position"/> (which may lie past the end).</summary>
    /// <param name="position">The new position.</param>
    protected virtual void OnSeek(long position)
    {
    }

    /// <summary>Moves the position past bytes just read, without seeking the source.</summary>
    /// <param name="read">How many bytes were read.</param>
    /// <returns><paramref name="read"/>.</returns>
    protected int Advance(int read)
    {
        _position += read;
        return read;
    }
}
