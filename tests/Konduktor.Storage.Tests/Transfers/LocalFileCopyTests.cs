using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>The kernel copy between local files that file-system saves and restores use, and its user-space fallback.</summary>
public sealed class LocalFileCopyTests
{
    private const int Chunk = 64 * 1024;

    public static TheoryData<int, bool> Sizes()
    {
        var data = new TheoryData<int, bool>();
        foreach (var size in new[] { 0, 1, 4095, Chunk - 1, Chunk, Chunk + 1, (3 * Chunk) + 7 })
        {
            data.Add(size, true);
            data.Add(size, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task CopyAsync_CopiesEveryByteAndHashesWhatTheDestinationHolds(int size, bool allowKernelCopy)
    {
        var data = Bytes(size, size);
        var (source, destination) = Files(data);
        var hash = new ContentHash();
        var progress = new List<long>();

        LocalCopyResult result;
        using (var from = File.OpenHandle(source))
        using (var to = File.OpenHandle(destination, FileMode.Create, FileAccess.ReadWrite))
        {
            result = await LocalFileCopy.CopyAsync(from, 0, to, 0, long.MaxValue, hash, progress.Add, CancellationToken.None, Chunk, allowKernelCopy);
        }

        Assert.Equal(size, result.Bytes);
        Assert.Equal(data, await File.ReadAllBytesAsync(destination));
        Assert.Equal(ContentHash.Of(data), hash.Current());
        Assert.Equal(size, hash.Length);
        Assert.Equal(allowKernelCopy && OperatingSystem.IsLinux(), result.InKernel);
        Assert.Equal(progress.Order(), progress);
        Assert.Equal(size == 0 ? 0 : size, progress.LastOrDefault());
    }

    [Fact]
    public async Task CopyAsync_FromAnOffsetToAnOffset_CopiesAndHashesOnlyThatPart()
    {
        var data = Bytes((2 * Chunk) + 300, 7);
        var (source, destination) = Files(data);
        await File.WriteAllBytesAsync(destination, Bytes(50, 8));
        var hash = new ContentHash();

        using (var from = File.OpenHandle(source))
        using (var to = File.OpenHandle(destination, FileMode.Open, FileAccess.ReadWrite))
        {
            var result = await LocalFileCopy.CopyAsync(from, 100, to, 50, long.MaxValue, hash, null, CancellationToken.None, Chunk);
            Assert.Equal(data.Length - 100, result.Bytes);
        }

        byte[] expected = [.. Bytes(50, 8), .. data.AsSpan(100)];
        Assert.Equal(expected, await File.ReadAllBytesAsync(destination));
        Assert.Equal(ContentHash.Of(data.AsSpan(100)), hash.Current());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CopyAsync_WithALimit_StopsThere(bool allowKernelCopy)
    {
        var data = Bytes((2 * Chunk) + 10, 9);
        var (source, destination) = Files(data);
        var hash = new ContentHash();

        using (var from = File.OpenHandle(source))
        using (var to = File.OpenHandle(destination, FileMode.Create, FileAccess.ReadWrite))
        {
            var result = await LocalFileCopy.CopyAsync(from, 0, to, 0, Chunk + 5, hash, null, CancellationToken.None, Chunk, allowKernelCopy);
            Assert.Equal(Chunk + 5, result.Bytes);
        }

        var expected = data.AsSpan(0, Chunk + 5).ToArray();
        Assert.Equal(expected, await File.ReadAllBytesAsync(destination));
        Assert.Equal(ContentHash.Of(expected), hash.Current());
    }

    [Fact]
    public async Task CopyAsync_AcrossFileSystems_FallsBackToUserSpaceAndStillCopiesExactly()
    {
        // /dev/shm is tmpfs, the temporary folder is not: since Linux 5.19 the kernel refuses to copy between them (EXDEV).
        Assert.True(OperatingSystem.IsLinux() && Directory.Exists("/dev/shm"), "this test needs Linux's /dev/shm");
        var data = Bytes((2 * Chunk) + 99, 12);
        var source = Path.Combine("/dev/shm", $"konduktor-copy-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(source, data);
        var destination = Path.Combine(TempDirectory(), "destination.bin");
        var hash = new ContentHash();
        try
        {
            LocalCopyResult result;
            using (var from = File.OpenHandle(source))
            using (var to = File.OpenHandle(destination, FileMode.Create, FileAccess.ReadWrite))
            {
                result = await LocalFileCopy.CopyAsync(from, 0, to, 0, long.MaxValue, hash, null, CancellationToken.None, Chunk);
            }

            Assert.Equal(data.Length, result.Bytes);
            Assert.Equal(data, await File.ReadAllBytesAsync(destination));
            Assert.Equal(ContentHash.Of(data), hash.Current());
            if (Environment.OSVersion.Version >= new Version(5, 19))
            {
                Assert.False(result.InKernel);
            }
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public async Task CopyAsync_Cancelled_Throws()
    {
        var (source, destination) = Files(Bytes(3 * Chunk, 10));
        using var from = File.OpenHandle(source);
        using var to = File.OpenHandle(destination, FileMode.Create, FileAccess.ReadWrite);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            LocalFileCopy.CopyAsync(from, 0, to, 0, long.MaxValue, new ContentHash(), null, new CancellationToken(canceled: true), Chunk));
    }

    [Fact]
    public async Task CopyAsync_DestinationNotReadable_FailsInsteadOfHashingNothing()
    {
        var (source, destination) = Files(Bytes(Chunk, 11));
        using var from = File.OpenHandle(source);
        using var to = File.OpenHandle(destination, FileMode.Create, FileAccess.Write);

        await Assert.ThrowsAnyAsync<Exception>(() =>
            LocalFileCopy.CopyAsync(from, 0, to, 0, long.MaxValue, new ContentHash(), null, CancellationToken.None, Chunk));
    }

    private static (string Source, string Destination) Files(byte[] data)
    {
        var folder = TempDirectory();
        var source = Path.Combine(folder, "source.bin");
        File.WriteAllBytes(source, data);
        return (source, Path.Combine(folder, "destination.bin"));
    }
}
