using BenchmarkDotNet.Running;

using Konduktor.Storage.Benchmarks;

// "checksum": the quick throughput check with a pass/fail threshold; "transfers": library vs aws s3 cp vs raw SDK vs cp
// (see bench/README.md); "background": blocked time of background vs synchronous saves; "transfer-worker": one measured
// transfer, started by "transfers"; anything else goes to BenchmarkDotNet.
if (args is ["checksum", ..])
{
    return ChecksumQuickRun.Run();
}

if (args is ["transfers", ..])
{
    return await TransfersRun.RunAsync(args);
}

if (args is ["background", ..])
{
    return await BackgroundSaveRun.RunAsync(args);
}

if (args is ["transfer-worker", _, ..])
{
    return await TransferWorker.RunAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(ContentHashBenchmarks).Assembly).Run(args);
return 0;
