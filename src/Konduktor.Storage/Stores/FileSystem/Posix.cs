using System.Runtime.InteropServices;
using System.Text;

using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>The Linux numbers and the two calls both the file-system store and local-file saving use: errno values, statx and open.</summary>
internal static class Posix
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ENXIO = 6;
    public const int EBADF = 9;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int EROFS = 30;
    public const int ENOSYS = 38;
    public const int ELOOP = 40;
    public const int EOPNOTSUPP = 95;

    /// <summary>AT_FDCWD: a path relative to the current directory.</summary>
    public const int AtFdCwd = -100;

    /// <summary>AT_SYMLINK_NOFOLLOW: a link is looked at, not followed.</summary>
    public const int AtSymlinkNoFollow = 0x100;

    /// <summary>AT_EMPTY_PATH: the call is about the file descriptor itself.</summary>
    public const int AtEmptyPath = 0x1000;

    /// <summary>A path as the kernel takes it: NUL-terminated UTF-8 bytes, without string marshalling.</summary>
    /// <param name="path">The path.</param>
    public static byte[] Utf8(string path) => Encoding.UTF8.GetBytes(path + '\0');

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int SysOpen(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    public static extern int SysStatx(int dirFd, byte[] path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    public static extern int SysStatxHandle(SafeFileHandle fd, byte[] path, int flags, uint mask, byte[] buffer);
}
