using System.Diagnostics;
using System.Text;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Outputs;

/// <summary>What the output sync does with local files it must not or cannot read, and with a restarted process.</summary>
public sealed class OutputSyncLocalFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("konduktor-outputs-local-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Sync_FifoDanglingAndEscapingLinks_ReportedAndSkippedOthersSynced()
    {
        var store = new InMemoryCheckpointStore("local-files");
        var local = Directory.CreateDirectory(Path.Combine(_root, "out")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_root, "outside")).FullName;
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "SECRET outside the directory");
        File.WriteAllText(Path.Combine(local, "good.txt"), "good");
        MakeFifo(Path.Combine(local, "pipe"));
        File.CreateSymbolicLink(Path.Combine(local, "dangling"), Path.Combine(_root, "nothing-here"));
        File.CreateSymbolicLink(Path.Combine(local, "escape.txt"), Path.Combine(outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(local, "escape-dir"), outside);
        File.CreateSymbolicLink(Path.Combine(local, "alias.txt"), Path.Combine(local, "good.txt"));

        var result = await new OutputSync(store, "run", "rank-00000", local).FinalSyncAsync();

        Assert.Equal(["dangling", "escape-dir", "escape.txt", "pipe"], result.Problems.Select(p => p.Path));
        Assert.Contains("named pipe", result.Problems.Single(p => p.Path == "pipe").Reason);
        Assert.Contains("outside the synced directory", result.Problems.Single(p => p.Path == "escape.txt").Reason);
        Assert.Contains("outside the synced directory", result.Problems.Single(p => p.Path == "escape-dir").Reason);
        Assert.Contains("does not exist", result.Problems.Single(p => p.Path == "dangling").Reason, StringComparison.OrdinalIgnoreCase);
        var outputs = new RunOutputs(store, "run");
        var listed = new List<string>();
        await foreach (var output in outputs.ListAsync())
        {
            listed.Add(output.Path);
        }

        Assert.Equal(["rank-00000/alias.txt", "rank-00000/good.txt"], listed);

        // Nothing outside the directory reached the store.
        await foreach (var entry in store.ListAsync(""))
        {
            await using var stream = await store.OpenReadAsync(entry.Key);
            Assert.DoesNotContain("SECRET", await new StreamReader(stream).ReadToEndAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sync_RestartedProcess_ContinuesFromTheStoreWithoutUploadingAgain()
    {
        var store = new CountingStore(new InMemoryCheckpointStore("restart"));
        var local = Directory.CreateDirectory(Path.Combine(_root, "out")).FullName;
        var file = Path.Combine(local, "metrics.jsonl");
        await File.WriteAllTextAsync(file, string.Concat(Enumerable.Range(1, 20000).Select(i => $"{{\"step\":{i}}}\n")));
        await new OutputSync(store, "run", "rank-00000", local).SyncAsync();
        await File.AppendAllTextAsync(file, "{\"step\":20001}\n");

        store.Reset();
        var restarted = new OutputSync(store, "run", "rank-00000", local);
        var result = await restarted.SyncAsync();

        Assert.Equal(1, result.FilesUploaded);
        Assert.True(store.BytesWritten < 2048, $"{store.BytesWritten} bytes sent for one appended line");
        Assert.Equal(await File.ReadAllTextAsync(file), Encoding.UTF8.GetString(await restarted.Outputs.ReadAllBytesAsync("rank-00000/metrics.jsonl")));
    }

    [Fact]
    public async Task Sync_ResumedPodTrimsItsPulledFile_StoreHoldsTheTrimmedContent()
    {
        var store = new InMemoryCheckpointStore("trim");
        var local = Directory.CreateDirectory(Path.Combine(_root, "out")).FullName;
        var file = Path.Combine(local, "metrics.jsonl");
        await File.WriteAllTextAsync(file, "1\n2\n3\n4\n");
        await new OutputSync(store, "run", "rank-00000", local).SyncAsync();

        var pulledInto = Directory.CreateDirectory(Path.Combine(_root, "pod-2")).FullName;
        var restarted = new OutputSync(store, "run", "rank-00000", pulledInto);
        await restarted.Outputs.PullAsync(pulledInto, "rank-00000");
        await File.WriteAllTextAsync(Path.Combine(pulledInto, "metrics.jsonl"), "1\n2\n");
        await restarted.SyncAsync();
        await File.AppendAllTextAsync(Path.Combine(pulledInto, "metrics.jsonl"), "3\n");
        await restarted.FinalSyncAsync();

        Assert.Equal("1\n2\n3\n", Encoding.UTF8.GetString(await restarted.Outputs.ReadAllBytesAsync("rank-00000/metrics.jsonl")));

        // The pieces of the content the trimmed file replaced are gone too, not only the later ones.
        await foreach (var entry in store.ListAsync("run/outputs/.konduktor/rank-00000/metrics.jsonl.pieces/"))
        {
            Assert.Fail($"piece left behind: {entry.Key}");
        }
    }

    [Fact]
    public async Task Sync_DirectoryMissing_ErrorNamesIt()
    {
        var missing = Path.Combine(_root, "never-created");
        var error = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new OutputSync(new InMemoryCheckpointStore("missing"), "run", "rank-00000", missing).SyncAsync());
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Theory]
    [InlineData("run/x", "rank-00000")]
    [InlineData("run", ".konduktor")]
    [InlineData("run", "a/b")]
    [InlineData("..", "rank-00000")]
    public void Create_RunOrScopeNotOneSegment_Refused(string run, string scope) =>
        Assert.Throws<ArgumentException>(() => new OutputSync(new InMemoryCheckpointStore("bad"), run, scope, _root));

    [Fact]
    public async Task Outputs_PathInsideTheLibrarysFolder_Refused()
    {
        var outputs = new RunOutputs(new InMemoryCheckpointStore("reserved"), "run");
        var error = await Assert.ThrowsAsync<ArgumentException>(() => outputs.PublishAsync(".konduktor/x.meta", new byte[] { 1 }));
        Assert.Contains("library's own folder", error.Message, StringComparison.Ordinal);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
