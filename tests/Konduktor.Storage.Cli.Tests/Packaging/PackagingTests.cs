using System.Diagnostics;
using System.Globalization;

namespace Konduktor.Storage.Cli.Tests;

/// <summary>
/// <c>eng/pack.sh</c> end to end: the packed packages carry their own README, XML docs and symbols; a fresh project outside
/// the repository builds against them and round-trips a checkpoint; the tool installs from the folder into a tool path and
/// runs. Offline-safe: the fresh project restores from the packed folder, the machine's package cache and the default source.
/// </summary>
public sealed class PackagingTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Pack_FreshProjectRoundTripsAndToolInstallsAndRuns()
    {
        var root = RepositoryRoot();
        // A version of its own, so that no package cache can hand back an older build.
        var version = "0.1.0-pack." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var packages = Path.Combine(root, "artifacts", "packages");

        var pack = await RunAsync(root, "bash", "eng/pack.sh", $"-p:Version={version}");
        Assert.True(pack.ExitCode == 0, pack.ToString());
        foreach (var id in new[] { "Konduktor.Storage", "Konduktor.Storage.S3", "Konduktor.Storage.Gcs", "Konduktor.Storage.Cli" })
        {
            Assert.True(File.Exists(Path.Combine(packages, $"{id}.{version}.nupkg")), $"{id}.{version}.nupkg missing\n{pack}");
            Assert.True(File.Exists(Path.Combine(packages, $"{id}.{version}.snupkg")), $"{id}.{version}.snupkg missing\n{pack}");
        }

        var consumer = _temp.Combine("consumer");
        WriteConsumer(consumer, packages, version);
        var run = await RunAsync(consumer, "dotnet", "run", "-c", "Release", "--", _temp.Combine("data"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("round trip ok: step 1", run.Out, StringComparison.Ordinal);

        var tools = _temp.Combine("tools");
        var install = await RunAsync(consumer, "dotnet", "tool", "install", "Konduktor.Storage.Cli", "--version", version, "--tool-path", tools, "--add-source", packages);
        Assert.True(install.ExitCode == 0, install.ToString());
        var tool = Path.Combine(tools, "konduktor-storage");
        var help = await RunAsync(consumer, tool, "--help");
        var ls = await RunAsync(consumer, tool, "ls", _temp.Combine("data", "store"), "--run", "consumer", "--json");

        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("verify", help.Out, StringComparison.Ordinal);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        var step = ls.Json.GetProperty("steps")[0];
        Assert.Equal(1, step.GetProperty("step").GetInt64());
        Assert.Equal("committed", step.GetProperty("state").GetString());
        Assert.Equal("0.5", step.GetProperty("metadata").GetProperty("loss").GetString());
    }

    /// <summary>A console project outside the repository (none of its build settings apply) that saves and restores a checkpoint.</summary>
    private void WriteConsumer(string directory, string packages, string version)
    {
        Directory.CreateDirectory(directory);
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        // Its own package folder, so the packed packages are really read from the folder; the machine's cache serves the rest.
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{_temp.Combine("packages")}" /></config>
              <packageSources><add key="packed" value="{packages}" /></packageSources>
              <fallbackPackageFolders><add key="machine" value="{cache}" /></fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <WarningsNotAsErrors>NU1603</WarningsNotAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Konduktor.Storage" Version="{version}" />
                <PackageReference Include="Konduktor.Storage.S3" Version="{version}" />
                <PackageReference Include="Konduktor.Storage.Gcs" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using Konduktor.Storage;

            var root = args[0];
            var state = Path.Combine(root, "state");
            Directory.CreateDirectory(state);
            File.WriteAllText(Path.Combine(state, "weights.bin"), "weights of step 1");
            var manager = new CheckpointManager(
                new FileSystemCheckpointStore(Path.Combine(root, "store")), JobContext.Create(jobName: "consumer"));
            await manager.SaveDirectoryAsync(1, state, new Dictionary<string, string> { ["loss"] = "0.5" });
            var restored = await manager.RestoreLatestAsync(Path.Combine(root, "restored"));
            var ok = restored.Found && File.ReadAllText(Path.Combine(root, "restored", "weights.bin")) == "weights of step 1";
            // The store packages load too: their options types resolve from the packed assemblies.
            Console.WriteLine($"{(ok ? "round trip ok" : "round trip FAILED")}: step {restored.Step}, {typeof(Konduktor.Storage.S3.S3StoreOptions).Name}, {typeof(Konduktor.Storage.Gcs.GcsStoreOptions).Name}");
            return ok ? 0 : 1;
            """);
    }

    private static async Task<CliResult> RunAsync(string workingDirectory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test host's MSBuild settings must not leak into the nested builds.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return await CliRunner.RunAsync(start, Timeout);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Konduktor.Storage.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Konduktor.Storage.sln) is not above " + AppContext.BaseDirectory);
    }
}
