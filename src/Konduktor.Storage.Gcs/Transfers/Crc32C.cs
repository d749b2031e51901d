using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Konduktor.Storage.Gcs;

/// <summary>
/// CRC32C (Castagnoli), the checksum GCS keeps for every object: computed incrementally over what is sent or received, with the
/// CPU's CRC32C instruction where there is one (several GB/s) and a table otherwise.
/// </summary>
internal struct Crc32C
{
    private static readonly uint[] Table = BuildTable();
    private uint _state;

    public Crc32C() => _state = uint.MaxValue;

    /// <summary>The checksum of the bytes appended so far.</summary>
    public readonly uint Value => ~_state;

    /// <summary>The checksum as GCS writes it (<c>crc32c</c> in object metadata, <c>x-goog-hash</c>): base64 of the big-endian bytes.</summary>
    public readonly string Base64 => ToBase64(Value);

    public static string ToBase64(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return Convert.ToBase64String(bytes);
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        var crc = _state;
        if (Sse42.X64.IsSupported)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            ulong wide = crc;
            foreach (var word in words)
            {
                wide = Sse42.X64.Crc32(wide, word);
            }

            crc = (uint)wide;
            data = data[(words.Length * 8)..];
        }
        else if (Crc32.Arm64.IsSupported)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            foreach (var word in words)
            {
                crc = Crc32.Arm64.ComputeCrc32C(crc, word);
            }

            data = data[(words.Length * 8)..];
        }

        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        _state = crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
