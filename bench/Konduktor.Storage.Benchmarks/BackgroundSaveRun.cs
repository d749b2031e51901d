using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using Amazon.Runtime;
using Amazon.S3.Model;

using Konduktor.Storage.S3;

namespace Konduktor.Storage.Benchmarks;

/// <summary>
/// The background-saves mode (<c>-- background --endpoint URL --access-key K --secret-key S [--size-mib 1024] [--rounds 3]</c>):
/// how long a training loop is blocked by one save of a checkpoint, synchronous (<c>CheckpointManager.SaveAsync</c>: the
/// whole upload and commit) against background (<c>BackgroundCheckpointSaver</c> with default options: the capture only,
/// the loop computing meanwhile for longer than the upload, as when checkpoints are a few steps apart). Also the process's
/// memory growth during each and the staging the background saves used. One <c>FIGURES {json}</c> line. <c>--gc-command</c>
/// runs after each round (RadosGW frees deleted objects only when collected).
/// </summary>
internal static class BackgroundSaveRun
{
    private const int MiB = 1024 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        var endpoint = Arg("--endpoint", "");
        var sizeMiB = int.Parse(Arg("--size-mib", "1024"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(Arg("--rounds", "3"), CultureInfo.InvariantCulture);
        var bucket = Arg("--bucket", "konduktor-bench");
        var label = Arg("--label", "rgw");
        var gcCommand = Arg("--gc-command", "");
        if (endpoint.Length == 0)
        {
            Console.Error.WriteLine("background: --endpoint, --access-key and --secret-key are required");
            return 2;
        }

        var credentials = new BasicAWSCredentials(Arg("--access-key", ""), Arg("--secret-key", ""));
        using (var client = TransferWorker.RawClient(endpoint, Arg("--access-key", ""), Arg("--secret-key", "")))
        {
            try
            {
                await client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
            }
            catch (Amazon.S3.AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
            {
            }
        }

        var prefix = $"background-{Guid.NewGuid():N}";
        var store = new S3CheckpointStore(
            new Uri($"s3://{bucket}/{prefix}"), new S3StoreOptions { Endpoint = endpoint, ForcePathStyle = true, Region = "us-east-1" }, credentials);
        var options = new CheckpointManagerOptions { RunId = "bench" };
        options.Retention.KeepLast = 1; // the store keeps one checkpoint: RadosGW's memory holds the benchmark's data
        var manager = new CheckpointManager(store, JobContext.Create(), options);
        var chunk = new byte[MiB];
        Random.Shared.NextBytes(chunk);

        // Step 0 once, untimed: compiles both code paths.
        await manager.SaveAsync(0, new Dictionary<string, Stream> { ["warm.bin"] = new MemoryStream(chunk) });
        var synchronous = new List<double>();
        var background = new List<double>();
        var durable = new List<double>();
        var syncGrowth = new List<double>();
        var backgroundGrowth = new List<double>();
        await using var saver = new BackgroundCheckpointSaver(manager);
        long step = 1;
        for (var round = 0; round < rounds; round++)
        {
            var before = ResidentMiB();
            ResetPeak();
            var clock = Stopwatch.StartNew();
            await manager.SaveAsync(step++, Model(chunk, sizeMiB));
            synchronous.Add(clock.Elapsed.TotalSeconds);
            syncGrowth.Add(PeakMiB() - before);

            before = ResidentMiB();
            ResetPeak();
            clock.Restart();
            var save = await saver.SaveAsync(step++, Model(chunk, sizeMiB));
            background.Add(clock.Elapsed.TotalSeconds);

            // The loop computes meanwhile; the next save comes after this one is durable (no back-pressure wait).
            await save.Durable;
            durable.Add(clock.Elapsed.TotalSeconds);
            backgroundGrowth.Add(PeakMiB() - before);
            if (gcCommand.Length > 0)
            {
                // Retention deleted the older checkpoints; the server frees their space only when collected.
                using var gc = Process.Start("bash", ["-c", gcCommand]);
                await gc.WaitForExitAsync();
            }

            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"background: round {round + 1}: synchronous save blocked {synchronous[^1]:F3} s; background save blocked {background[^1]:F3} s, durable after {durable[^1]:F3} s"));
        }

        var figures = new Dictionary<string, object>
        {
            ["case"] = $"{label}-background-{sizeMiB}MiB",
            ["rounds"] = rounds,
            ["synchronous_blocked_s_median"] = Median(synchronous),
            ["background_blocked_s_median"] = Median(background),
            ["background_durable_s_median"] = Median(durable),
            ["blocked_ratio"] = Math.Round(Median(background) / Median(synchronous), 4),
            ["synchronous_memory_growth_mib_max"] = Math.Round(syncGrowth.Max(), 1),
            ["background_memory_growth_mib_max"] = Math.Round(backgroundGrowth.Max(), 1),
            ["staging_memory_peak_mib"] = saver.PeakStagedMemoryBytes / MiB,
            ["staging_disk_peak_mib"] = saver.PeakStagedDiskBytes / MiB,
        };
        Console.WriteLine("FIGURES " + JsonSerializer.Serialize(figures));
        return 0;
    }

    /// <summary>A model file of <paramref name="sizeMiB"/> MiB produced as it is read, so the source costs no memory.</summary>
    private static Dictionary<string, Stream> Model(byte[] chunk, int sizeMiB) => new() { ["model.bin"] = new ChunkStream(chunk, sizeMiB) };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return Math.Round(sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2, 4);
    }

    private static double ResidentMiB() => ProcStatusMiB("VmRSS:");

    private static double PeakMiB() => ProcStatusMiB("VmHWM:");

    // Writing 5 to clear_refs resets VmHWM to the current resident set.
    private static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static double ProcStatusMiB(string field) =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith(field, StringComparison.Ordinal))
            .Select(l => long.Parse(l[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0).First();

    /// <summary>Reads <c>count</c> copies of one chunk, each stamped with its index so that no two chunks are equal.</summary>
    private sealed class ChunkStream(byte[] chunk, int count) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => (long)count * chunk.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var index = _position / chunk.Length;
            var at = (int)(_position % chunk.Length);
            if (_position >= Length || buffer.IsEmpty)
            {
                return 0;
            }

            var n = Math.Min(buffer.Length, chunk.Length - at);
            chunk.AsSpan(at, n).CopyTo(buffer);
            if (at < sizeof(long))
            {
                Span<byte> stamp = stackalloc byte[sizeof(long)];
                BitConverter.TryWriteBytes(stamp, index);
                stamp[at..Math.Min(sizeof(long), at + n)].CopyTo(buffer);
            }

            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
