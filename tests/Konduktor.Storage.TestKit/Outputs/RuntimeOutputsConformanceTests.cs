using System.Text;

namespace Konduktor.Storage.Testing;

/// <summary>
/// The runtime outputs (output sync, artifacts, pulls) on one store, written only against the public API. Derive from it
/// and return a store over a fresh, empty namespace from <see cref="CreateStoreAsync"/>; each test gets its own local
/// directories, deleted afterwards.
/// </summary>
public abstract class RuntimeOutputsConformanceTests : IDisposable
{
    private const int MiB = 1024 * 1024;
    private readonly string _root = Directory.CreateTempSubdirectory("konduktor-outputs-").FullName;

    /// <summary>The size a growing file reaches in <see cref="GrowingFile_ManyPasses_SendsLinearBytesAndEndsAsOnePlainObject"/>.</summary>
    protected virtual int GrowingFileMiB => 64;

    /// <summary>Creates a store over a fresh, empty namespace for one test.</summary>
    protected abstract Task<ICheckpointStore> CreateStoreAsync();

    /// <summary>This test's own temporary folder, deleted afterwards (a file-system store may live in it).</summary>
    protected string TestRoot => _root;

    /// <summary>A fresh local directory of this test.</summary>
    protected string NewDirectory(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    [Fact]
    public async Task GrowingFile_ManyPasses_SendsLinearBytesAndEndsAsOnePlainObject()
    {
        const int Passes = 200;
        var store = new CountingStore(await CreateStoreAsync());
        var local = NewDirectory("out");
        var sync = new OutputSync(store, "run-a", "rank-00000", local);
        var file = Path.Combine(local, "train.log");
        var total = GrowingFileMiB * MiB;
        var random = new Random(7);
        var chunk = new byte[total / Passes];
        using (var log = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var pass = 1; pass <= Passes; pass++)
            {
                random.NextBytes(chunk);
                log.Write(chunk);
                log.Flush();
                await sync.SyncAsync();
                if (pass % 50 == 0)
                {
                    // Before the final sync the reader puts the pieces together exactly.
                    var read = await sync.Outputs.ReadAllBytesAsync("rank-00000/train.log");
                    Assert.Equal(pass * chunk.Length, read.Length);
                    Assert.True(read.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"content after pass {pass}");
                }
            }
        }

        var final = await sync.FinalSyncAsync();
        Assert.Empty(final.Problems);
        var factor = (double)store.BytesWritten / new FileInfo(file).Length;
        Assert.True(factor <= 4.5, $"{store.BytesWritten} bytes sent for a {new FileInfo(file).Length}-byte file: {factor:F2} times its size");

        // One plain object at its path, byte-identical, and no pieces left.
        await using (var plain = await store.OpenReadAsync("run-a/outputs/rank-00000/train.log"))
        {
            using var copy = new MemoryStream();
            await plain.CopyToAsync(copy);
            Assert.True(copy.ToArray().AsSpan().SequenceEqual(File.ReadAllBytes(file)));
        }

        var pieces = new List<string>();
        await foreach (var entry in store.ListAsync("run-a/outputs/.konduktor/rank-00000/train.log.pieces/"))
        {
            pieces.Add(entry.Key);
        }

        Assert.Empty(pieces);
        var listed = Assert.Single(await ToListAsync(sync.Outputs.ListAsync()));
        Assert.True(listed.IsPlainObject);
        Assert.Equal(total / Passes * Passes, listed.Length);
    }

