using Konduktor.Storage.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>
/// Issue 18, defects 5 and 15 beyond the catalogue's rows: one location parser for dependency injection and the stores'
/// own constructors, and run ids and scopes that every store takes, checked when the manager is built.
/// </summary>
public sealed class LocationAndScopeDefectTests : IDisposable
{
    // The limit on a run id's and a scope's UTF-8 bytes (README, "Layout on the store").
    private const int MaxNameBytes = 128;

    private readonly string _root = TempDirectory();
    private readonly string _target = TempDirectory();

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_target, recursive: true);
    }

    [Theory]
    [InlineData("file:///d#f")]
    [InlineData("file:///d?x=1")]
    [InlineData("file:///data/../etc")]
    [InlineData("file:///data/./x")]
    [InlineData("file:///data//x")]
    public void FileSystemStore_LocationNotUnderstoodExactly_ThrowsArgumentNamingIt(string location)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new FileSystemCheckpointStore(new Uri(location)));

        Assert.Contains(location, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FileUriWithOneSlash_IsTheAbsolutePath()
    {
        var location = CheckpointLocation.Parse("file:/data/ckpt");

        Assert.Equal(("file", "/data/ckpt/"), (location.Scheme, location.Uri.LocalPath));
    }

    [Fact]
    public void Parse_PercentEncodedPath_DecodedOnceEverywhere()
    {
        var file = CheckpointLocation.Parse("file:///data/with%20space%25");
        var s3 = CheckpointLocation.Parse("s3://bucket/with%20space%25");

        Assert.Equal("/data/with space%/", file.Uri.LocalPath);
        Assert.Equal("with space%", s3.Prefix);
        Assert.Equal("/data/with space%/", new FileSystemCheckpointStore(file.Uri).Location.LocalPath);
    }

    [Theory]
    [InlineData("S3://MyBucket/p", "MyBucket")]
    [InlineData("memory://Shared", "Shared")]
    public void Parse_BucketOrName_TakenAsWritten(string text, string bucket)
    {
        Assert.Equal(bucket, CheckpointLocation.Parse(text).Bucket);
    }

    [Theory]
    [InlineData("memory://a/b")]
    [InlineData("s3:/bucket/x")]
    [InlineData("file://host/dir")]
    [InlineData("file:relative")]
    [InlineData("s3://user@bucket/x")]
    [InlineData("s3://bucket:9000/x")]
    public void Parse_NotUnderstoodExactly_ThrowsNamingLocationAndValue(string text)
    {
        var error = Assert.Throws<CheckpointConfigurationException>(() => CheckpointLocation.Parse(text));

        Assert.Equal(("Konduktor:Checkpoints:Location", text), (error.Key, error.Value));
    }

    [Theory]
    [InlineData("./s3:bucket", "s3:bucket")]
    [InlineData("ckpt", "ckpt")]
    public void Parse_PlainRelativePath_IsAFolderUnderTheCurrentDirectory(string text, string folder)
    {
        var location = CheckpointLocation.Parse(text);

        Assert.Equal(("file", Path.Join(Directory.GetCurrentDirectory(), folder) + "/"), (location.Scheme, location.Uri.LocalPath));
    }

    [Fact]
    public async Task Manager_RunIdAndScopeAtTheLimit_SaveAndRestore()
    {
        var run = new string('r', MaxNameBytes);
        var scope = new string('é', MaxNameBytes / 2);
        var manager = Manager(new FileSystemCheckpointStore(_root), o => (o.RunId, o.Scope) = (run, scope));

        await manager.SaveAsync(1, ("model.bin", Bytes(10, 1)));

        Assert.Equal(1, (await manager.RestoreLatestAsync(Path.Join(_target, "restored"))).Step);
    }

    [Fact]
    public void Manager_JobNameOneByteOverTheLimit_ThrowsNamingTheVariable()
    {
        // 65 two-byte characters: 65 characters, 130 bytes of UTF-8.
        var name = new string('é', (MaxNameBytes / 2) + 1);
        var job = JobContext.FromEnvironment(new FakeJobEnvironment().Set("KONDUKTOR_JOB_NAME", name));

        var error = Assert.Throws<CheckpointConfigurationException>(() => new CheckpointManager(new InMemoryCheckpointStore(), job));

        Assert.Equal("KONDUKTOR_JOB_NAME", error.Key);
    }

    [Fact]
    public void Manager_ScopeKeywordInAnySpelling_IsThisPodsScope()
    {
        var job = JobContext.Create(rank: 3, nodeCount: 4);

        foreach (var spelling in (string[])["rank", "Rank", "RANK", " rank ", "\trank\n"])
        {
            Assert.Equal("rank-00003", Manager(new InMemoryCheckpointStore(), o => o.Scope = spelling, job).Scope);
        }
    }
}
