using System.Text;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Time.Testing;

namespace Konduktor.Storage.Tests;

/// <summary>Builders and store tricks shared by the checkpoint manager's tests.</summary>
internal static class CheckpointTestKit
{
    public const string Run = "run-1";

    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public static CheckpointManager Manager(
        ICheckpointStore store,
        Action<CheckpointManagerOptions>? configure = null,
        JobContext? job = null,
        TimeProvider? time = null)
    {
        var options = new CheckpointManagerOptions { RunId = Run };
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Resilience.MaxDelay = TimeSpan.FromMilliseconds(5);
        configure?.Invoke(options);
        return new CheckpointManager(store, job ?? JobContext.Create(), options, timeProvider: time);
    }

    public static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static Task<CheckpointManifest> SaveAsync(this CheckpointManager manager, long step, params (string Name, byte[] Data)[] files) =>
        manager.SaveAsync(step, files.ToDictionary(f => f.Name, f => (Stream)new MemoryStream(f.Data)));

    public static Task<CheckpointManifest> SaveStepAsync(this CheckpointManager manager, long step, IReadOnlyDictionary<string, string>? metadata = null) =>
        manager.SaveAsync(step, new Dictionary<string, Stream> { ["model.bin"] = new MemoryStream(Bytes(1000 + (int)step, (int)step)) }, metadata);

    public static string DataKey(CheckpointManager manager, CheckpointManifest manifest, string name) =>
        $"{Run}/{manager.Scope}/step-{manifest.Step:D12}/{manifest.Files.Single(f => f.Name == name).Key}";

    public static string ManifestKey(CheckpointManager manager, long step) => $"{Run}/{manager.Scope}/step-{step:D12}/manifest.json";

    public static async Task<byte[]> ReadAllAsync(this ICheckpointStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    public static async Task ReplaceAsync(this ICheckpointStore store, string key, byte[] data) =>
        await store.PutAsync(key, new MemoryStream(data));

    public static async Task FlipByteAsync(this ICheckpointStore store, string key, int index)
    {
        var data = await store.ReadAllAsync(key);
        data[index] ^= 0x40;
        await store.ReplaceAsync(key, data);
    }

    public static async Task<List<string>> KeysAsync(this ICheckpointStore store, string prefix = "")
    {
        var keys = new List<string>();
        await foreach (var entry in store.ListAsync(prefix))
        {
            keys.Add(entry.Key);
        }

        return keys;
    }

    public static string TempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "konduktor-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}

/// <summary>A store decorator that records completed writes and deletes in order, and can run a hook before a put.</summary>
internal sealed class RecordingStore(ICheckpointStore inner) : DelegatingStore(inner)
{
    public List<string> Events { get; } = [];

    public Func<string, Task>? BeforePut { get; set; }

    public Func<string, ObjectInfo, ObjectInfo>? AfterPut { get; set; }

    public override async Task<ObjectInfo> PutAsync(string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (BeforePut is { } hook)
        {
            await hook(key);
        }

        var info = await Inner.PutAsync(key, content, options, cancellationToken);
        Record($"put {key}");
        return AfterPut?.Invoke(key, info) ?? info;
    }

    public override async Task<ObjectWriteStream> OpenWriteAsync(string key, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default) =>
        new RecordingWriter(this, await Inner.OpenWriteAsync(key, options, cancellationToken));

    public override async Task<bool> DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        var deleted = await Inner.DeleteAsync(key, ifMatch, cancellationToken);
        if (deleted)
        {
            Record($"delete {key}");
        }

        return deleted;
    }

    private void Record(string e)
    {
        lock (Events)
        {
            Events.Add(e);
        }
    }

    private sealed class RecordingWriter(RecordingStore store, ObjectWriteStream writer) : ObjectWriteStream
    {
        public override string Key => writer.Key;

        public override long BytesWritten => writer.BytesWritten;

        public override void Write(ReadOnlySpan<byte> buffer) => writer.Write(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            writer.WriteAsync(buffer, cancellationToken);

        public override async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken = default)
        {
            var info = await writer.CompleteAsync(cancellationToken);
            store.Record($"put {Key}");
            return info;
        }

        public override async ValueTask DisposeAsync()
        {
            await writer.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}

/// <summary>A source stream that fails or cancels after a number of bytes, to interrupt a save midway.</summary>
internal sealed class InterruptedStream(long length, long failAfter, Func<Exception> fault) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_position >= failAfter)
        {
            throw fault();
        }

        var n = (int)Math.Min(count, Math.Min(length, failAfter) - _position);
        buffer.AsSpan(offset, n).Fill(7);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
