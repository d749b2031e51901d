using System.Runtime.InteropServices;

using Microsoft.Win32.SafeHandles;

using static Konduktor.Storage.Posix;

namespace Konduktor.Storage;

/// <summary>
/// A local file opened to be saved: never blocks while opening (a named pipe without a writer would), refuses anything
/// that is not a regular file (pipes, sockets and devices may never end), and fixes the length the file has now, which is
/// what the save copies however the file grows meanwhile.
/// </summary>
internal sealed class LocalFileSource : IDisposable
{
    private const int OpenReadOnlyNonBlocking = 0x800 | 0x100 | 0x80000; // O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
    private const uint StatxTypeAndSize = 0x1 | 0x200; // STATX_TYPE | STATX_SIZE

    // Cleared the first time statx is missing (old glibc); files are then told apart the managed way.
    private static volatile bool s_nativeAvailable = OperatingSystem.IsLinux();

    private LocalFileSource(string path, SafeFileHandle handle, long length) => (Path, Handle, Length) = (path, handle, length);

    /// <summary>The path the file was opened by.</summary>
    public string Path { get; }

    /// <summary>The open file.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The file's length when it was opened: what is saved.</summary>
    public long Length { get; }

    /// <summary>Opens a regular file for reading, without ever blocking, and takes its length.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The path names a special file or a directory, or a loop of symbolic links.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static LocalFileSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (s_nativeAvailable)
        {
            try
            {
                return OpenNative(path);
            }
            catch (EntryPointNotFoundException)
            {
                s_nativeAvailable = false;
            }
            catch (DllNotFoundException)
            {
                s_nativeAvailable = false;
            }
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return new LocalFileSource(path, handle, RandomAccess.GetLength(handle));
    }

    /// <summary>What is at <paramref name="path"/>, following a final symbolic link or not.</summary>
    public static LocalFileKind KindOf(string path, bool followLinks)
    {
        if (s_nativeAvailable)
        {
            try
            {
                var buffer = new byte[256];
                if (SysStatx(AtFdCwd, Utf8(path), followLinks ? 0 : AtSymlinkNoFollow, StatxTypeAndSize, buffer) == 0)
                {
                    return KindOfMode(MemoryMarshal.Read<ushort>(buffer.AsSpan(28)));
                }

                var errno = Marshal.GetLastPInvokeError();
                return errno switch
                {
                    ENOENT or ENOTDIR => LocalFileKind.Missing,
                    ELOOP => LocalFileKind.LinkLoop,
                    EACCES or EPERM => throw new UnauthorizedAccessException($"Access to '{path}' is denied."),
                    _ => throw new IOException($"Could not read what '{path}' is: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno),
                };
            }
            catch (EntryPointNotFoundException)
            {
                s_nativeAvailable = false;
            }
            catch (DllNotFoundException)
            {
                s_nativeAvailable = false;
            }
        }

        if (!followLinks && new FileInfo(path).LinkTarget is not null)
        {
            return LocalFileKind.SymbolicLink;
        }

        return Directory.Exists(path) ? LocalFileKind.Directory : File.Exists(path) ? LocalFileKind.Regular : LocalFileKind.Missing;
    }

    /// <summary>A kind of file, as a phrase for an error message ("a named pipe (FIFO)").</summary>
    public static string Describe(LocalFileKind kind) => kind switch
    {
        LocalFileKind.Regular => "a regular file",
        LocalFileKind.Directory => "a directory",
        LocalFileKind.SymbolicLink => "a symbolic link",
        LocalFileKind.NamedPipe => "a named pipe (FIFO)",
        LocalFileKind.Socket => "a socket",
        LocalFileKind.CharacterDevice => "a character device",
        LocalFileKind.BlockDevice => "a block device",
        LocalFileKind.Missing => "nothing",
        LocalFileKind.LinkLoop => "a loop of symbolic links",
        _ => "a special file of unknown kind",
    };

    /// <summary>The error for a path that is not a regular file and cannot be saved as one.</summary>
    public static IOException NotARegularFile(string path, LocalFileKind kind) =>
        new($"'{path}' is {Describe(kind)}, not a regular file, so it cannot be saved: only regular files (and symbolic links to them) can be, "
            + "as reading a pipe, a socket or a device may never end. Move it out of the directory, or save the files one by one.");

    /// <summary>The error for a file that became shorter than it was when its save began.</summary>
    public static IOException Shrank(string path, long expected, long actual) =>
        new($"The local file '{path}' shrank while it was being saved: it had {expected} bytes when its save began and has {actual} bytes now. "
            + "It was not added to the checkpoint; save it again once nothing truncates or rewrites it.");

    public void Dispose() => Handle.Dispose();

    private static LocalFileSource OpenNative(string path)
    {
        var bytes = Utf8(path);
        int fd;
        do
        {
            // O_NONBLOCK: opening a named pipe for reading returns at once instead of waiting for a writer.
            fd = SysOpen(bytes, OpenReadOnlyNonBlocking);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var message = $"Could not open the local file '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
            throw errno switch
            {
                ENOENT or ENOTDIR => new FileNotFoundException(message, path),
                EACCES or EPERM => new UnauthorizedAccessException(message),

                // A socket, or a device without a driver, cannot be opened at all.
                ENXIO => NotARegularFile(path, KindOf(path, followLinks: true)),
                ELOOP => new IOException($"'{path}' is a loop of symbolic links: it leads back to itself and names no file.", errno),
                _ => new IOException(message, errno),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var buffer = new byte[256];
            if (SysStatxHandle(handle, [0], AtEmptyPath, StatxTypeAndSize, buffer) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"Could not read what the local file '{path}' is: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
            }

            // The type of what was opened, not of what the path names now: nothing can swap a pipe in between.
            var kind = KindOfMode(MemoryMarshal.Read<ushort>(buffer.AsSpan(28)));
            if (kind != LocalFileKind.Regular)
            {
                throw NotARegularFile(path, kind);
            }

            return new LocalFileSource(path, handle, MemoryMarshal.Read<long>(buffer.AsSpan(40)));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static LocalFileKind KindOfMode(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => LocalFileKind.Regular,
        0x4000 => LocalFileKind.Directory,
        0xA000 => LocalFileKind.SymbolicLink,
        0x1000 => LocalFileKind.NamedPipe,
        0xC000 => LocalFileKind.Socket,
        0x2000 => LocalFileKind.CharacterDevice,
        0x6000 => LocalFileKind.BlockDevice,
        _ => LocalFileKind.Unknown,
    };

}

/// <summary>What a local path names.</summary>
internal enum LocalFileKind
{
    /// <summary>Nothing (any more).</summary>
    Missing,

    /// <summary>A regular file: the only kind that is saved.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link (only when links are not followed).</summary>
    SymbolicLink,

    /// <summary>A loop of symbolic links, naming nothing.</summary>
    LinkLoop,

    /// <summary>A named pipe (FIFO).</summary>
    NamedPipe,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>A character device (<c>/dev/null</c>, a terminal).</summary>
    CharacterDevice,

    /// <summary>A block device (a disk).</summary>
    BlockDevice,

    /// <summary>Something else the kernel reports.</summary>
    Unknown,
}
