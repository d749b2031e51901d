using System.IO.Pipelines;
using System.Runtime.CompilerServices;

using Konduktor.Storage.Testing;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>
/// Issue 18, defects 1, 2, 3 and 13: retention that deleted the save it followed, zero-length reads taken for the end of a
/// file, restores that found nothing while a trainer saved and pruned beside them, and a file replaced while it was read.
/// </summary>
public sealed class RestoreRaceAndRetentionDefectTests
{
    private readonly InMemoryCheckpointStore _store = new();

    // ---- defect 1: retention deletes the checkpoint just saved ----

    [Fact]
    public async Task SaveAsync_NewerStepJudgedCorruptAndKeepLastOne_KeepsTheFreshSaveAndTheCorruptOne()
    {
        var first = Manager(_store, o => o.Retention.KeepLast = 10);
        await first.SaveStepAsync(5);
        await first.SaveStepAsync(10);
        var bad = await first.SaveStepAsync(20);
        await _store.FlipByteAsync(DataKey(first, bad, "model.bin"), 7);

        var resumed = Manager(_store, o => o.Retention.KeepLast = 1);
        var restored = await resumed.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));
        Assert.Equal(10, restored.Step);
        await resumed.SaveStepAsync(15);

        // 15 is the newest valid checkpoint, 10 the one restored from, 20 corrupt (kept for inspection); 5 goes by policy.
        Assert.Equal([20L, 15L, 10L], await CommittedStepsAsync(resumed));
        var again = await Manager(_store).RestoreLatestAsync(Path.Combine(TempDirectory(), "again"));
        Assert.Equal(15, again.Step);
    }

    [Fact]
    public async Task SaveAsync_NewerStepHasAnInvalidManifestAndKeepLastOne_KeepsTheFreshSaveAndPrunesOlderOnes()
    {
        var first = Manager(_store, o => o.Retention.KeepLast = 10);
        await first.SaveStepAsync(5);
        await first.SaveStepAsync(10);
        await first.SaveStepAsync(20);
        await _store.ReplaceAsync(ManifestKey(first, 20), Utf8("{ not a manifest"));

        var resumed = Manager(_store, o => o.Retention.KeepLast = 1);
        Assert.Equal(10, (await resumed.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"))).Step);
        await resumed.SaveStepAsync(15);
        await resumed.SaveStepAsync(16);

        Assert.NotNull(await _store.StatAsync(ManifestKey(resumed, 20)));
        Assert.Equal([16L, 10L], await CommittedStepsAsync(resumed));
    }

    [Fact]
    public async Task SaveAsync_BelowANewerStepAndKeepLastOne_NeverDeletesItsOwnFreshSave()
    {
        // A manager that restored nothing saves 15 below 20: its own retention pass keeps what it has just committed.
        var first = Manager(_store, o => o.Retention.KeepLast = 10);
        await first.SaveStepAsync(10);
        await first.SaveStepAsync(20);
        var other = Manager(_store, o => o.Retention.KeepLast = 1);

        await other.SaveStepAsync(15);

        Assert.Equal([20L, 15L], await CommittedStepsAsync(other));
    }

    // ---- defect 2: a zero-length read is taken for the end of the file ----

    [Fact]
    public async Task VerifyingReadStream_ZeroLengthReadsMidStream_ReturnZeroAndChangeNothing()
    {
        var data = Bytes(10_000, 2);
        var file = new ManifestFile("m.bin", "w/m.bin", data.Length, ContentHash.Of(data));
        var judged = 0;
        await using var stream = new VerifyingReadStream(new MemoryStream(data), 2, file, _ => judged++);
        var buffer = new byte[4096];
        using var copy = new MemoryStream();

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal(0, stream.Read(Span<byte>.Empty));
        Assert.Equal(0, stream.Read(buffer, 0, 0));
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
            Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
            Assert.Equal(0, stream.Read(Span<byte>.Empty));
            Assert.Equal(0, await stream.ReadAsync(buffer.AsMemory(0, 0)));
        }

        Assert.Equal(data, copy.ToArray());
        Assert.Equal(0, judged);
    }

    [Fact]
    public async Task VerifyingReadStream_ZeroLengthReadOnATruncatedFile_StillFailsAtTheRealEnd()
    {
        var data = Bytes(1000, 3);
        var file = new ManifestFile("m.bin", "w/m.bin", data.Length + 1, ContentHash.Of(data));
        await using var stream = new VerifyingReadStream(new MemoryStream(data), 3, file, null);

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        await Assert.ThrowsAsync<CheckpointCorruptException>(async () => await stream.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task LoadLatestAsync_ReaderIssuesZeroByteReads_LoadsTheNewestIntactStepAndJudgesNothingBad()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 10);
        await manager.SaveAsync(1, ("m.bin", Bytes(300_000, 1)));
        await manager.SaveAsync(2, ("m.bin", Bytes(300_000, 2)), ("n.bin", Bytes(70_000, 22)));

        var loaded = await manager.LoadLatestAsync(async (reader, ct) =>
        {
            var files = new Dictionary<string, byte[]>();
            foreach (var file in reader.Manifest!.Files)
            {
                await using var stream = await reader.OpenFileAsync(file.Name, ct);
                // A PipeReader that waits for data with zero-byte reads, as Kestrel-style readers do.
                var pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 8192, useZeroByteReads: true, leaveOpen: true));
                using var bytes = new MemoryStream();
                while (true)
                {
                    var result = await pipe.ReadAsync(ct);
                    foreach (var segment in result.Buffer)
                    {
                        bytes.Write(segment.Span);
                    }

                    pipe.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }

                    Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty, ct));
                }

                await pipe.CompleteAsync();
                files[file.Name] = bytes.ToArray();
            }

            return files;
        });

        Assert.Equal(2, loaded.Step);
        Assert.Empty(loaded.Skipped);
        Assert.Equal(Bytes(300_000, 2), loaded.Value!["m.bin"]);
        Assert.Equal(Bytes(70_000, 22), loaded.Value!["n.bin"]);

        // Nothing was judged corrupt: a save of step 2 by this manager is a conflict, not a supersede.
        await Assert.ThrowsAsync<CheckpointConflictException>(() => manager.SaveStepAsync(2));
    }

    // ---- defect 3: a restore racing a save-and-prune finds nothing ----

    [Fact]
    public async Task RestoreLatestAsync_StepPrunedBetweenListingAndJudging_RestoresTheNewerOne()
    {
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var race = new RaceStore(_store);
        race.AfterStepListing = Once(() => trainer.SaveStepAsync(2));

        var result = await Manager(race).RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(2, result.Step);
        Assert.Empty(result.Skipped);
    }

    [Fact]
    public async Task RestoreLatestAsync_ManifestDeletedBeforeItIsRead_RestoresTheNewerOne()
    {
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var race = new RaceStore(_store);
        race.BeforeOpenRead = Once<string>(key => key.EndsWith("step-000000000001/manifest.json", StringComparison.Ordinal), () => trainer.SaveStepAsync(2));

        var result = await Manager(race).RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(2, result.Step);
        Assert.Empty(result.Skipped);
    }

    [Fact]
    public async Task RestoreLatestAsync_FileDeletedBeforeItIsDownloaded_RestoresTheNewerOneAndJudgesNothingBad()
    {
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var race = new RaceStore(_store);
        race.BeforeOpenRead = Once<string>(key => key.Contains("step-000000000001/a", StringComparison.Ordinal), () => trainer.SaveStepAsync(2));
        var restorer = Manager(race, o => o.Retention.KeepLast = 10);

        var result = await restorer.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(2, result.Step);
        Assert.Empty(result.Skipped);
        Assert.Equal(Bytes(1002, 2), await File.ReadAllBytesAsync(Path.Combine(result.Directory!, "model.bin")));
    }

    [Fact]
    public async Task LoadLatestAsync_FileDeletedWhileLoading_LoadsTheNewerOne()
    {
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var race = new RaceStore(_store);
        race.BeforeOpenRead = Once<string>(key => key.Contains("step-000000000001/a", StringComparison.Ordinal), () => trainer.SaveStepAsync(2));

        var loaded = await Manager(race).LoadLatestAsync(ReadModelAsync);

        Assert.Equal(2, loaded.Step);
        Assert.Equal(Bytes(1002, 2), loaded.Value);
        Assert.Empty(loaded.Skipped);
    }

    [Fact]
    public async Task OpenLatestAsync_StepPrunedWhileJudged_OpensTheNewerOne()
    {
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var race = new RaceStore(_store);
        race.BeforeOpenRead = Once<string>(key => key.EndsWith("step-000000000001/manifest.json", StringComparison.Ordinal), () => trainer.SaveStepAsync(2));

        var reader = await Manager(race).OpenLatestAsync();

        Assert.Equal(2, reader.Step);
        Assert.Empty(reader.Skipped);
    }

    [Fact]
    public async Task RestoreLatestAsync_NewerSaveCommittedAndOlderPrunedDuringTheScan_FindsTheNewerAndReportsNoPrunedStep()
    {
        // The listing sees step 2 still uncommitted (data only) and step 1 committed; while step 2 is judged, the trainer
        // commits it and its retention deletes step 1's manifest (its data stays a moment longer).
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var save = await trainer.BeginSaveAsync(2);
        await save.AddFileAsync("model.bin", new MemoryStream(Bytes(1002, 2)));
        var race = new RaceStore(_store);
        race.AfterFolderListing = Once<string>(folder => folder.EndsWith("step-000000000002/", StringComparison.Ordinal), async () =>
        {
            var step1 = (await trainer.ListAsync()).Single(c => c.Step == 1).Manifest!;
            await save.CommitAsync(null);
            // Put back step 1's data: its manifest is gone, the prune has not reached its data yet.
            await _store.PutAsync(DataKey(trainer, step1, "model.bin"), new MemoryStream(Bytes(1001, 1)));
        });

        var result = await Manager(race).RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(2, result.Step);
        Assert.DoesNotContain(result.Skipped, s => s.Step == 1);
        await save.DisposeAsync();
    }

    [Fact]
    public async Task RestoreLatestAsync_OnlyATornStep_FindsNothingAndReportsItNotCommitted()
    {
        var manager = Manager(_store);
        await _store.PutAsync($"{Run}/{manager.Scope}/step-000000000003/a0-x/model.bin", new MemoryStream([1, 2, 3]));

        var result = await manager.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.False(result.Found);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal((3L, SkipReason.NotCommitted), (skipped.Step, skipped.Reason));
    }

    [Fact]
    public async Task RestoreLatestAsync_StepsKeepDisappearing_FailsClearlyAfterBoundedListings()
    {
        var trainer = Manager(_store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        var race = new RaceStore(_store);
        var step = 1L;
        race.BeforeOpenRead = async key =>
        {
            if (key.EndsWith("manifest.json", StringComparison.Ordinal))
            {
                await trainer.SaveStepAsync(++step);
            }
        };

        var error = await Assert.ThrowsAsync<CheckpointStorageException>(() => Manager(race).RestoreLatestAsync(Path.Combine(TempDirectory(), "out")));

        Assert.Contains("disappeared", error.Message, StringComparison.Ordinal);
        Assert.Contains(Run, error.Message, StringComparison.Ordinal);
        Assert.True(step < 100, $"{step} saves: the re-listing is not bounded");
    }

    [Fact]
    public async Task RestoreLatestAsync_RacingATrainerThatSavesEveryStepWithKeepLastOne_AlwaysFindsAVerifiedCheckpoint()
    {
        var store = new FileSystemCheckpointStore(TempDirectory());
        var targets = TempDirectory();
        var trainer = Manager(store, o => o.Retention.KeepLast = 1);
        await trainer.SaveStepAsync(1);
        using var done = new CancellationTokenSource();
        var training = Task.Run(async () =>
        {
            try
            {
                for (var step = 2; step <= 150; step++)
                {
                    await trainer.SaveStepAsync(step);
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        });

        var restores = 0;
        var failures = new List<string>();
        while (!done.IsCancellationRequested || restores < 20)
        {
            var restorer = Manager(store, o => o.Retention.ApplyAfterSave = false);
            var target = Path.Combine(targets, restores.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var restored = await restorer.RestoreLatestAsync(target);
            var loaded = await restorer.LoadLatestAsync(ReadModelAsync);
            if (!restored.Found || !loaded.Found || restored.Skipped.Any(s => s.Reason != SkipReason.NotCommitted))
            {
                failures.Add($"restore {restores}: found {restored.Step}/{loaded.Step}, skipped {string.Join("; ", restored.Skipped.Concat(loaded.Skipped))}");
            }
            else
            {
                Assert.Equal(Bytes(1000 + (int)restored.Step, (int)restored.Step), await File.ReadAllBytesAsync(Path.Combine(target, "model.bin")));
                Assert.Equal(Bytes(1000 + (int)loaded.Step, (int)loaded.Step), loaded.Value);
            }

            restores++;
        }

        await training;
        Assert.True(failures.Count == 0, $"{failures.Count} of {restores} restores failed:\n{string.Join('\n', failures.Take(10))}");
    }

    // ---- defect 13: a file overwritten during a restore aborts it ----

    [Fact]
    public async Task RestoreLatestAsync_DataFileReplacedWhileRead_FallsBackAndNamesTheFile()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 10);
        await manager.SaveStepAsync(1);
        var newest = await manager.SaveAsync(2, ("model.bin", Bytes(100_000, 2)));
        var race = new RaceStore(_store) { ChangedWhileRead = DataKey(manager, newest, "model.bin") };
        var restorer = Manager(race);

        var result = await restorer.RestoreLatestAsync(Path.Combine(TempDirectory(), "out"));

        Assert.Equal(1, result.Step);
        var skipped = Assert.Single(result.Skipped);
        Assert.Equal((2L, SkipReason.ChecksumMismatch), (skipped.Step, skipped.Reason));
        Assert.Contains("model.bin", skipped.Detail, StringComparison.Ordinal);
        Assert.Contains("changed while", skipped.Detail, StringComparison.Ordinal);

        // Judged corrupt for that manifest version: a save of step 2 by this manager supersedes it.
        await restorer.SaveStepAsync(2);
        Assert.Equal(2, (await Manager(_store).RestoreLatestAsync(Path.Combine(TempDirectory(), "again"))).Step);
    }

    [Fact]
    public async Task LoadLatestAsync_DataFileReplacedWhileRead_FallsBackAndNamesTheFile()
    {
        var manager = Manager(_store, o => o.Retention.KeepLast = 10);
        await manager.SaveStepAsync(1);
        var newest = await manager.SaveAsync(2, ("model.bin", Bytes(100_000, 2)));
        var race = new RaceStore(_store) { ChangedWhileRead = DataKey(manager, newest, "model.bin") };

        var loaded = await Manager(race).LoadLatestAsync(ReadModelAsync);

        Assert.Equal(1, loaded.Step);
        var skipped = Assert.Single(loaded.Skipped);
        Assert.Equal(2L, skipped.Step);
        Assert.Contains("model.bin", skipped.Detail, StringComparison.Ordinal);
    }

    private static async Task<List<long>> CommittedStepsAsync(CheckpointManager manager) =>
        [.. (await manager.ListAsync()).Where(c => c.IsCommitted).Select(c => c.Step)];

    private static async Task<byte[]> ReadModelAsync(CheckpointReader reader, CancellationToken cancellationToken)
    {
        await using var stream = await reader.OpenFileAsync("model.bin", cancellationToken);
        using var bytes = new MemoryStream();
        await stream.CopyToAsync(bytes, cancellationToken);
        return bytes.ToArray();
    }

    private static Func<Task> Once(Func<Task> action)
    {
        var done = 0;
        return () => Interlocked.Exchange(ref done, 1) == 0 ? action() : Task.CompletedTask;
    }

    private static Func<T, Task> Once<T>(Func<T, bool> when, Func<Task> action)
    {
        var done = 0;
        return value => when(value) && Interlocked.Exchange(ref done, 1) == 0 ? action() : Task.CompletedTask;
    }

    /// <summary>A store with hooks at the moments a restore races a writer: after a listing, before a read.</summary>
    private sealed class RaceStore(ICheckpointStore inner) : DelegatingStore(inner)
    {
        /// <summary>Runs after a delimited listing (the scope's step folders) has been read to its end.</summary>
        public Func<Task>? AfterStepListing { get; set; }

        /// <summary>Runs after a listing without delimiter (one step folder) has been read to its end, with its prefix.</summary>
        public Func<string, Task>? AfterFolderListing { get; set; }

        /// <summary>Runs before an object is opened for reading, with its key.</summary>
        public Func<string, Task>? BeforeOpenRead { get; set; }

        /// <summary>A key whose reads fail halfway as if the object were replaced (what S3 and GCS report with 412).</summary>
        public string? ChangedWhileRead { get; set; }

        public override async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            if (BeforeOpenRead is { } hook)
            {
                await hook(key);
            }

            var stream = await Inner.OpenReadAsync(key, range, cancellationToken);
            return key == ChangedWhileRead ? new ChangingStream(stream, Inner.Location, key) : stream;
        }

        public override IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, CancellationToken cancellationToken = default) =>
            ListThenAsync(prefix, options, cancellationToken);

        private async IAsyncEnumerable<StoreEntry> ListThenAsync(string prefix, ListOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (var entry in Inner.ListAsync(prefix, options, cancellationToken))
            {
                yield return entry;
            }

            if (!string.IsNullOrEmpty(options?.Delimiter))
            {
                if (AfterStepListing is { } hook)
                {
                    await hook();
                }
            }
            else if (AfterFolderListing is { } hook)
            {
                await hook(prefix);
            }
        }
    }

    /// <summary>Hands over the first bytes, then fails as a store does when the object's version changed under the read.</summary>
    private sealed class ChangingStream(Stream inner, Uri location, string key) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position > 1000)
            {
                throw new PreconditionFailedException(location, key, "it changed while being read");
            }

            var read = inner.Read(buffer[..Math.Min(buffer.Length, 1001)]);
            _position += read;
            return read;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
