using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests.Outputs;

/// <summary>The bytes a growing file costs stay a constant factor of its size however many passes see it grow.</summary>
public sealed class OutputSyncCostTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("konduktor-outputs-cost-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(100)]
    [InlineData(2000)]
    public async Task GrowingFile_AnyNumberOfPasses_SendsAtMostSixTimesItsSizeAndSmallRecords(int passes)
    {
        const int Size = 2 * 1024 * 1024;
        var store = new CountingStore(new InMemoryCheckpointStore("cost"));
        var sync = new OutputSync(store, "run", "rank-00000", _root, new OutputSyncOptions { MergeMiB = 1 });
        var chunk = new byte[Size / passes];
        new Random(passes).NextBytes(chunk);
        using (var log = new FileStream(Path.Combine(_root, "train.log"), FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var pass = 0; pass < passes; pass++)
            {
                log.Write(chunk);
                log.Flush();
                await sync.SyncAsync();
            }
        }

        await sync.FinalSyncAsync();

        // The file's bytes (pieces, merges, the final copy) stay within a constant factor; each pass also writes the file's
        // record, a few hundred bytes per piece it lists, which is reported beside.
        var length = new FileInfo(Path.Combine(_root, "train.log")).Length;
        var records = store.BytesWrittenTo(key => key.EndsWith(".meta", StringComparison.Ordinal));
        var data = store.BytesWritten - records;
        Assert.True(data <= 6 * length, $"{data} bytes of data sent for {length} bytes over {passes} passes: {(double)data / length:F2} times; records {records} bytes");
        Assert.True(records <= passes * 4096L, $"{records} bytes of records over {passes} passes");
    }
}
