using Konduktor.Storage.S3;

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Konduktor.Storage.Reliability.CommitRace;

/// <summary>
/// The process side of a commit race: for each step it uploads its data, says "ready STEP", waits for "go" on stdin,
/// commits, and says "won STEP WRITER" or "lost STEP WINNER EXCEPTION: MESSAGE". Configured like a pod (location and job
/// variables), so that several of these race on one step's manifest from separate processes.
/// </summary>
internal static class CommitRacer
{
    public static async Task<int> RunAsync(string[] args, int rounds)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        builder.Services.AddKonduktorCheckpoints(builder.Configuration).AddS3(builder.Configuration);
        using var host = builder.Build();
        var manager = host.Services.GetRequiredService<CheckpointManager>();
        for (var step = 1; step <= rounds; step++)
        {
            await using var save = await manager.BeginSaveAsync(step);
            var data = new byte[64 * 1024];
            new Random(HashCode.Combine(save.WriterId, step)).NextBytes(data);
            await save.AddFileAsync("data.bin", new MemoryStream(data));
            Console.WriteLine($"ready {step}");
            if (Console.ReadLine() != "go")
            {
                return 1;
            }

            try
            {
                await save.CommitAsync();
                Console.WriteLine($"won {step} {save.WriterId}");
            }
            catch (CheckpointConflictException e)
            {
                Console.WriteLine($"lost {step} {e.Winner?.Writer ?? "unknown"} {e.GetType().Name}: {e.Message}");
            }
        }

        return 0;
    }
}
