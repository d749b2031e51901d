namespace Konduktor.Storage.Cli;

/// <summary>The location argument and the run, scope and step options the checkpoint commands share.</summary>
internal sealed class RunOptions
{
    public Argument<string> Location { get; } = new("LOCATION")
    {
        Description = "Where the checkpoints live: a local path, file:///abs/dir, s3://bucket/prefix or gs://bucket/prefix.",
    };

    public Option<string> Run { get; } = new("--run", "-r") { Description = "The run (the job's run id).", Required = true };

    public Option<string?> Scope { get; } = new("--scope") { Description = "The scope (e.g. rank-00000). Default: every scope, or the run's only one where one is needed." };

    public Option<long?> Step { get; } = new("--step", "-s") { Description = "The step. Default: the newest (intact) one." };

    public RunOptions()
    {
        Step.CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            {
                return step;
            }

            result.AddError($"--step '{text}' is not a step: a non-negative whole number.");
            return null;
        };
    }

    /// <summary>A command with the location argument and the run and scope options (and the step option when <paramref name="step"/>).</summary>
    public Command Command(string name, string description, bool step)
    {
        var command = new Command(name, description);
        command.Arguments.Add(Location);
        command.Options.Add(Run);
        command.Options.Add(Scope);
        if (step)
        {
            command.Options.Add(Step);
        }

        return command;
    }
}
