using System.Buffers;
using System.Buffers.Binary;

using TinyTrainer.Training;

namespace TinyTrainer.Checkpointing;

/// <summary>
/// Stands in for a large model file: bytes produced by a generator seeded with the step, written and compared one
/// chunk at a time so a file of any size never has to fit in memory.
/// </summary>
internal static class Payload
{
    public const string FileName = "payload.bin";
    public const int ChunkSize = 1024 * 1024;

    public static async Task WriteAsync(Stream destination, long step, long length, CancellationToken cancellationToken)
    {
        var generator = Generator(step);
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            for (long done = 0; done < length; done += ChunkSize)
            {
                var size = (int)Math.Min(ChunkSize, length - done);
                Fill(generator, chunk.AsSpan(0, size));
                await destination.WriteAsync(chunk.AsMemory(0, size), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// Reads <paramref name="source"/> to its end and checks it is exactly what <see cref="WriteAsync"/> wrote. A difference
    /// is reported only after the last byte: a checkpoint stream checks its checksum there, so damage in the store
    /// surfaces as the library's <see cref="Konduktor.Storage.CheckpointCorruptException"/> (and the manager then passes
    /// over that checkpoint) rather than as a difference found here first.
    /// </summary>
    public static async Task VerifyAsync(Stream source, long step, long length, CancellationToken cancellationToken)
    {
        var generator = Generator(step);
        var expected = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var actual = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            long? firstDifference = null;
            long done = 0;
            int read;
            while ((read = await source.ReadAtLeastAsync(actual.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellationToken)) > 0)
            {
                var size = (int)Math.Clamp(length - done, 0, read);
                Fill(generator, expected.AsSpan(0, size));
                if (firstDifference is null && (size < read || !expected.AsSpan(0, size).SequenceEqual(actual.AsSpan(0, size))))
                {
                    firstDifference = done;
                }

                done += read;
            }

            if (done != length || firstDifference is not null)
            {
                throw new InvalidDataException(
                    $"The payload of step {step} ({done} bytes) differs from the generator's {length} bytes in the chunk at offset {firstDifference ?? done}.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(expected);
            ArrayPool<byte>.Shared.Return(actual);
        }
    }

    private static SplitMix64 Generator(long step) => new(0x5EED_0000_0000UL ^ (ulong)step);

    // Chunks are whole multiples of 8 bytes except possibly the last; any tail bytes come from one more draw.
    private static void Fill(SplitMix64 generator, Span<byte> chunk)
    {
        var i = 0;
        for (; i + sizeof(ulong) <= chunk.Length; i += sizeof(ulong))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(chunk[i..], generator.NextUInt64());
        }

        if (i < chunk.Length)
        {
            Span<byte> last = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(last, generator.NextUInt64());
            last[..(chunk.Length - i)].CopyTo(chunk[i..]);
        }
    }
}
