using System.Globalization;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>
/// Writes and damages checkpoints through the library, opened the way the tool opens a location (same configuration,
/// same stores), so one scenario runs unchanged on the file system and on RadosGW.
/// </summary>
internal sealed class Checkpoints(string location, ConnectionSettings connection, IReadOnlyDictionary<string, string?> environment)
{
    public const string Run = "job-7";
    public const string Scope = "rank-00000";

    public string Location => location;

    /// <summary>What each saved step holds: file name → bytes.</summary>
    public Dictionary<long, Dictionary<string, byte[]>> Saved { get; } = [];

    /// <summary>Saves <paramref name="steps"/>, each with a model of <paramref name="modelBytes"/> bytes, an optimizer file and metadata.</summary>
    public async Task SaveAsync(int modelBytes, params long[] steps)
    {
        await using var session = Open();
        var manager = session.Manager(Run, Scope);
        foreach (var step in steps)
        {
            var files = new Dictionary<string, byte[]>
            {
                ["model.bin"] = Bytes(modelBytes, step),
                ["optim/state.bin"] = Bytes(1000, step + 1),
            };
            var streams = files.ToDictionary(f => f.Key, f => (Stream)new MemoryStream(f.Value));
            await manager.SaveAsync(step, streams, new Dictionary<string, string>
            {
                ["loss"] = (1.0 / (step + 1)).ToString("0.####", CultureInfo.InvariantCulture),
                ["epoch"] = step.ToString(CultureInfo.InvariantCulture),
            });
            Saved[step] = files;
        }
    }

    /// <summary>Flips one byte in the middle of a saved file, behind the library's back.</summary>
    public async Task FlipByteAsync(long step, string name)
    {
        await using var session = Open();
        var key = await KeyAsync(session, step, name);
        var bytes = await ReadAsync(session.Store, key);
        bytes[bytes.Length / 2] ^= 0x5A;
        await session.Store.PutAsync(key, new MemoryStream(bytes));
    }

    /// <summary>Writes a file into a writer folder no manifest points at, as a save that died before its commit leaves it.</summary>
    public async Task<string> AbandonWriterAsync(long step, int bytes)
    {
        await using var session = Open();
        var key = $"{StepFolder(step)}a9-abandoned/model.bin";
        await session.Store.PutAsync(key, new MemoryStream(Bytes(bytes, 99)));
        return key;
    }

    /// <summary>Publishes a runtime output (an artifact) of the run through the library's <see cref="RunOutputs"/>.</summary>
    public async Task PublishOutputAsync(string path, byte[] content)
    {
        await using var session = Open();
        await new RunOutputs(session.Store, Run).PublishAsync(path, content);
    }

    /// <summary>Flips one byte of a published output's plain object, behind the library's back.</summary>
    public async Task FlipOutputByteAsync(string path)
    {
        await using var session = Open();
        var key = $"{Run}/outputs/{path}";
        var bytes = await ReadAsync(session.Store, key);
        bytes[bytes.Length / 2] ^= 0x5A;
        await session.Store.PutAsync(key, new MemoryStream(bytes));
    }

    /// <summary>Whether an object exists at <paramref name="key"/> (relative to the location).</summary>
    public async Task<bool> ExistsAsync(string key)
    {
        await using var session = Open();
        return await session.Store.StatAsync(key) is not null;
    }

    /// <summary>The committed steps, newest first.</summary>
    public async Task<long[]> CommittedStepsAsync()
    {
        await using var session = Open();
        var steps = await session.Manager(Run, Scope).Catalog.InspectAllAsync();
        return [.. steps.Where(s => s.State == StepState.Committed).Select(s => s.Step)];
    }

    /// <summary>A committed step's files (name → bytes), read back through the library.</summary>
    public async Task<Dictionary<string, byte[]>> ReadStepAsync(long step)
    {
        await using var session = Open();
        var inspection = await session.Manager(Run, Scope).Catalog.InspectAsync(step);
        var files = new Dictionary<string, byte[]>();
        foreach (var file in inspection.Manifest!.Files)
        {
            files[file.Name] = await ReadAsync(session.Store, StepFolder(step) + file.Key);
        }

        return files;
    }

    public static string StepFolder(long step) => $"{Run}/{Scope}/step-{step:D12}/";

    private StoreSession Open() => StoreSession.Open(location, connection, environment);

    private static async Task<string> KeyAsync(StoreSession session, long step, string name)
    {
        var inspection = await session.Manager(Run, Scope).Catalog.InspectAsync(step);
        return StepFolder(step) + inspection.Manifest!.Files.Single(f => f.Name == name).Key;
    }

    private static async Task<byte[]> ReadAsync(ICheckpointStore store, string key)
    {
        await using var stream = await store.OpenReadAsync(key);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public static byte[] Bytes(int length, long seed)
    {
        var bytes = new byte[length];
        new Random((int)seed).NextBytes(bytes);
        return bytes;
    }
}