    [Fact]
    public async Task Sync_UnchangedDeletedAndReplacedFiles_NoRequestsKeptAndReplaced()
    {
        var store = new CountingStore(await CreateStoreAsync());
        var local = NewDirectory("out");
        var sync = new OutputSync(store, "run-b", "rank-00000", local);
        File.WriteAllText(Path.Combine(local, "keep.txt"), "kept");
        File.WriteAllText(Path.Combine(local, "gone.txt"), "deleted locally");
        Directory.CreateDirectory(Path.Combine(local, "eval"));
        File.WriteAllText(Path.Combine(local, "eval", "summary.json"), "{\"loss\":1.0}");
        var first = await sync.SyncAsync();
        Assert.Equal(3, first.FilesUploaded);

        store.Reset();
        var idle = await sync.SyncAsync();
        Assert.Equal(0, store.Requests);
        Assert.Equal(3, idle.FilesUnchanged);

        File.Delete(Path.Combine(local, "gone.txt"));
        File.WriteAllText(Path.Combine(local, "eval", "summary.json"), "{\"loss\":0.5, \"replaced\":true}");
        var second = await sync.SyncAsync();
        Assert.Equal(1, second.FilesUploaded);

        Assert.Equal("deleted locally", await ReadTextAsync(sync.Outputs, "rank-00000/gone.txt"));
        Assert.Equal("{\"loss\":0.5, \"replaced\":true}", await ReadTextAsync(sync.Outputs, "rank-00000/eval/summary.json"));
        Assert.Equal("kept", await ReadTextAsync(sync.Outputs, "rank-00000/keep.txt"));

        // A same-length rewrite is a replacement too, and the final sync leaves plain objects, the deleted file's included.
        File.WriteAllText(Path.Combine(local, "keep.txt"), "KEPT");
        await sync.FinalSyncAsync();
        Assert.Equal("KEPT", await ReadTextAsync(sync.Outputs, "rank-00000/keep.txt"));
        var listed = await ToListAsync(sync.Outputs.ListAsync("rank-00000"));
        Assert.Equal(["rank-00000/eval/summary.json", "rank-00000/gone.txt", "rank-00000/keep.txt"], listed.Select(o => o.Path));
        Assert.All(listed, o => Assert.True(o.IsPlainObject, o.Path));
        await using var plain = await store.OpenReadAsync("run-b/outputs/rank-00000/gone.txt");
        Assert.Equal("deleted locally", await new StreamReader(plain).ReadToEndAsync());
    }

    [Fact]
    public async Task Sync_TwoScopesSameFileName_NeverOverwriteEachOther()
    {
        var store = await CreateStoreAsync();
        var rank0 = NewDirectory("r0");
        var rank1 = NewDirectory("r1");
        File.WriteAllText(Path.Combine(rank0, "metrics.jsonl"), "rank 0\n");
        File.WriteAllText(Path.Combine(rank1, "metrics.jsonl"), "rank 1\n");
        await Task.WhenAll(
            new OutputSync(store, "run-c", "rank-00000", rank0).FinalSyncAsync(),
            new OutputSync(store, "run-c", "rank-00001", rank1).FinalSyncAsync());

        var outputs = new RunOutputs(store, "run-c");
        Assert.Equal("rank 0\n", await ReadTextAsync(outputs, "rank-00000/metrics.jsonl"));
        Assert.Equal("rank 1\n", await ReadTextAsync(outputs, "rank-00001/metrics.jsonl"));
    }

    [Fact]
    public async Task Publish_CreateOnlyThenReplace_SecondCreateRefusedReplaceWins()
    {
        var outputs = new RunOutputs(await CreateStoreAsync(), "run-d");
        var published = await outputs.PublishAsync("rank-00000/eval/summary.json", Encoding.UTF8.GetBytes("{\"step\":20}"));
        Assert.True(published.IsPlainObject);
        Assert.StartsWith("xxh128:", published.Checksum);

        await Assert.ThrowsAsync<PreconditionFailedException>(() => outputs.PublishAsync("rank-00000/eval/summary.json", Encoding.UTF8.GetBytes("other")));
        Assert.Equal("{\"step\":20}", await ReadTextAsync(outputs, "rank-00000/eval/summary.json"));

        var file = Path.Combine(NewDirectory("src"), "summary.json");
        File.WriteAllText(file, "{\"step\":21}");
        await outputs.PublishFileAsync("rank-00000/eval/summary.json", file, OutputWriteMode.Replace);
        Assert.Equal("{\"step\":21}", await ReadTextAsync(outputs, "rank-00000/eval/summary.json"));
    }

