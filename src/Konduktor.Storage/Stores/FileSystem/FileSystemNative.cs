using System.Runtime.InteropServices;

using Microsoft.Win32.SafeHandles;

using static Konduktor.Storage.Posix;

namespace Konduktor.Storage;

/// <summary>
/// The few POSIX calls .NET does not expose with the semantics the store needs: link(2) for an atomic create-only
/// publish, rename(2) with exact errors, fsync(2) of a directory, statx(2) for the inode that versions a file, and
/// copy_file_range(2) to copy between files inside the kernel, and sync_file_range(2) to start writing a file to disk early.
/// </summary>
internal static class FileSystemNative
{
    // Cleared the first time copy_file_range is missing (macOS, old glibc); copies then go through user space.
    private static volatile bool s_copyFileRangeAvailable = OperatingSystem.IsLinux();

    private const uint SyncFileRangeWrite = 2;
    private const uint StatxBasicStats = 0x7ff;
    private const ulong StatxAttrMountRoot = 0x2000;
    private const int ModeTypeMask = 0xF000;
    private const int ModeRegularFile = 0x8000;

    // Cleared the first time sync_file_range is missing (macOS); the final fsync then does all the writing.
    private static volatile bool s_syncFileRangeAvailable = OperatingSystem.IsLinux();

    // Cleared the first time statx is missing (old glibc, macOS); the managed fallback then versions files without an inode.
    private static volatile bool s_statxAvailable = OperatingSystem.IsLinux();

    /// <summary>Whether the POSIX calls are used (everywhere but Windows).</summary>
    internal static bool IsPosix { get; } = !OperatingSystem.IsWindows();

