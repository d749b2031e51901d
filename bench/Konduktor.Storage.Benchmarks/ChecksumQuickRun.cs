using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using Konduktor.Storage.Stores;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The fast mode (<c>-- checksum</c>): hashes 2 GiB per round in 4 MiB chunks (cycling through a 64 MiB buffer, so the data
/// is not all in cache), 5 rounds after a warm-up, and prints the median GB/s per algorithm.
/// </summary>
internal static class ChecksumQuickRun
{
    private const int ChunkBytes = 4 * 1024 * 1024;
    private const int BufferBytes = 64 * 1024 * 1024;
    private const long RoundBytes = 2L * 1024 * 1024 * 1024;
    private const int Rounds = 5;

    /// <summary>The slowest acceptable xxh128 speed: far above any network, so checksums never slow a transfer down.</summary>
    private const double MinimumXxh128GBps = 3.0;

    public static int Run()
    {
        var data = new byte[BufferBytes];
        new Random(42).NextBytes(data);

        (string Case, Func<byte[], long, int> Hash)[] cases =
        [
            ("checksum-xxh128", HashContent),
            ("checksum-crc32", (d, n) => HashNonCrypto(new Crc32(), d, n)),
            ("checksum-crc64", (d, n) => HashNonCrypto(new Crc64(), d, n)),
            ("checksum-sha256", HashSha256),
        ];

        var results = new List<(string Case, double Median, double Min, double Max)>();
        foreach (var (name, hash) in cases)
        {
            hash(data, BufferBytes); // warm-up: JIT and tiering
            var speeds = new double[Rounds];
            for (var round = 0; round < Rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                hash(data, RoundBytes);
                speeds[round] = RoundBytes / clock.Elapsed.TotalSeconds / 1e9;
            }

            Array.Sort(speeds);
            results.Add((name, speeds[Rounds / 2], speeds[0], speeds[^1]));
        }

        Console.WriteLine($"Checksum throughput: {RoundBytes >> 30} GiB per round in {ChunkBytes >> 20} MiB chunks, median of {Rounds} rounds ({Environment.ProcessorCount} CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
        Console.WriteLine();
        Console.WriteLine($"| {"case",-16} | {"median GB/s",11} | {"min",6} | {"max",6} |");
        Console.WriteLine($"|{new string('-', 18)}|{new string('-', 13)}|{new string('-', 8)}|{new string('-', 8)}|");
        foreach (var (name, median, min, max) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name,-16} | {median,11:F2} | {min,6:F2} | {max,6:F2} |"));
        }

        Console.WriteLine();
        foreach (var (name, median, _, _) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $$"""BENCH {"case":"{{name}}","gbPerSecond":{{median:F3}}}"""));
        }

        var xxh128 = results.Single(r => r.Case == "checksum-xxh128").Median;
        if (xxh128 < MinimumXxh128GBps)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FAIL: xxh128 ran at {xxh128:F2} GB/s; at least {MinimumXxh128GBps:F1} GB/s is required."));
            return 1;
        }

        return 0;
    }

    private static int HashContent(byte[] data, long bytes)
    {
        var hash = new ContentHash();
        ForEachChunk(data, bytes, chunk => hash.Append(chunk));
        return hash.Current().Length;
    }

    private static int HashNonCrypto(NonCryptographicHashAlgorithm hash, byte[] data, long bytes)
    {
        ForEachChunk(data, bytes, hash.Append);
        return hash.HashLengthInBytes;
    }

    private static int HashSha256(byte[] data, long bytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ForEachChunk(data, bytes, hash.AppendData);
        return hash.GetHashAndReset().Length;
    }

    private static void ForEachChunk(byte[] data, long bytes, ChunkAction action)
    {
        for (long done = 0; done < bytes; done += ChunkBytes)
        {
            action(data.AsSpan((int)(done % data.Length), ChunkBytes));
        }
    }

    private delegate void ChunkAction(ReadOnlySpan<byte> chunk);
}
