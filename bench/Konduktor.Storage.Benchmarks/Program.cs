using BenchmarkDotNet.Running;

using Konduktor.Storage.Benchmarks;

// "checksum": the quick throughput check with a pass/fail threshold; anything else goes to BenchmarkDotNet.
if (args is ["checksum", ..])
{
    return ChecksumQuickRun.Run();
}

BenchmarkSwitcher.FromAssembly(typeof(ContentHashBenchmarks).Assembly).Run(args);
return 0;