    /// <summary>Creates <paramref name="newPath"/> as a second name of <paramref name="oldPath"/>; fails if it exists.</summary>
    /// <returns>0, or the errno.</returns>
    internal static int Link(string oldPath, string newPath) => SysLink(Utf8(oldPath), Utf8(newPath)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Atomically renames <paramref name="oldPath"/> to <paramref name="newPath"/>, replacing a file there.</summary>
    /// <returns>0, or the errno.</returns>
    internal static int Rename(string oldPath, string newPath) => SysRename(Utf8(oldPath), Utf8(newPath)) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Makes a directory's entries durable (after a file was linked, renamed or created in it).</summary>
    /// <exception cref="IOException">The file system reported an error flushing the directory.</exception>
    internal static void FlushDirectory(string path)
    {
        if (!IsPosix)
        {
            return;
        }

        var fd = SysOpen(Utf8(path), 0);
        if (fd < 0)
        {
            // Durability of the entry is best effort when the directory cannot even be opened; the data itself was flushed.
            return;
        }

        try
        {
            if (SysFsync(fd) != 0 && Marshal.GetLastPInvokeError() is var errno && errno is not (EROFS or EINVAL))
            {
                throw Error(errno, "flush the directory", path);
            }
        }
        finally
        {
            _ = SysClose(fd);
        }
    }

    /// <summary>
    /// Copies up to <paramref name="count"/> bytes from <paramref name="source"/> at <paramref name="sourceOffset"/> to
    /// <paramref name="destination"/> at <paramref name="destinationOffset"/> without passing them through user space (a
    /// reflink where the file system shares blocks).
    /// </summary>
    /// <returns>The bytes copied (0 at the source's end), or -1 when these two files cannot be copied in the kernel.</returns>
    /// <exception cref="IOException">The copy failed for another reason (disk full, I/O error).</exception>
    internal static long CopyFileRange(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long count)
    {
        if (!s_copyFileRangeAvailable)
        {
            return -1;
        }

        try
        {
            while (true)
            {
                var copied = SysCopyFileRange(source, ref sourceOffset, destination, ref destinationOffset, (nuint)count, 0);
                if (copied >= 0)
                {
                    return copied;
                }

                var errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case EINTR:
                        continue;
                    case EXDEV or EINVAL or ENOSYS or EOPNOTSUPP or EBADF:
                        // Across file systems on older kernels, special files, or file systems without the call.
                        return -1;
                    default:
                        throw new IOException($"Could not copy between files: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
                }
            }
        }
        catch (EntryPointNotFoundException)
        {
            s_copyFileRangeAvailable = false;
            return -1;
        }
        catch (DllNotFoundException)
        {
            s_copyFileRangeAvailable = false;
            return -1;
        }
    }

    /// <summary>
    /// Asks the kernel to start writing a range of a file to disk without waiting for it, so that the fsync that makes the
    /// file durable later finds little left to do. Best effort: errors are ignored (the fsync reports real ones).
    /// </summary>
    internal static void StartWriteback(SafeFileHandle file, long offset, long count)
    {
        if (!s_syncFileRangeAvailable)
        {
            return;
        }

        try
        {
            _ = SysSyncFileRange(file, offset, count, SyncFileRangeWrite);
        }
        catch (EntryPointNotFoundException)
        {
            s_syncFileRangeAvailable = false;
        }
        catch (DllNotFoundException)
        {
            s_syncFileRangeAvailable = false;
        }
    }

    /// <summary>Describes a regular file (following symbolic links), or returns <see langword="false"/> when there is none.</summary>
    internal static bool TryStat(string path, out FileIdentity identity)
    {
        if (s_statxAvailable)
        {
            try
            {
                var buffer = new byte[256];
                if (SysStatx(AtFdCwd, Utf8(path), 0, StatxBasicStats, buffer) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is EACCES or EPERM)
                    {
                        throw new UnauthorizedAccessException($"Access to '{path}' is denied.");
                    }

                    identity = default;
                    return false;
                }

                var span = buffer.AsSpan();
                var mode = MemoryMarshal.Read<ushort>(span[28..]);
                var inode = MemoryMarshal.Read<ulong>(span[32..]);
                var size = MemoryMarshal.Read<long>(span[40..]);
                var seconds = MemoryMarshal.Read<long>(span[112..]);
                var nanoseconds = MemoryMarshal.Read<uint>(span[120..]);
                identity = new FileIdentity(inode, size, (seconds * 1_000_000_000L) + nanoseconds);
                return (mode & ModeTypeMask) == ModeRegularFile;
            }
            catch (EntryPointNotFoundException)
            {
                s_statxAvailable = false;
            }
            catch (DllNotFoundException)
            {
                s_statxAvailable = false;
            }
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            identity = default;
            return false;
        }

        var modified = info.LastWriteTimeUtc;
        identity = new FileIdentity(0, info.Length, (modified.Ticks - DateTime.UnixEpoch.Ticks) * 100);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a mount point (the root of a mounted file system or bind mount), not following
    /// a final symbolic link; <see langword="false"/> where the kernel cannot say.
    /// </summary>
    internal static bool IsMountPoint(string path)
    {
        if (!s_statxAvailable)
        {
            return false;
        }

        try
        {
            var buffer = new byte[256];
            if (SysStatx(AtFdCwd, Utf8(path), AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
            {
                return false;
            }

            var span = buffer.AsSpan();
            if ((MemoryMarshal.Read<ulong>(span[56..]) & StatxAttrMountRoot) != 0)
            {
                return (MemoryMarshal.Read<ulong>(span[8..]) & StatxAttrMountRoot) != 0;
            }

            // Kernels before 5.8 do not report mount roots: a different device than the parent's still shows most mounts.
            var parent = new byte[256];
            return SysStatx(AtFdCwd, Utf8(Path.GetDirectoryName(path) ?? path), 0, StatxBasicStats, parent) == 0
                   && !span.Slice(136, 8).SequenceEqual(parent.AsSpan(136, 8));
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>An exception for a failed call: access errors as <see cref="UnauthorizedAccessException"/>, a missing folder as <see cref="DirectoryNotFoundException"/>, the rest as <see cref="IOException"/>.</summary>
    internal static Exception Error(int errno, string operation, string path)
    {
        var message = $"Could not {operation} '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
        return errno switch
        {
            EACCES or EPERM => new UnauthorizedAccessException(message),
            ENOENT => new DirectoryNotFoundException(message),
            _ => new IOException(message, errno),
        };
    }

    // Paths go as NUL-terminated UTF-8 bytes, which is what the kernel takes, without string marshalling.

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int SysLink(byte[] oldPath, byte[] newPath);

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int SysRename(byte[] oldPath, byte[] newPath);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int SysFsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int SysClose(int fd);

    [DllImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static extern nint SysCopyFileRange(SafeFileHandle fdIn, ref long offIn, SafeFileHandle fdOut, ref long offOut, nuint len, uint flags);

    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SysSyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);

}

/// <summary>What identifies one version of a file: a replaced file has a new inode, and usually a new size or time.</summary>
/// <param name="Inode">The inode number (0 where the platform does not say).</param>
/// <param name="Length">The size in bytes.</param>
/// <param name="ModifiedUnixNanoseconds">The last write time, in nanoseconds since the Unix epoch.</param>
internal readonly record struct FileIdentity(ulong Inode, long Length, long ModifiedUnixNanoseconds)
{
    /// <summary>The opaque version token.</summary>
    public string ETag => $"{Inode:x}-{Length:x}-{ModifiedUnixNanoseconds:x}";

    /// <summary>The last write time.</summary>
    public DateTimeOffset LastModified =>
        DateTimeOffset.UnixEpoch.AddTicks(ModifiedUnixNanoseconds / 100);
}
