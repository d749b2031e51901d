using System.Buffers.Binary;
using System.Numerics;

namespace Konduktor.Storage.Testing;

/// <summary>CRC-32C (Castagnoli), the checksum GCS reports as <c>crc32c</c>: hardware-accelerated where the CPU has it.</summary>
internal static class Crc32C
{
    /// <summary>The state before any byte.</summary>
    public const uint Initial = uint.MaxValue;

    /// <summary>Continues <paramref name="state"/> over <paramref name="data"/>.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= sizeof(ulong))
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }

        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }

        return state;
    }

    /// <summary>The checksum of a finished state, as GCS writes it: base64 of its four big-endian bytes.</summary>
    public static string ToBase64(uint state)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, ~state);
        return Convert.ToBase64String(bytes);
    }
}
