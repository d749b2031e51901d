using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// Starts writing a file to disk while it is still being written (every <see cref="StepBytes"/>), so that the disk works
/// alongside the transfer and the fsync that ends it finds little left to flush.
/// </summary>
internal sealed class EarlyWriteback(SafeFileHandle file)
{
    /// <summary>How many new bytes start a writeback.</summary>
    internal const long StepBytes = 16 * 1024 * 1024;

    private long _started;

    /// <summary>Notes that the file's first <paramref name="length"/> bytes were written.</summary>
    public void Written(long length)
    {
        if (length - _started >= StepBytes)
        {
            FileSystemNative.StartWriteback(file, _started, length - _started);
            _started = length;
        }
    }
}
