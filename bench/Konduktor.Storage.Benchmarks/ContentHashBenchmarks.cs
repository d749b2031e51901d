using System.IO.Hashing;
using System.Security.Cryptography;

using BenchmarkDotNet.Attributes;
using Konduktor.Storage.Stores;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// How fast checkpoint bytes can be checksummed while they stream: <see cref="ContentHash"/> (xxHash128) against the raw
/// algorithm and the usual alternatives, on 64 MiB fed in 1 MiB chunks as a transfer would feed it.
/// </summary>
[Config(typeof(ThroughputConfig))]
[MemoryDiagnoser]
public class ContentHashBenchmarks
{
    public const int TotalBytes = 64 * 1024 * 1024;
    private const int ChunkBytes = 1024 * 1024;

    private readonly byte[] _data = new byte[TotalBytes];

    [GlobalSetup]
    public void Setup() => new Random(42).NextBytes(_data);

    [Benchmark(Baseline = true, Description = "ContentHash (xxh128)")]
    public string ContentHashAppend()
    {
        var hash = new ContentHash();
        for (var offset = 0; offset < _data.Length; offset += ChunkBytes)
        {
            hash.Append(_data.AsSpan(offset, ChunkBytes));
        }

        return hash.Current();
    }

    [Benchmark(Description = "XxHash128")]
    public UInt128 XxHash128Raw() => Run(new XxHash128()).GetCurrentHashAsUInt128();

    [Benchmark(Description = "Crc32")]
    public uint Crc32Raw() => Run(new Crc32()).GetCurrentHashAsUInt32();

    [Benchmark(Description = "Crc64")]
    public ulong Crc64Raw() => Run(new Crc64()).GetCurrentHashAsUInt64();

    [Benchmark(Description = "SHA256")]
    public byte[] Sha256()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var offset = 0; offset < _data.Length; offset += ChunkBytes)
        {
            hash.AppendData(_data.AsSpan(offset, ChunkBytes));
        }

        return hash.GetHashAndReset();
    }

    private T Run<T>(T hash)
        where T : NonCryptographicHashAlgorithm
    {
        for (var offset = 0; offset < _data.Length; offset += ChunkBytes)
        {
            hash.Append(_data.AsSpan(offset, ChunkBytes));
        }

        return hash;
    }
}
