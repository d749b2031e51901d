using System.Buffers;

using Microsoft.Win32.SafeHandles;

namespace Konduktor.Storage;

/// <summary>
/// Copies one local file into another the way <c>cp</c> does: inside the kernel (copy_file_range, a reflink where the
/// file system shares blocks), chunk by chunk, while the chunk copied before is read back from the destination and hashed.
/// The hash is therefore of the bytes the destination holds, and the only pass through user space is that read-back,
/// from the page cache. Where the kernel cannot copy between the two files, chunks go through a pooled buffer instead.
/// </summary>
internal static class LocalFileCopy
{
    /// <summary>The default chunk: large enough that system calls do not count, small enough that hashing keeps pace.</summary>
    internal const int DefaultChunkBytes = 16 * 1024 * 1024;

    private const int HashBufferBytes = 1024 * 1024;

    /// <summary>
    /// Copies from <paramref name="source"/> at <paramref name="sourceOffset"/> to its end, or at most
    /// <paramref name="maxBytes"/> bytes, into <paramref name="destination"/> at <paramref name="destinationOffset"/>,
    /// appending the copied bytes, as the destination holds them, to <paramref name="hash"/>.
    /// </summary>
    /// <returns>How many bytes were copied, and whether every chunk was copied inside the kernel.</returns>
    public static async Task<LocalCopyResult> CopyAsync(
        SafeFileHandle source,
        long sourceOffset,
        SafeFileHandle destination,
        long destinationOffset,
        long maxBytes,
        ContentHash hash,
        Action<long>? onProgress,
        CancellationToken cancellationToken,
        int chunkBytes = DefaultChunkBytes,
        bool allowKernelCopy = true)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferBytes);
        var inKernel = allowKernelCopy;
        Task hashing = Task.CompletedTask;
        long copied = 0;
        try
        {
            var ended = false;
            while (!ended && copied < maxBytes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var want = Math.Min(chunkBytes, maxBytes - copied);
                var start = copied;
                var tryKernel = inKernel;
                (var chunk, inKernel) = await Task.Run(
                    () => CopyChunk(source, sourceOffset + start, destination, destinationOffset + start, want, tryKernel),
                    cancellationToken).ConfigureAwait(false);

                // The chunk before this one was being hashed meanwhile.
                await hashing.ConfigureAwait(false);
                if (chunk == 0)
                {
                    break;
                }

                // A short chunk means the source ended.
                ended = chunk < want;
                copied += chunk;
                var end = copied;
                hashing = Task.Run(
                    () =>
                    {
                        HashRange(destination, destinationOffset + start, chunk, hash, buffer);
                        onProgress?.Invoke(end);
                    },
                    CancellationToken.None);
            }

            await hashing.ConfigureAwait(false);
            return new LocalCopyResult(copied, inKernel);
        }
        finally
        {
            // The buffer may only go back once nothing hashes from it any more.
            await hashing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Runs while the previous chunk is hashed, so the user-space fallback rents a buffer of its own.
    private static (long Bytes, bool InKernel) CopyChunk(SafeFileHandle source, long sourceOffset, SafeFileHandle destination, long destinationOffset, long count, bool tryKernel)
    {
        long done = 0;
        while (tryKernel && done < count)
        {
            var copied = FileSystemNative.CopyFileRange(source, sourceOffset + done, destination, destinationOffset + done, count - done);
            if (copied < 0)
            {
                tryKernel = false;
                break;
            }

            if (copied == 0)
            {
                return (done, true);
            }

            done += copied;
        }

        if (done == count)
        {
            return (done, tryKernel);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferBytes);
        try
        {
            while (done < count)
            {
                var read = RandomAccess.Read(source, buffer.AsSpan(0, (int)Math.Min(buffer.Length, count - done)), sourceOffset + done);
                if (read == 0)
                {
                    break;
                }

                RandomAccess.Write(destination, buffer.AsSpan(0, read), destinationOffset + done);
                done += read;
            }

            return (done, false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void HashRange(SafeFileHandle file, long offset, long count, ContentHash hash, byte[] buffer)
    {
        long done = 0;
        while (done < count)
        {
            var read = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, count - done)), offset + done);
            if (read == 0)
            {
                throw new IOException($"The copy's destination ended at byte {offset + done}, before the {count} bytes just copied there.");
            }

            hash.Append(buffer.AsSpan(0, read));
            done += read;
        }
    }
}

/// <summary>What <see cref="LocalFileCopy.CopyAsync"/> did.</summary>
/// <param name="Bytes">The bytes copied.</param>
/// <param name="InKernel">Whether every chunk was copied inside the kernel (no user-space copy but the hashing read-back).</param>
internal readonly record struct LocalCopyResult(long Bytes, bool InKernel);
