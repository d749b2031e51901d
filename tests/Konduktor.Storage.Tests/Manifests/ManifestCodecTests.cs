using System.Text;

namespace Konduktor.Storage.Tests;

public sealed class ManifestCodecTests
{
    private static readonly string Checksum = ContentHash.Of([1, 2, 3]);

    private static CheckpointManifest Manifest(params ManifestFile[] files) => new()
    {
        Run = "run",
        Scope = "rank-00000",
        Step = 12,
        CreatedUtc = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
        Writer = "a0-abc",
        Job = new ManifestJob(1, 0, 2, "pod-0"),
        Files = files.Length == 0 ? [new ManifestFile("model.bin", "a0-abc/model.bin", 3, Checksum)] : files,
        Metadata = new Dictionary<string, string> { ["loss"] = "0.5" },
    };

    private static void Rejects(CheckpointManifest manifest, string reason)
    {
        var error = Assert.Throws<InvalidManifestException>(() => ManifestCodec.Parse(ManifestCodec.Serialize(manifest), "run", "rank-00000", 12));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Serialize_ThenParse_RoundTripsEveryField()
    {
        var manifest = Manifest();

        var parsed = ManifestCodec.Parse(ManifestCodec.Serialize(manifest), "run", "rank-00000", 12);

        Assert.Equal(manifest.CreatedUtc, parsed.CreatedUtc);
        Assert.Equal(manifest.Writer, parsed.Writer);
        Assert.Equal(manifest.Job, parsed.Job);
        Assert.Equal(manifest.Files, parsed.Files);
        Assert.Equal("0.5", parsed.Metadata["loss"]);
    }

    [Fact]
    public void Serialize_UsesTheDocumentedFieldNames()
    {
        var json = Encoding.UTF8.GetString(ManifestCodec.Serialize(Manifest()));

        foreach (var field in new[] { "format", "run", "scope", "step", "createdUtc", "writer", "job", "restartAttempt", "rank", "nodes", "host", "files", "name", "key", "length", "checksum", "metadata" })
        {
            Assert.Contains($"\"{field}\":", json);
        }
    }

    [Fact]
    public void Parse_UnknownExtraFields_AreIgnoredForForwardCompatibility()
    {
        var json = Encoding.UTF8.GetString(ManifestCodec.Serialize(Manifest())).Replace("\"format\"", "\"future\": 1, \"format\"", StringComparison.Ordinal);

        Assert.Equal(12, ManifestCodec.Parse(Encoding.UTF8.GetBytes(json), "run", "rank-00000", 12).Step);
    }

    [Fact]
    public void Parse_DuplicateNames_AreRejected() =>
        Rejects(Manifest(new("a", "a0-abc/a", 3, Checksum), new("a", "a0-abc/b", 3, Checksum)), "listed twice");

    [Fact]
    public void Parse_FileThatIsAlsoAFolder_IsRejected() =>
        Rejects(Manifest(new("a", "a0-abc/a", 3, Checksum), new("a/b", "a0-abc/a/b", 3, Checksum)), "also a folder");

    [Fact]
    public void Parse_KeyOutsideAWriterFolder_IsRejected() =>
        Rejects(Manifest(new ManifestFile("a", "a", 3, Checksum)), "not inside a writer folder");

    [Fact]
    public void Parse_KeyInTheQuarantine_IsRejected() =>
        Rejects(Manifest(new ManifestFile("a", "quarantine/x", 3, Checksum)), "outside its step");

    [Fact]
    public void Parse_WrongScope_IsRejected() =>
        Assert.Throws<InvalidManifestException>(() => ManifestCodec.Parse(ManifestCodec.Serialize(Manifest()), "run", "rank-00001", 12));

    [Fact]
    public void Parse_WriterWithSlash_IsRejected()
    {
        var manifest = Manifest();
        Rejects(new CheckpointManifest { Run = "run", Scope = "rank-00000", Step = 12, CreatedUtc = manifest.CreatedUtc, Writer = "a/b", Files = manifest.Files }, "writer");
    }

    [Fact]
    public void Parse_UppercaseChecksum_IsRejected() =>
        Rejects(Manifest(new ManifestFile("a", "a0-abc/a", 3, Checksum.ToUpperInvariant())), "checksum");

    [Theory]
    [InlineData("step-000000000001", true, 1)]
    [InlineData("step-000000001200/", true, 1200)]
    [InlineData("step-1234567890123", true, 1234567890123)]
    [InlineData("step-1", false, 0)]
    [InlineData("step-0000000000001", false, 0)]
    [InlineData("step-+00000000001", false, 0)]
    [InlineData("quarantine", false, 0)]
    public void TryParseStepFolder_OnlyCanonicalNames(string name, bool valid, long step)
    {
        Assert.Equal(valid, CheckpointLayout.TryParseStepFolder(name, out var parsed));
        if (valid)
        {
            Assert.Equal(step, parsed);
        }
    }

    [Fact]
    public void ContentHash_Streaming_EqualsOneShot()
    {
        var data = new byte[1_000_003];
        new Random(5).NextBytes(data);
        var hash = new ContentHash();

        for (var offset = 0; offset < data.Length; offset += 65_536)
        {
            hash.Append(data.AsSpan(offset, Math.Min(65_536, data.Length - offset)));
        }

        Assert.Equal(ContentHash.Of(data), hash.Current());
        Assert.Matches("^xxh128:[0-9a-f]{32}$", hash.Current());
        Assert.Equal(data.Length, hash.Length);
    }
}