    [Fact]
    public async Task Pull_AnotherRunsEvalPrefix_DownloadsVerifiedFiles()
    {
        var store = await CreateStoreAsync();
        var first = new RunOutputs(store, "stage-1");
        await first.PublishAsync("rank-00000/eval/summary.json", Encoding.UTF8.GetBytes("{\"loss\":0.1}"));
        await first.PublishAsync("rank-00000/eval/deep/table.csv", Encoding.UTF8.GetBytes("a,b\n1,2\n"));
        await first.PublishAsync("rank-00000/metrics.jsonl", Encoding.UTF8.GetBytes("{}\n"));

        // The second stage reads the first's results through its own view of the store.
        var destination = Path.Combine(_root, "stage-2-input");
        var progress = new List<OutputTransferProgress>();
        var pulled = await new RunOutputs(store, "stage-1").PullAsync(destination, "rank-00000/eval", new SyncProgress(progress));

        Assert.Equal(2, pulled.Files.Count);
        Assert.Equal("{\"loss\":0.1}", File.ReadAllText(Path.Combine(destination, "summary.json")));
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(Path.Combine(destination, "deep", "table.csv")));
        Assert.False(File.Exists(Path.Combine(destination, "metrics.jsonl")));
        Assert.Equal(2, progress[^1].FilesDone);
        Assert.Equal(pulled.Bytes, progress[^1].TotalBytes);
    }

    [Fact]
    public async Task Read_CorruptedObject_ReportedNeverAccepted()
    {
        var store = await CreateStoreAsync();
        var outputs = new RunOutputs(store, "run-e");
        await outputs.PublishAsync("rank-00000/eval/summary.json", Encoding.UTF8.GetBytes("{\"loss\":0.25}"));

        // Same length, one byte different: only the checksum can tell.
        await store.PutAsync("run-e/outputs/rank-00000/eval/summary.json", new MemoryStream(Encoding.UTF8.GetBytes("{\"loss\":0.26}")));

        var read = await Assert.ThrowsAsync<OutputCorruptException>(() => outputs.ReadAllBytesAsync("rank-00000/eval/summary.json"));
        Assert.Equal("rank-00000/eval/summary.json", read.Path);
        var destination = Path.Combine(_root, "pulled");
        await Assert.ThrowsAsync<OutputCorruptException>(() => outputs.PullAsync(destination, "rank-00000/eval"));
        Assert.Empty(Directory.GetFiles(destination, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Pull_MissingRunOrPrefix_ErrorNamesThem()
    {
        var store = await CreateStoreAsync();
        await new RunOutputs(store, "run-f").PublishAsync("rank-00000/a.txt", Encoding.UTF8.GetBytes("a"));

        var noRun = await Assert.ThrowsAsync<OutputNotFoundException>(() => new RunOutputs(store, "no-such-run").PullAsync(Path.Combine(_root, "x")));
        Assert.Contains("'no-such-run'", noRun.Message);
        var noPrefix = await Assert.ThrowsAsync<OutputNotFoundException>(() => new RunOutputs(store, "run-f").PullAsync(Path.Combine(_root, "y"), "rank-00000/eval"));
        Assert.Contains("'rank-00000/eval'", noPrefix.Message);
        Assert.Contains("'run-f'", noPrefix.Message);
        await Assert.ThrowsAsync<OutputNotFoundException>(() => new RunOutputs(store, "run-f").OpenReadAsync("rank-00000/b.txt"));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Reads one output as UTF-8 text, verified.</summary>
    protected static async Task<string> ReadTextAsync(RunOutputs outputs, string path) => Encoding.UTF8.GetString(await outputs.ReadAllBytesAsync(path));

    /// <summary>Collects an asynchronous sequence.</summary>
    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    /// <summary>Collects progress reports on the reporting thread (<see cref="Progress{T}"/> would post them later).</summary>
    private sealed class SyncProgress(List<OutputTransferProgress> reports) : IProgress<OutputTransferProgress>
    {
        public void Report(OutputTransferProgress value) => reports.Add(value);
    }
}
