using System.Globalization;

using Konduktor.Storage;
using Konduktor.Storage.Gcs;
using Konduktor.Storage.S3;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

using TinyTrainer;
using TinyTrainer.Launcher;
using TinyTrainer.Outputs;

var builder = Host.CreateApplicationBuilder(args);

TrainerOptions options;
try
{
    options = TrainerOptions.Read(builder.Configuration);
}
catch (CheckpointConfigurationException e)
{
    return ConfigurationError(e);
}

if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KONDUKTOR_JOB_NAME")))
{
    // Not in a pod: play Konduktor locally, running this same program as the pod.
    // With Trainer:Nodes > 1, N pods on loopback, all restarted when one fails (a gang restart).
    return options.Nodes > 1
        ? await GangRestart.RunAsync(args, options.Nodes, options.MasterPort, options.MaxRestarts)
        : await LocalKonduktor.RunAsync(args, options.MaxRestarts);
}

const string LocationKey = "Konduktor:Checkpoints:Location";
if (string.IsNullOrWhiteSpace(builder.Configuration[LocationKey]))
{
    builder.Configuration.AddInMemoryCollection([new(LocationKey, Path.Combine(Directory.GetCurrentDirectory(), ".checkpoints"))]);
}

// Like a pod's own disk: one output folder per job and rank, so local pods sharing a working directory never mix outputs.
const string OutputsKey = "Konduktor:Outputs:LocalDirectory";
if (string.IsNullOrWhiteSpace(builder.Configuration[OutputsKey]) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KONDUKTOR_OUTPUT_DIR")))
{
    var pod = $"rank-{Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX") ?? "0"}";
    builder.Configuration.AddInMemoryCollection([new(OutputsKey, Path.Combine(Directory.GetCurrentDirectory(), ".outputs", Environment.GetEnvironmentVariable("KONDUKTOR_JOB_NAME")!, pod))]);
}

// Warnings (a skipped checkpoint, a retried request) show; the host's start-up chatter does not. Every log line goes to
// stderr, one line each, so stdout carries only the trainer's own report. Logging__LogLevel__Default=Information overrides.
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddSingleton(options);
// Background saves are registered before the trainer, so the drain on stop runs after the trainer's own stop.
builder.Services.AddKonduktorCheckpoints(builder.Configuration).AddS3(builder.Configuration).AddGcs(builder.Configuration)
    .AddBackgroundSaves(builder.Configuration);
// The host waits for the trainer's stop as long as the grace period (an invalid value is reported below, exit code 2).
builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout =
    TimeSpan.TryParse(builder.Configuration[$"{ShutdownOptions.SectionName}:GracePeriod"], CultureInfo.InvariantCulture, out var grace) && grace > TimeSpan.Zero
        ? grace
        : new ShutdownOptions().GracePeriod);
builder.Services.AddKonduktorOutputs(builder.Configuration);
builder.Services.AddSingleton<TrainerOutputs>();
builder.Services.AddHostedService<TrainerService>();
using var host = builder.Build();
try
{
    // Resolve now so that a bad variable or option is one clear message and exit code 2, before anything runs. First the
    // options checked at start-up, also those of a store the location does not use (a mistyped S3 or GCS setting): the
    // services below create folders.
    host.Services.GetService<IStartupValidator>()?.Validate();
    host.Services.GetRequiredService<CheckpointManager>();
    host.Services.GetRequiredService<CheckpointShutdown>();
    host.Services.GetRequiredService<OutputSync>();
}
catch (Exception e) when (e is CheckpointConfigurationException or OptionsValidationException or CheckpointStorageException
    or InvalidOperationException) // the configuration binder's "cannot convert 'abc' at 'Konduktor:Checkpoints:BufferSize'"
{
    return ConfigurationError(e);
}

await host.RunAsync();
return Environment.ExitCode;

static int ConfigurationError(Exception e)
{
    Console.Error.WriteLine($"configuration error: {e.Message}");
    return 2;
}
