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

    /// <summary>Reads <paramref name="source"/> to its end and checks it is exactly what <see cref="WriteAsync"/> wrote.</summary>
    public static async Task VerifyAsync(Stream source, long step, long length, CancellationToken cancellationToken)
    {
        var generator = Generator(step);
        var expected = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var actual = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            for (long done = 0; done < length; done += ChunkSize)
            {
                var size = (int)Math.Min(ChunkSize, length - done);
                var read = await source.ReadAtLeastAsync(actual.AsMemory(0, size), size, throwOnEndOfStream: false, cancellationToken);
                if (read < size)
                {
                    throw new InvalidDataException($"The payload of step {step} ends after {done + read} bytes; expected {length}.");
                }

                Fill(generator, expected.AsSpan(0, size));
                if (!expected.AsSpan(0, size).SequenceEqual(actual.AsSpan(0, size)))
                {
                    throw new InvalidDataException($"The payload of step {step} differs from the generator's bytes in the chunk at offset {done}.");
                }
            }

            if (await source.ReadAsync(actual.AsMemory(0, 1), cancellationToken) != 0)
            {
                throw new InvalidDataException($"The payload of step {step} is longer than {length} bytes.");
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
