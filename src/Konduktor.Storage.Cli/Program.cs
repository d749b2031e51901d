using Konduktor.Storage.Cli;

// Ctrl+C cancels the command in flight (a pull then leaves its destination unchanged) and exits 2.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await KonduktorStorageCli.RunAsync(args, CliConsole.FromProcess(), cancellation.Token);
