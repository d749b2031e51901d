using System.Buffers;
using System.Buffers.Binary;

using Konduktor.Storage;

using TinyTrainer.Training;

namespace TinyTrainer.Checkpointing;

/// <summary>
/// Stands in for a large model file, or for a sharded state of many files (<c>Trainer:PayloadFiles</c>): bytes produced by a
/// generator seeded with the step (and the shard), written and compared one chunk at a time so a file of any size never has
/// to fit in memory.
/// </summary>
internal static class Payload
{
    public const string FileName = "payload.bin";
    public const string ShardFolder = "payload";
    public const int ChunkSize = 1024 * 1024;

    /// <summary>The payload's files: <see cref="FileName"/> alone, or <paramref name="files"/> shards sharing the bytes (the first ones a byte longer when they do not divide evenly).</summary>
    public static IEnumerable<(string Name, int? Shard, long Length)> Files(long totalBytes, int files)
    {
        if (totalBytes == 0)
        {
            yield break;
        }

        if (files == 1)
        {
            yield return (FileName, null, totalBytes);
            yield break;
        }

        for (var i = 0; i < files; i++)
        {
            yield return (ShardName(i), i, (totalBytes / files) + (i < totalBytes % files ? 1 : 0));
        }
    }

    /// <summary>Adds the payload's files to the save, <paramref name="concurrentFiles"/> at once (so a many-file payload overlaps its requests).</summary>
    public static Task SaveAsync(
        Func<string, Func<Stream, CancellationToken, Task>, CancellationToken, Task> add, long step, long totalBytes, int files, int concurrentFiles, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            Files(totalBytes, files),
            new ParallelOptions { MaxDegreeOfParallelism = concurrentFiles, CancellationToken = cancellationToken },
            async (file, ct) => await add(file.Name, (stream, c) => WriteAsync(stream, Generator(step, file.Shard), file.Length, c), ct));

    /// <summary>Reads back and checks every payload file of the checkpoint, <paramref name="concurrentFiles"/> at once.</summary>
    public static Task VerifyAllAsync(CheckpointReader reader, int concurrentFiles, CancellationToken cancellationToken)
    {
        var step = reader.Manifest!.Step;
        var files = reader.Manifest.Files.Where(f => f.Name == FileName || f.Name.StartsWith(ShardFolder + "/", StringComparison.Ordinal));
        return Parallel.ForEachAsync(
            files,
            new ParallelOptions { MaxDegreeOfParallelism = concurrentFiles, CancellationToken = cancellationToken },
            async (file, ct) =>
            {
                int? shard = file.Name == FileName ? null : ParseShard(file.Name);
                await using var stream = await reader.OpenFileAsync(file.Name, ct);
                await VerifyAsync(stream, file.Name, step, Generator(step, shard), file.Length, ct);
            });
    }

    private static async Task WriteAsync(Stream destination, SplitMix64 generator, long length, CancellationToken cancellationToken)
    {
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
    /// surfaces as the library's <see cref="CheckpointCorruptException"/> (and the manager then passes
    /// over that checkpoint) rather than as a difference found here first.
    /// </summary>
    private static async Task VerifyAsync(Stream source, string name, long step, SplitMix64 generator, long length, CancellationToken cancellationToken)
    {
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
                    $"The payload file {name} of step {step} ({done} bytes) differs from the generator's {length} bytes in the chunk at offset {firstDifference ?? done}.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(expected);
            ArrayPool<byte>.Shared.Return(actual);
        }
    }

    private static string ShardName(int shard) => $"{ShardFolder}/shard-{shard:D5}.bin";

    private static int ParseShard(string name) =>
        name.Length == ShardName(0).Length && int.TryParse(name.AsSpan(ShardFolder.Length + "/shard-".Length, 5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var shard)
            && name == ShardName(shard)
            ? shard
            : throw new InvalidDataException($"'{name}' is not a payload shard's name.");

    // One file keeps the seed it always had; shard i mixes i + 1 into the high bits.
    private static SplitMix64 Generator(long step, int? shard) => new(0x5EED_0000_0000UL ^ (ulong)step ^ ((ulong)((shard ?? -1) + 1) << 44));

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
