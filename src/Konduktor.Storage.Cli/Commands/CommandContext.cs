namespace Konduktor.Storage.Cli;

/// <summary>One invocation: the parsed command line, the console, and how to open the location.</summary>
internal sealed class CommandContext(CliConsole console, ParseResult parse, GlobalOptions global)
{
    public CliConsole Console => console;

    public ParseResult Parse => parse;

    /// <summary>Whether the output is one JSON document.</summary>
    public bool Json => parse.GetValue(global.Json);

    /// <summary>Whether only errors (and JSON) are written.</summary>
    public bool Quiet => parse.GetValue(global.Quiet);

    /// <summary>Whether progress may be drawn (on a terminal only; see <see cref="TransferDisplay"/>).</summary>
    public bool ShowProgress => !Json && !Quiet;

    /// <summary>Opens the location with the connection options of the command line.</summary>
    public StoreSession Open(string location) =>
        StoreSession.Open(location, new ConnectionSettings(parse.GetValue(global.Endpoint), parse.GetValue(global.Region), parse.GetValue(global.Profile)), console.Environment);

    /// <summary>Writes a line of plain output (not with --json or --quiet).</summary>
    public void Line(string text)
    {
        if (!Json && !Quiet)
        {
            console.Out.WriteLine(text);
        }
    }

    /// <summary>Writes a table of plain output (not with --json or --quiet).</summary>
    public void Table(TextTable table)
    {
        if (!Json && !Quiet)
        {
            table.Write(console.Out);
        }
    }

    /// <summary>Writes a warning to stderr (not with --quiet).</summary>
    public void Warn(string text)
    {
        if (!Quiet)
        {
            console.Error.WriteLine("konduktor-storage: warning: " + ErrorReport.OneLine(text));
        }
    }
}
