using System.Text;
using System.Text.Json.Nodes;

using Konduktor.Storage.Testing;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using static Konduktor.Storage.Tests.CheckpointTestKit;
using static Konduktor.Storage.Tests.HostileExpectations;

namespace Konduktor.Storage.Tests;

/// <summary>
/// The hostile-input catalogue: one row per bad input, with its expected outcome, run as one test each. Every row ends in a
/// clear error (the exception's type and a message naming the culprit) or a safe skip (a restore that falls back and says
/// why); and after every row, no file exists outside the store's root and the restore target. docs/hostile-inputs.md lists
/// the same rows as a table. The rows that need the S3 package (its bucket names and options) are in
/// Konduktor.Storage.S3.Tests, S3HostileInputCatalogue.
/// </summary>
public sealed class HostileInputCatalogue
{
    private const string Config = "Konduktor:Checkpoints";

    private static readonly HostileInput[] Rows =
    [
        // Environment variables (JobContext.FromEnvironment).
        new("env: RESTART_ATTEMPT not a number", "RESTART_ATTEMPT=abc", "configuration error naming RESTART_ATTEMPT and 'abc'",
            _ => EnvironmentFailsAsync([("RESTART_ATTEMPT", "abc")], "RESTART_ATTEMPT", "'abc'")),
        new("env: RESTART_ATTEMPT negative", "RESTART_ATTEMPT=-1", "configuration error naming RESTART_ATTEMPT and '-1'",
            _ => EnvironmentFailsAsync([("RESTART_ATTEMPT", "-1")], "RESTART_ATTEMPT", "'-1'")),
        new("env: rank equal to node count", "JOB_COMPLETION_INDEX=2, NUM_NODES=2", "configuration error naming JOB_COMPLETION_INDEX and NUM_NODES",
            _ => EnvironmentFailsAsync([("JOB_COMPLETION_INDEX", "2"), ("NUM_NODES", "2")], "JOB_COMPLETION_INDEX", "NUM_NODES")),
        new("env: rank above node count", "RANK=7, SKYPILOT_NUM_NODES=4", "configuration error naming RANK and SKYPILOT_NUM_NODES",
            _ => EnvironmentFailsAsync([("RANK", "7"), ("SKYPILOT_NUM_NODES", "4")], "RANK", "SKYPILOT_NUM_NODES")),
        new("env: conflicting rank sources", "JOB_COMPLETION_INDEX=1, RANK=2, NUM_NODES=4", "configuration error naming both variables",
            _ => EnvironmentFailsAsync([("JOB_COMPLETION_INDEX", "1"), ("RANK", "2"), ("NUM_NODES", "4")], "JOB_COMPLETION_INDEX", "RANK")),
        new("env: conflicting node counts", "NUM_NODES=2, SKYPILOT_NUM_NODES=3", "configuration error naming both variables",
            _ => EnvironmentFailsAsync([("NUM_NODES", "2"), ("SKYPILOT_NUM_NODES", "3")], "NUM_NODES", "SKYPILOT_NUM_NODES")),
        new("env: zero nodes", "NUM_NODES=0", "configuration error naming NUM_NODES and '0'",
            _ => EnvironmentFailsAsync([("NUM_NODES", "0")], "NUM_NODES", "'0'")),
        new("env: hexadecimal number", "NUM_NODES=0x3", "configuration error naming NUM_NODES and '0x3'",
            _ => EnvironmentFailsAsync([("NUM_NODES", "0x3")], "NUM_NODES", "'0x3'")),
        new("env: decimal rank", "RANK=3.0", "configuration error naming RANK and '3.0'",
            _ => EnvironmentFailsAsync([("RANK", "3.0")], "RANK", "'3.0'")),
        new("env: number beyond 32 bits", "SKYPILOT_NUM_NODES=2147483648", "configuration error naming SKYPILOT_NUM_NODES",
            _ => EnvironmentFailsAsync([("SKYPILOT_NUM_NODES", "2147483648")], "SKYPILOT_NUM_NODES", "2147483648")),
        new("env: blank number", "RESTART_ATTEMPT='   '", "configuration error naming RESTART_ATTEMPT (empty counts as unset, blank does not)",
            _ => EnvironmentFailsAsync([("RESTART_ATTEMPT", "   ")], "RESTART_ATTEMPT")),
        new("env: blank job name", "KONDUKTOR_JOB_NAME='  '", "configuration error naming KONDUKTOR_JOB_NAME",
            _ => EnvironmentFailsAsync([("KONDUKTOR_JOB_NAME", "  ")], "KONDUKTOR_JOB_NAME")),
        new("env: job name with a slash", "KONDUKTOR_JOB_NAME=a/b (names the run folder)", "configuration error naming KONDUKTOR_JOB_NAME and 'a/b'",
            s => FailsAsync<CheckpointConfigurationException>(
                () => new CheckpointManager(s.Store, JobContext.FromEnvironment(new FakeJobEnvironment().Set("KONDUKTOR_JOB_NAME", "a/b"))), "KONDUKTOR_JOB_NAME", "a/b")),

        // Configuration.
        new("config: unknown scheme", "Location=ftp://host/dir", "options validation error naming Location and the value",
            _ => ConfigurationFailsAsync<OptionsValidationException>(new() { [$"{Config}:Location"] = "ftp://host/dir" }, "Location", "ftp://host/dir")),
        new("config: empty location", "Location=''", "options validation error naming Location",
            _ => ConfigurationFailsAsync<OptionsValidationException>(new() { [$"{Config}:Location"] = "", [$"{Config}:RunId"] = "r" }, "Location")),
        new("config: negative retention", "Retention:KeepLast=-1", "configuration error naming Retention:KeepLast and '-1'",
            s => OptionsFailAsync(s, o => o.Retention.KeepLast = -1, "Retention:KeepLast", "'-1'")),
        new("config: zero keep-every", "Retention:KeepEvery=0", "configuration error naming Retention:KeepEvery",
            s => OptionsFailAsync(s, o => o.Retention.KeepEvery = 0, "Retention:KeepEvery", "'0'")),
        new("config: negative pinned step", "Retention:Pinned=[-5]", "configuration error naming Retention:Pinned",
            s => OptionsFailAsync(s, o => o.Retention.Pinned.Add(-5), "Retention:Pinned", "-5")),
        new("config: zero buffer", "BufferSize=0", "configuration error naming BufferSize",
            s => OptionsFailAsync(s, o => o.BufferSize = 0, "BufferSize", "'0'")),
        new("config: negative retries", "Resilience:MaxRetryAttempts=-1", "configuration error naming Resilience:MaxRetryAttempts",
            s => OptionsFailAsync(s, o => o.Resilience.MaxRetryAttempts = -1, "MaxRetryAttempts", "-1")),
        new("config: run id escaping", "RunId=..", "configuration error naming RunId and '..'",
            s => OptionsFailAsync(s, o => o.RunId = "..", "RunId", "'..'")),
        new("config: scope with a slash", "Scope=a/b", "configuration error naming Scope and 'a/b'",
            s => OptionsFailAsync(s, o => o.Scope = "a/b", "Scope", "a/b")),

        // Locations: understood exactly, or an error naming Location and the value (never a folder under the working directory).
        new("config: s3 with one slash", "Location=s3:/bucket/x", "options validation error naming Location and the value (not a local folder 's3:')",
            _ => LocationFailsAsync("s3:/bucket/x")),
        new("config: s3 without slashes", "Location=s3:bucket/x", "options validation error naming Location and the value",
            _ => LocationFailsAsync("s3:bucket/x")),
        new("config: gs with one slash", "Location=gs:/bucket/x", "options validation error naming Location and the value",
            _ => LocationFailsAsync("gs:/bucket/x")),
        new("config: gs without slashes", "Location=gs:bucket", "options validation error naming Location and the value",
            _ => LocationFailsAsync("gs:bucket")),
        new("config: relative file URI", "Location=file:relative/dir", "options validation error naming Location and the value (a relative path is written without file:)",
            _ => LocationFailsAsync("file:relative/dir")),
        new("config: scheme-like relative path", "Location=ckpt:v2", "options validation error naming Location and the value (write ./ckpt:v2 for a folder)",
            _ => LocationFailsAsync("ckpt:v2")),
        new("config: file URI with one slash", "Location=file:/abs/dir (RFC 8089)", "the file-system store at /abs/dir (not a folder 'file:' under the working directory)",
            s =>
            {
                Assert.Equal(new Uri(s.StoreRoot + "/"), ResolveStore("file:" + s.StoreRoot).Location);
                return Task.CompletedTask;
            }),
        new("config: query string", "Location=s3://bucket/p?x=1", "options validation error naming Location and the value (not silently s3://bucket/p)",
            _ => LocationFailsAsync("s3://bucket/p?x=1")),
        new("config: fragment", "Location=file:///d#f", "options validation error naming Location and the value (not silently /d)",
            _ => LocationFailsAsync("file:///d#f")),
        new("config: parent segment in a prefix", "Location=s3://bucket/a/../b", "options validation error naming Location and the value (not silently s3://bucket/b)",
            _ => LocationFailsAsync("s3://bucket/a/../b")),
        new("config: dot segment in a prefix", "Location=s3://bucket/a/./b", "options validation error naming Location and the value",
            _ => LocationFailsAsync("s3://bucket/a/./b")),
        new("config: empty segment in a prefix", "Location=s3://bucket/a//b", "options validation error naming Location and the value (at start-up, with every other location error)",
            _ => LocationFailsAsync("s3://bucket/a//b")),
        new("config: parent segment in a file URI", "Location=file:///data/../etc", "options validation error naming Location and the value (not silently /etc)",
            _ => LocationFailsAsync("file:///data/../etc")),
        new("config: memory store with a path", "Location=memory://a/b", "options validation error naming Location and the value (not silently memory://a)",
            _ => LocationFailsAsync("memory://a/b")),
        new("config: invalid percent escape", "Location=s3://bucket/a%zz", "options validation error naming Location and the value (not a literal '%' in one place, decoded in another)",
            _ => LocationFailsAsync("s3://bucket/a%zz")),
        new("config: encoded slash", "Location=s3://bucket/a%2Fb", "options validation error naming Location and the value",
            _ => LocationFailsAsync("s3://bucket/a%2Fb")),

        // Scope and run names: the keyword in any spelling; a name every store takes, checked when the manager is built.
        new("config: scope keyword capitalised", "Scope=Rank (rank 1 of 2)", "the keyword: scope rank-00001, not a scope 'Rank' shared by every pod",
            s => ScopeIsThisPodsAsync(s, "Rank")),
        new("config: scope keyword in capitals", "Scope=RANK (rank 1 of 2)", "the keyword: scope rank-00001",
            s => ScopeIsThisPodsAsync(s, "RANK")),
        new("config: scope keyword with spaces", "Scope=' rank ' (rank 1 of 2)", "the keyword: scope rank-00001",
            s => ScopeIsThisPodsAsync(s, " rank ")),
        new("config: scope with surrounding spaces", "Scope=' eval '", "configuration error naming Scope and the value",
            s => OptionsFailAsync(s, o => o.Scope = " eval ", "Scope", "' eval '")),
        new("config: scope too long", "Scope of 300 characters", "configuration error naming Scope and the limit of 128 bytes",
            s => OptionsFailAsync(s, o => o.Scope = new string('s', 300), "Scope", "128 bytes")),
        new("config: run id too long", "RunId of 300 characters", "configuration error naming RunId and the limit of 128 bytes",
            s => OptionsFailAsync(s, o => o.RunId = new string('r', 300), "RunId", "128 bytes")),
        new("config: run id with a leading dot", "RunId=.konduktor-tmp (the file-system store's own folder)", "configuration error naming RunId and the value",
            s => OptionsFailAsync(s, o => o.RunId = ".konduktor-tmp", "RunId", ".konduktor-tmp")),
        new("env: job name with a leading dot", "KONDUKTOR_JOB_NAME=.konduktor-tmp", "configuration error naming KONDUKTOR_JOB_NAME when the manager is built, not at the first save",
            s => JobNameFailsAsync(s, ".konduktor-tmp", ".konduktor-tmp")),
        new("env: job name too long", "KONDUKTOR_JOB_NAME of 300 characters", "configuration error naming KONDUKTOR_JOB_NAME and the limit of 128 bytes when the manager is built",
            s => JobNameFailsAsync(s, new string('j', 300), "128 bytes")),

        // Keys and file names (a save).
        new("name: parent segment", "file name ../../escape.bin", "ArgumentException naming the file; nothing committed or written outside",
            s => FileNameRefusedAsync(s, "../../escape.bin", "escape.bin")),
        new("name: parent segment inside", "file name a/../../../escape.bin", "ArgumentException naming the file",
            s => FileNameRefusedAsync(s, "a/../../../escape.bin", "escape.bin")),
        new("name: absolute", "file name /tmp/escape.bin", "ArgumentException naming the file",
            s => FileNameRefusedAsync(s, "/tmp/escape.bin", "/tmp/escape.bin")),
        new("name: control character", "file name with U+0007", "ArgumentException naming the file with the character escaped",
            s => FileNameRefusedAsync(s, "bell\u0007.bin", "bell\\u0007.bin")),
        new("name: NUL", "file name with U+0000", "ArgumentException naming the file with the character escaped",
            s => FileNameRefusedAsync(s, "nul\0.bin", "nul\\u0000.bin")),
        new("name: empty segment", "file name a//b.bin", "ArgumentException naming the file",
            s => FileNameRefusedAsync(s, "a//b.bin", "a//b.bin")),
        new("name: backslash", @"file name ..\escape.bin", "ArgumentException naming the file",
            s => FileNameRefusedAsync(s, @"..\escape.bin", "escape.bin")),
        new("name: overlong", "a file name of 2000 characters", "ArgumentException saying it is too long",
            s => FileNameRefusedAsync(s, new string('x', 2000), "bytes of UTF-8")),
        new("name: unpaired surrogate", "file name with a lone U+D800", "ArgumentException naming the problem",
            s => FileNameRefusedAsync(s, "x\uD800.bin", "unpaired surrogate")),
        new("name: equal after NFC", "café.bin twice, NFC and NFD", "ArgumentException naming the name: they would collide on normalising file systems",
            async s =>
            {
                var manager = s.Manager();
                await FailsAsync<ArgumentException>(
                    () => manager.SaveAsync(1, ("caf\u00e9.bin", Bytes(10, 1)), ("cafe\u0301.bin", Bytes(10, 2))), "caf");
                Assert.Empty(await manager.ListAsync());
            }),
        new("name: fullwidth dots and slash", "file name ．．／escape.bin (U+FF0E U+FF0F)", "ordinary characters: saved and restored as one file inside the target",
            async s =>
            {
                const string Name = "\uff0e\uff0e\uff0fescape.bin";
                await s.Manager().SaveAsync(1, (Name, Bytes(10, 1)));
                var restored = await s.Manager().RestoreLatestAsync(s.Target);
                Assert.Equal(1, restored.Step);
                Assert.Equal([Name], s.TargetFiles());
            }),
        new("name: twice in one save", "model.bin added twice", "ArgumentException naming model.bin",
            async s =>
            {
                await using var save = await s.Manager().BeginSaveAsync(1);
                await save.AddFileAsync("model.bin", new MemoryStream([1]));
                await FailsAsync<ArgumentException>(() => save.AddFileAsync("model.bin", new MemoryStream([2])), "model.bin");
            }),
        new("name: file and folder", "files a and a/b in one save", "ArgumentException naming the clash",
            async s =>
            {
                var manager = s.Manager();
                await FailsAsync<ArgumentException>(() => manager.SaveAsync(1, ("a", Bytes(1, 1)), ("a/b", Bytes(1, 2))), "'a");
                Assert.Empty(await manager.ListAsync());
            }),
        new("step: negative", "step -1", "ArgumentOutOfRangeException naming the step",
            s => FailsAsync<ArgumentOutOfRangeException>(() => s.Manager().SaveAsync(-1, ("m.bin", Bytes(1, 1))), "step")),

        // Crafted manifests (restore falls back to step 1 and says why it skipped step 2).
        new("manifest: not JSON", "manifest.json = 'not json {'", "skipped as InvalidManifest; restore falls back",
            s => CraftedManifestSkippedAsync(s, Raw("not json {"u8.ToArray()), SkipReason.InvalidManifest, "JSON")),
        new("manifest: empty", "manifest.json of zero bytes", "skipped as InvalidManifest",
            s => CraftedManifestSkippedAsync(s, Raw([]), SkipReason.InvalidManifest, "JSON")),
        new("manifest: huge", "manifest.json of 17 MiB", "skipped as InvalidManifest naming the size limit",
            s => CraftedManifestSkippedAsync(s, Raw(Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 17 * 1024 * 1024) + "\"}")), SkipReason.InvalidManifest, "bytes, over the")),
        new("manifest: deeply nested", "manifest.json of 100 000 nested arrays", "skipped as InvalidManifest (no stack overflow)",
            s => CraftedManifestSkippedAsync(s, Raw(Encoding.UTF8.GetBytes(new string('[', 100_000) + new string(']', 100_000))), SkipReason.InvalidManifest, "cannot be trusted")),
        new("manifest: wrong format version", "format = konduktor-checkpoint/9", "skipped as InvalidManifest naming the format",
            s => CraftedManifestSkippedAsync(s, Edit(m => m["format"] = "konduktor-checkpoint/9"), SkipReason.InvalidManifest, "konduktor-checkpoint/9")),
        new("manifest: wrong step", "step = 5 in folder step-2", "skipped as InvalidManifest naming the step",
            s => CraftedManifestSkippedAsync(s, Edit(m => m["step"] = 5), SkipReason.InvalidManifest, "5")),
        new("manifest: wrong scope", "scope = rank-00009", "skipped as InvalidManifest naming the scope",
            s => CraftedManifestSkippedAsync(s, Edit(m => m["scope"] = "rank-00009"), SkipReason.InvalidManifest, "rank-00009")),
        new("manifest: wrong run", "run = other-run", "skipped as InvalidManifest naming the run",
            s => CraftedManifestSkippedAsync(s, Edit(m => m["run"] = "other-run"), SkipReason.InvalidManifest, "other-run")),
        new("manifest: name escaping the step", "files[0].name = ../../../escape.bin", "skipped as InvalidManifest; nothing written outside the target",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["name"] = "../../../escape.bin"), SkipReason.InvalidManifest, "escape.bin")),
        new("manifest: absolute name", "files[0].name = /tmp/escape.bin", "skipped as InvalidManifest",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["name"] = "/tmp/escape.bin"), SkipReason.InvalidManifest, "escape.bin")),
        new("manifest: key escaping the step", "files[0].key = ../../step-000000000001/x/model.bin", "skipped as InvalidManifest",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["key"] = "../../step-000000000001/x/model.bin"), SkipReason.InvalidManifest, "model.bin")),
        new("manifest: key in another writer's folder", "files[0].key = quarantine/model.bin (the layout's folder, not a writer's)", "skipped as InvalidManifest",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["key"] = "quarantine/model.bin"), SkipReason.InvalidManifest, "quarantine")),
        new("manifest: duplicate names", "both files named model.bin", "skipped as InvalidManifest naming model.bin",
            s => CraftedManifestSkippedAsync(s, Edit(m => m["files"]!.AsArray()[1]!["name"] = "model.bin"), SkipReason.InvalidManifest, "model.bin")),
        new("manifest: names equal after NFC", "files named café.bin (NFC) and café.bin (NFD)", "skipped as InvalidManifest: listed twice",
            s => CraftedManifestSkippedAsync(
                s,
                Edit(m =>
                {
                    FirstFile(m)["name"] = "caf\u00e9.bin";
                    m["files"]!.AsArray()[1]!["name"] = "cafe\u0301.bin";
                }),
                SkipReason.InvalidManifest,
                "listed twice")),
        new("manifest: length too large", "files[0].length = real + 1", "skipped as LengthMismatch naming the file",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["length"] = 2001), SkipReason.LengthMismatch, "model.bin")),
        new("manifest: negative length", "files[0].length = -1", "skipped as InvalidManifest",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["length"] = -1), SkipReason.InvalidManifest, "length")),
        new("manifest: checksum that lies", "files[0].checksum = another xxh128", "skipped as ChecksumMismatch naming the file; the target is untouched by it",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["checksum"] = "xxh128:" + new string('0', 32)), SkipReason.ChecksumMismatch, "model.bin")),
        new("manifest: unknown checksum algorithm", "files[0].checksum = md5:…", "skipped as InvalidManifest naming the checksum",
            s => CraftedManifestSkippedAsync(s, Edit(m => FirstFile(m)["checksum"] = "md5:0123"), SkipReason.InvalidManifest, "md5:0123")),
        new("manifest: files not an array", "files = \"model.bin\"", "skipped as InvalidManifest",
            s => CraftedManifestSkippedAsync(s, Edit(m => m["files"] = "model.bin"), SkipReason.InvalidManifest, "JSON")),

        // Store answers (the object is intact; the store, or something between, lies about it).
        new("store: object shorter than stated", "reads of model.bin return 1000 of its 2000 bytes", "skipped as corrupt naming model.bin; falls back",
            s => StoreAnswerSkippedAsync(s, store => new LyingReads(store, b => b[..1000]), SkipReason.ChecksumMismatch, "model.bin")),
        new("store: object longer than stated", "reads of model.bin return 100 extra bytes", "skipped as corrupt naming model.bin; falls back",
            s => StoreAnswerSkippedAsync(s, store => new LyingReads(store, b => [.. b, .. new byte[100]]), SkipReason.ChecksumMismatch, "model.bin")),
        new("store: same length, other bytes", "reads of model.bin return a flipped byte", "skipped as ChecksumMismatch naming model.bin",
            s => StoreAnswerSkippedAsync(s, store => new LyingReads(store, b => [(byte)(b[0] ^ 1), .. b[1..]]), SkipReason.ChecksumMismatch, "model.bin")),
        new("store: stated length differs", "stat and listings of model.bin say 5 bytes", "skipped as LengthMismatch naming model.bin",
            s => StoreAnswerSkippedAsync(s, store => new LyingLength(store, 5), SkipReason.LengthMismatch, "model.bin")),
    ];

    public static TheoryData<string> Names => new(Rows.Select(r => r.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Row_ClearErrorOrSafeSkip_NothingWrittenOutsideTheTarget(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        using var sandbox = new HostileSandbox();

        await row.Check(sandbox);

        sandbox.AssertNothingOutsideTargets();
    }

    [Fact]
    public void Catalogue_HasAtLeastFortyDistinctRows()
    {
        Assert.True(Rows.Length >= 40, $"{Rows.Length} rows");
        Assert.Equal(Rows.Length, Rows.Select(r => r.Name).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>The Markdown table in docs/hostile-inputs.md is this catalogue, row for row; a failure lists the rows to paste.</summary>
    [Fact]
    public void Catalogue_MatchesTheDocumentedTable()
    {
        var doc = File.ReadAllText(Path.Join(RepositoryRoot(), "docs", "hostile-inputs.md"));

        var missing = Rows.Select(TableRow).Where(line => !doc.Contains(line, StringComparison.Ordinal)).ToList();

        Assert.True(missing.Count == 0, "docs/hostile-inputs.md lacks these rows:\n" + string.Join("\n", missing));
    }

    /// <summary>Resolving the manager with <c>Location</c> = <paramref name="location"/> fails options validation naming Location and the value.</summary>
    private static Task LocationFailsAsync(string location) =>
        ConfigurationFailsAsync<OptionsValidationException>(
            new() { [$"{Config}:Location"] = location, [$"{Config}:RunId"] = "r" }, $"{Config}:Location", $"'{location}'");

    /// <summary>The store dependency injection picks for <c>Location</c> = <paramref name="location"/> (the manager resolves too).</summary>
    private static ICheckpointStore ResolveStore(string location)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"{Config}:Location"] = location, [$"{Config}:RunId"] = "r" }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(JobContext.Create());
        services.AddKonduktorCheckpoints(configuration);
        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<CheckpointManager>();
        return provider.GetRequiredService<ICheckpointStore>();
    }

    /// <summary>A manager of rank 1 of 2 with <c>Scope</c> = <paramref name="scope"/> uses that pod's own scope.</summary>
    private static Task ScopeIsThisPodsAsync(HostileSandbox sandbox, string scope)
    {
        var manager = CheckpointTestKit.Manager(sandbox.Store, o => o.Scope = scope, JobContext.Create(rank: 1, nodeCount: 2));
        Assert.Equal("rank-00001", manager.Scope);
        return Task.CompletedTask;
    }

    /// <summary>Building a manager under Konduktor with the job name <paramref name="jobName"/> fails naming KONDUKTOR_JOB_NAME and <paramref name="named"/>.</summary>
    private static Task JobNameFailsAsync(HostileSandbox sandbox, string jobName, string named) =>
        FailsAsync<CheckpointConfigurationException>(
            () => _ = new CheckpointManager(sandbox.Store, JobContext.FromEnvironment(new FakeJobEnvironment().Set("KONDUKTOR_JOB_NAME", jobName))), "KONDUKTOR_JOB_NAME", named);

    private static string TableRow(HostileInput row) =>
        $"| {row.Name} | {row.Input.Replace("|", "\\|", StringComparison.Ordinal)} | {row.Expected} | `{nameof(Row_ClearErrorOrSafeSkip_NothingWrittenOutsideTheTarget)}(\"{row.Name}\")` |";

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Join(dir.FullName, "Konduktor.Storage.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>One row of the catalogue.</summary>
    /// <param name="Name">A short unique name: its category, then what is wrong.</param>
    /// <param name="Input">The bad input.</param>
    /// <param name="Expected">The expected outcome.</param>
    /// <param name="Check">Feeds the input and asserts the outcome.</param>
    private sealed record HostileInput(string Name, string Input, string Expected, Func<HostileSandbox, Task> Check);
}
