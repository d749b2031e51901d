using System.Buffers;

namespace Konduktor.Storage;

/// <summary>
/// The staging a background saver owns: pooled memory chunks up to a limit, then files in a folder of its own up to a
/// second limit. Shared by the saves in flight; what a save holds is released when its upload ends.
/// </summary>
internal sealed class StagingArea : IDisposable
{
    /// <summary>The size of one memory chunk.</summary>
    public const int ChunkSize = 1024 * 1024;

    private const string FolderPrefix = "konduktor-staging-";

    private readonly Lock _gate = new();
    private readonly ArrayPool<byte> _pool;
    private readonly long _memoryLimit;
    private readonly long _diskLimit;
    private readonly string _parent;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _folder;
    private long _memory;
    private long _disk;
    private long _files;

    public StagingArea(BackgroundSaveOptions options)
    {
        _memoryLimit = options.MemoryLimitMiB * (long)ChunkSize;
        _diskLimit = options.DiskLimitMiB * (long)ChunkSize;
        _parent = Path.GetFullPath(options.StagingDirectory ?? Path.GetTempPath());
        LinkLocalFiles = options.LinkLocalFiles;

        // A pool of its own, sized to the limit: returned chunks are kept for the next save, never more than the limit.
        _pool = ArrayPool<byte>.Create(ChunkSize, Math.Max(1, (int)(_memoryLimit / ChunkSize)));
    }

    public bool LinkLocalFiles { get; }

    /// <summary>The directory the staging folder is made in.</summary>
    public string ParentDirectory => _parent;

    /// <summary>Bytes of memory held by captured content now.</summary>
    public long MemoryBytes => Interlocked.Read(ref _memory);

    /// <summary>Bytes of staging files now (hard links excluded: they take no space of their own).</summary>
    public long DiskBytes => Interlocked.Read(ref _disk);

    /// <summary>The most memory held at once.</summary>
    public long PeakMemoryBytes { get; private set; }

    /// <summary>The most staging disk held at once.</summary>
    public long PeakDiskBytes { get; private set; }

    /// <summary>Rents a chunk if the memory limit allows one more.</summary>
    public byte[]? TryRentChunk()
    {
        lock (_gate)
        {
            if (_memory + ChunkSize > _memoryLimit)
            {
                return null;
            }

            _memory += ChunkSize;
            PeakMemoryBytes = Math.Max(PeakMemoryBytes, _memory);
        }

        return _pool.Rent(ChunkSize);
    }

    public void ReturnChunk(byte[] chunk)
    {
        _pool.Return(chunk);
        Release(ref _memory, ChunkSize);
    }

    /// <summary>Reserves staging disk for <paramref name="bytes"/> more bytes if the limit allows.</summary>
    public bool TryReserveDisk(long bytes)
    {
        lock (_gate)
        {
            if (_disk + bytes > _diskLimit)
            {
                return false;
            }

            _disk += bytes;
            PeakDiskBytes = Math.Max(PeakDiskBytes, _disk);
            return true;
        }
    }

    public void ReleaseDisk(long bytes) => Release(ref _disk, bytes);

    /// <summary>Completes when some staging is released next.</summary>
    public Task WhenReleasedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _released.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A new path for a staging file, in this saver's own folder (created on first use).</summary>
    public string NewFilePath()
    {
        lock (_gate)
        {
            if (_folder is null)
            {
                RemoveOrphans(_parent);
                _folder = Path.Combine(_parent, $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
                Directory.CreateDirectory(_folder);
            }

            return Path.Combine(_folder, $"{++_files:D8}.part");
        }
    }

    /// <summary>Removes the staging folder.</summary>
    public void Dispose()
    {
        string? folder;
        lock (_gate)
        {
            folder = _folder;
            _folder = null;
        }

        if (folder is not null)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: the next saver removes it (its process is gone), and pods lose it anyway.
            }
        }
    }

    /// <summary>Removes the staging folders of processes that no longer run (killed before they could clean up).</summary>
    private static void RemoveOrphans(string parent)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(parent))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(parent, FolderPrefix + "*"))
        {
            var name = Path.GetFileName(folder).AsSpan(FolderPrefix.Length);
            var dash = name.IndexOf('-');
            if (dash > 0 && int.TryParse(name[..dash], System.Globalization.CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another process may be removing it too; what stays goes with the pod.
                }
            }
        }
    }

    private void Release(ref long counter, long bytes)
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            counter -= bytes;
            released = _released;
            _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        released.TrySetResult();
    }
}
