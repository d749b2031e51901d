using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using static Konduktor.Storage.Tests.CheckpointTestKit;

namespace Konduktor.Storage.Tests;

/// <summary>The outcomes a hostile input may have, as reusable checks: a clear error naming the culprit, or a safe skip.</summary>
internal static class HostileExpectations
{
    /// <summary>A checkpoint every crafted-manifest row starts from: step 1 intact, step 2 about to be tampered with.</summary>
    public static readonly byte[] Step1Model = Bytes(1000, 1);

    /// <summary>The action throws <typeparamref name="TException"/> (or a subclass) whose message contains every one of <paramref name="named"/>.</summary>
    public static async Task FailsAsync<TException>(Func<Task> action, params string[] named)
        where TException : Exception
    {
        var error = await Assert.ThrowsAnyAsync<TException>(action);
        foreach (var name in named)
        {
            Assert.Contains(name, error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>Like <see cref="FailsAsync{TException}"/> for synchronous code.</summary>
    public static Task FailsAsync<TException>(Action action, params string[] named)
        where TException : Exception =>
        FailsAsync<TException>(() =>
        {
            action();
            return Task.CompletedTask;
        }, named);

    /// <summary>Reading Konduktor's variables from an environment holding <paramref name="variables"/> fails naming each of <paramref name="named"/>.</summary>
    public static Task EnvironmentFailsAsync(IEnumerable<(string Name, string Value)> variables, params string[] named)
    {
        var environment = new FakeJobEnvironment();
        foreach (var (name, value) in variables)
        {
            environment.Set(name, value);
        }

        return FailsAsync<CheckpointConfigurationException>(() => JobContext.FromEnvironment(environment), named);
    }

    /// <summary>Creating a manager with options changed by <paramref name="configure"/> fails naming each of <paramref name="named"/>.</summary>
    public static Task OptionsFailAsync(HostileSandbox sandbox, Action<CheckpointManagerOptions> configure, params string[] named) =>
        FailsAsync<CheckpointConfigurationException>(() => CheckpointTestKit.Manager(sandbox.Store, configure), named);

    /// <summary>
    /// Resolving the manager from configuration <paramref name="settings"/> fails with <typeparamref name="TException"/>
    /// naming each of <paramref name="named"/>: options validation (<c>OptionsValidationException</c>, also what a host's start
    /// reports) or the store's own checks (<see cref="CheckpointConfigurationException"/>).
    /// </summary>
    public static Task ConfigurationFailsAsync<TException>(Dictionary<string, string?> settings, params string[] named)
        where TException : Exception
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(JobContext.Create());
        services.AddKonduktorCheckpoints(configuration);
        using var provider = services.BuildServiceProvider();
        return FailsAsync<TException>(() => provider.GetRequiredService<CheckpointManager>(), named);
    }

    /// <summary>Saving a file called <paramref name="name"/> fails with an <see cref="ArgumentException"/> naming it, and commits nothing.</summary>
    public static async Task FileNameRefusedAsync(HostileSandbox sandbox, string name, string named)
    {
        var manager = sandbox.Manager();

        await FailsAsync<ArgumentException>(() => manager.SaveAsync(1, (name, Bytes(10, 1))), named);

        Assert.Empty(await manager.ListAsync());
    }

    /// <summary>
    /// Saves steps 1 and 2, replaces step 2's manifest with <paramref name="craft"/>'s bytes, and restores: the restore must
    /// fall back to step 1, report step 2 skipped for <paramref name="reason"/> with a detail naming <paramref name="named"/>,
    /// and restore only step 1's file.
    /// </summary>
    public static async Task CraftedManifestSkippedAsync(HostileSandbox sandbox, Func<JsonObject, byte[]> craft, SkipReason reason, string named)
    {
        var manager = sandbox.Manager();
        await manager.SaveAsync(1, ("model.bin", Step1Model));
        await manager.SaveAsync(2, ("model.bin", Bytes(2000, 2)), ("optimizer/state.bin", Bytes(500, 3)));
        var key = ManifestKey(manager, 2);
        var manifest = JsonNode.Parse(await sandbox.Store.ReadAllAsync(key))!.AsObject();
        await sandbox.Store.ReplaceAsync(key, craft(manifest));

        await AssertFallsBackToStep1Async(sandbox, reason, named);
    }

    /// <summary>The restore returns step 1 only, and reports step 2 skipped for <paramref name="reason"/>, naming <paramref name="named"/>.</summary>
    public static async Task AssertFallsBackToStep1Async(HostileSandbox sandbox, SkipReason reason, string named)
    {
        var restored = await sandbox.Manager().RestoreLatestAsync(sandbox.Target);

        Assert.Equal(1, restored.Step);
        var skipped = Assert.Single(restored.Skipped);
        Assert.Equal((2L, reason), (skipped.Step, skipped.Reason));
        Assert.Contains(named, skipped.Detail, StringComparison.Ordinal);
        Assert.Equal(["model.bin"], sandbox.TargetFiles());
        Assert.Equal(Step1Model, await File.ReadAllBytesAsync(Path.Join(sandbox.Target, "model.bin")));
    }

    /// <summary>A manifest edited as JSON.</summary>
    public static Func<JsonObject, byte[]> Edit(Action<JsonObject> edit) => manifest =>
    {
        edit(manifest);
        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    };

    /// <summary>A manifest replaced by raw bytes.</summary>
    public static Func<JsonObject, byte[]> Raw(byte[] bytes) => _ => bytes;

    /// <summary>The first file entry of a manifest (files are listed by name: <c>model.bin</c> first).</summary>
    public static JsonObject FirstFile(JsonObject manifest) => manifest["files"]!.AsArray()[0]!.AsObject();

    /// <summary>A store whose reads of <c>model.bin</c> of step 2 return other bytes than the object holds (a lying server or proxy).</summary>
    public sealed class LyingReads(ICheckpointStore inner, Func<byte[], byte[]> lie) : DelegatingStore(inner)
    {
        public override async Task<Stream> OpenReadAsync(string key, ByteRange? range = null, CancellationToken cancellationToken = default)
        {
            if (!key.Contains("step-000000000002/", StringComparison.Ordinal) || !key.EndsWith("/model.bin", StringComparison.Ordinal))
            {
                return await Inner.OpenReadAsync(key, range, cancellationToken);
            }

            var whole = await Inner.ReadAllAsync(key);
            var told = lie(whole);
            var offset = (int)Math.Min(range?.Offset ?? 0, told.Length);
            var length = range?.Length is { } wanted ? (int)Math.Min(wanted, told.Length - offset) : told.Length - offset;
            return new MemoryStream(told, offset, length);
        }
    }

    /// <summary>A store whose stat and listings of step 2's <c>model.bin</c> report <paramref name="length"/> (restore learns lengths from either).</summary>
    public sealed class LyingLength(ICheckpointStore inner, long length) : DelegatingStore(inner)
    {
        public override async Task<ObjectInfo?> StatAsync(string key, CancellationToken cancellationToken = default)
        {
            var info = await Inner.StatAsync(key, cancellationToken);
            return info is not null && IsTarget(key) ? info with { Length = length } : info;
        }

        public override async IAsyncEnumerable<StoreEntry> ListAsync(string prefix, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var entry in Inner.ListAsync(prefix, options, cancellationToken))
            {
                yield return entry.Info is { } info && IsTarget(entry.Key) ? entry with { Info = info with { Length = length } } : entry;
            }
        }

        private static bool IsTarget(string key) =>
            key.Contains("step-000000000002/", StringComparison.Ordinal) && key.EndsWith("/model.bin", StringComparison.Ordinal);
    }

    /// <summary>Saves steps 1 and 2 on the plain store, then restores through <paramref name="decorate"/>: falls back to step 1.</summary>
    public static async Task StoreAnswerSkippedAsync(HostileSandbox sandbox, Func<ICheckpointStore, ICheckpointStore> decorate, SkipReason reason, string named)
    {
        var manager = sandbox.Manager();
        await manager.SaveAsync(1, ("model.bin", Step1Model));
        await manager.SaveAsync(2, ("model.bin", Bytes(2000, 2)));
        sandbox.Decorated = decorate(sandbox.Store);

        await AssertFallsBackToStep1Async(sandbox, reason, named);
    }
}
