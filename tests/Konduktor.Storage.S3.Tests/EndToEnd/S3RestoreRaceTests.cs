using System.Globalization;
using System.IO.Pipelines;

using Amazon.S3.Model;
using ByteRange = Konduktor.Storage.Stores.ByteRange;

using Konduktor.Storage.Testing;

using TinyTrainer.Tests;

using Xunit.Abstractions;

using static Konduktor.Storage.S3.Tests.S3ManagerTestSupport;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// Issue 18 on RadosGW: restores racing a trainer process that saves every step with <c>KeepLast=1</c> (defect 3), a data
/// object overwritten while a restore reads it (defect 13), and zero-length reads on the store's streams (defect 2).
/// </summary>
[Collection("RadosGW")]
public sealed class S3RestoreRaceTests : IDisposable
{
    private const string Run = "run-s3-race";
    private readonly RadosGwServer _server;
    private readonly ITestOutputHelper _output;
    private readonly string _work = Directory.CreateTempSubdirectory("konduktor-s3-race-").FullName;
    private readonly string _prefix = NewPrefix();

    public S3RestoreRaceTests(RadosGwServer server, ITestOutputHelper output)
    {
        _server = server;
        _output = output;

        // What Konduktor mounts at ~/.aws; TrainerProcess makes {work}/.home the pod's HOME.
        var aws = Path.Combine(_work, ".home", ".aws");
        Directory.CreateDirectory(aws);
        File.WriteAllText(Path.Combine(aws, "credentials"), $"[default]\naws_access_key_id = {server.AccessKey}\naws_secret_access_key = {server.SecretKey}\n");
        File.WriteAllText(Path.Combine(aws, "config"), $"[default]\nregion = {RadosGwServer.Region}\n");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task RestoreLatestAsync_RacingATrainerProcessThatSavesEveryStepWithKeepLastOne_AlwaysFindsAVerifiedCheckpoint()
    {
        using var store = await CreateStoreAsync(_server, prefix: _prefix);
        var environment = new Dictionary<string, string>
        {
            ["KONDUKTOR_JOB_NAME"] = "race",
            ["RESTART_ATTEMPT"] = "0",
            ["JOB_COMPLETION_INDEX"] = "0",
            ["NUM_NODES"] = "1",
            ["Konduktor__Checkpoints__Location"] = $"s3://{S3TestStores.Bucket}/{_prefix}",
            ["AWS_ENDPOINT_URL_S3"] = _server.Endpoint.ToString(),
        };
        foreach (var (key, value) in TrainerRestoreRacer.TrainerSettings)
        {
            environment[key] = value;
        }

        using var trainer = TrainerProcess.Start(_work, environment);

        var race = await TrainerRestoreRacer.RunAsync(store, "race", trainer, Path.Combine(_work, "out"), rounds: 20);

        Assert.False(trainer.Process.HasExited, "the trainer ended during the race; it should still be saving");
        _output.WriteLine(race.ToString());
        Assert.True(race.Failures.Count == 0, race.ToString());
        Assert.True(race.Restored.Distinct().Count() > 1, $"the trainer made no progress during the restores: {race}");
    }

    [Fact]
    public async Task RestoreLatestAsync_DataObjectOverwrittenBetweenOpenAndRead_FallsBackToTheOlderStepAndNamesTheFile()
    {
        using var s3 = await CreateStoreAsync(_server, prefix: _prefix);
        var writer = Manager(s3, Run);
        await writer.SaveAsync(1, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(1000, 1)) });
        var newest = await writer.SaveAsync(2, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(25 * MiB, 2)) });
        var key = DataKey(newest, "model.bin");
        var store = new OverwritingStore(s3, key);
        var restorer = Manager(store, Run);

        var result = await restorer.RestoreLatestAsync(Path.Combine(_work, "out"));

        Assert.True(store.Overwritten);
        Assert.Equal(1, result.Step);
        Assert.Equal(RandomBytes(1000, 1), await File.ReadAllBytesAsync(Path.Combine(_work, "out", "model.bin")));
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal((2L, SkipReason.ChecksumMismatch), (skipped.Step, skipped.Reason));
        Assert.Contains("'model.bin'", skipped.Detail, StringComparison.Ordinal);
        Assert.Contains("changed while it was read", skipped.Detail, StringComparison.Ordinal);

        // Judged corrupt for that manifest version: the manager's next save of step 2 supersedes it.
        await restorer.SaveAsync(2, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(1000, 22)) });
        Assert.Equal(2, (await Manager(s3, Run).RestoreLatestAsync(Path.Combine(_work, "again"))).Step);
    }

    [Fact]
    public async Task LoadLatestAsync_DataObjectOverwrittenMidReadOfAMultiRangeRead_FallsBackToTheOlderStep()
    {
        using var s3 = await CreateStoreAsync(_server, prefix: _prefix);
        var writer = Manager(s3, Run);
        await writer.SaveAsync(1, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(1000, 1)) });
        var newest = await writer.SaveAsync(2, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(25 * MiB, 2)) });
        using var client = S3TestStores.RawClient(_server);
        var overwritten = false;

        var loaded = await Manager(s3, Run).LoadLatestAsync(async (reader, ct) =>
        {
            await using var stream = await reader.OpenFileAsync("model.bin", ct);
            var buffer = new byte[Math.Min(MiB, reader.Manifest!.Files.Single().Length)];
            await stream.ReadExactlyAsync(buffer, ct);
            if (reader.Step == 2)
            {
                // Another version of the object while its later parts are still to be fetched.
                await client.PutObjectAsync(new PutObjectRequest { BucketName = s3.Bucket, Key = $"{s3.Prefix}/{DataKey(newest, "model.bin")}", InputStream = new MemoryStream(RandomBytes(25 * MiB, 3)) }, ct);
                overwritten = true;
            }

            using var rest = new MemoryStream();
            await stream.CopyToAsync(rest, ct);
            return buffer.Concat(rest.ToArray()).ToArray();
        });

        Assert.True(overwritten);
        Assert.Equal(1, loaded.Step);
        Assert.Equal(RandomBytes(1000, 1), loaded.Value);
        var skipped = Assert.Single(loaded.Skipped);
        Assert.Equal(2L, skipped.Step);
        Assert.Contains("'model.bin'", skipped.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(12 * MiB + 17)]
    public async Task OpenReadAsync_ZeroLengthReadsBetweenReads_ReturnZeroAndTheWholeObjectStillReadsBack(int length)
    {
        using var store = await CreateStoreAsync(_server, prefix: _prefix);
        var data = RandomBytes(length, length);
        await store.PutAsync("zero/object.bin", new MemoryStream(data));

        await using var stream = await store.OpenReadAsync("zero/object.bin");
        using var copy = new MemoryStream();
        var buffer = new byte[256 * 1024];
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
            Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        }

        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task LoadLatestAsync_PipeReaderWithZeroByteReads_LoadsTheNewestStepWithoutSkipping()
    {
        using var s3 = await CreateStoreAsync(_server, prefix: _prefix);
        var writer = Manager(s3, Run);
        await writer.SaveAsync(1, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(RandomBytes(1000, 1)) });
        await writer.SaveAsync(2, new Dictionary<string, Stream>
        {
            ["model.bin"] = new MemoryStream(RandomBytes(12 * MiB, 2)),
            ["small.bin"] = new MemoryStream(RandomBytes(3000, 4)),
        });

        var loaded = await Manager(s3, Run).LoadLatestAsync(async (reader, ct) =>
        {
            var lengths = new Dictionary<string, long>();
            foreach (var file in reader.Manifest!.Files)
            {
                await using var stream = await reader.OpenFileAsync(file.Name, ct);
                var pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, useZeroByteReads: true, leaveOpen: true));
                long total = 0;
                while (true)
                {
                    var result = await pipe.ReadAsync(ct);
                    total += result.Buffer.Length;
                    pipe.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }

                await pipe.CompleteAsync();
                lengths[file.Name] = total;
            }

            return lengths;
        });

        Assert.Equal(2, loaded.Step);
        Assert.Empty(loaded.Skipped);
        Assert.Equal(12 * MiB, loaded.Value!["model.bin"]);
        Assert.Equal(3000, loaded.Value!["small.bin"]);
    }

    private static string DataKey(CheckpointManifest manifest, string name) =>
        $"{Run}/rank-00000/step-{manifest.Step.ToString("D12", CultureInfo.InvariantCulture)}/{manifest.Files.Single(f => f.Name == name).Key}";

    /// <summary>Puts another version of one object right after a read of it is opened (the first part is already on its way).</summary>
    private sealed class OverwritingStore(ICheckpointStore inner, string key) : DelegatingStore(inner)
    {
        public bool Overwritten { get; private set; }

        public override async Task<Stream> OpenReadAsync(string key1, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            var stream = await Inner.OpenReadAsync(key1, range, cancellationToken);
            if (key1 == key && !Overwritten)
            {
                await Inner.PutAsync(key, new MemoryStream(RandomBytes(25 * MiB, 3)), null, cancellationToken);
                Overwritten = true;
            }

            return stream;
        }
    }
}
