using Konduktor.Storage;

using Xunit.Abstractions;

namespace TinyTrainer.Tests.Reliability;

/// <summary>
/// Issue 18, defect 3 as processes: an evaluator restoring while the trainer (the sample, a process of its own) saves every
/// step with <c>KeepLast=1</c> on the file-system store always gets a committed, verified checkpoint.
/// </summary>
public sealed class RestoreRaceTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task RestoreLatestAsync_RacingATrainerProcessThatSavesEveryStepWithKeepLastOne_AlwaysFindsAVerifiedCheckpoint()
    {
        var environment = new Dictionary<string, string>
        {
            ["Konduktor__Checkpoints__Location"] = _temp.Location(),
            ["KONDUKTOR_JOB_NAME"] = "race",
            ["JOB_COMPLETION_INDEX"] = "0",
            ["RESTART_ATTEMPT"] = "0",
        };
        foreach (var (key, value) in TrainerRestoreRacer.TrainerSettings)
        {
            environment[key] = value;
        }

        using var trainer = TrainerProcess.Start(_temp.Path, environment);
        var store = new FileSystemCheckpointStore(_temp.Combine("store"));

        var race = await TrainerRestoreRacer.RunAsync(store, "race", trainer, _temp.Combine("work"), rounds: 100);

        Assert.False(trainer.Process.HasExited, "the trainer ended during the race; it should still be saving");
        output.WriteLine(race.ToString());
        Assert.True(race.Failures.Count == 0, race.ToString());
        Assert.True(race.Restored.Distinct().Count() > 1, $"the trainer made no progress during the restores: {race}");
    }
}
