using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Konduktor.Storage.Testing;

/// <summary>The figures of one fault campaign; it passes when no transfer was unclear, hung, torn or wrong.</summary>
public sealed class FaultCampaignReport
{
    private readonly ConcurrentQueue<string> _problems = new();

    /// <summary>The store's short name.</summary>
    public required string Store { get; init; }

    /// <summary>The seed every random choice derives from.</summary>
    public required int Seed { get; init; }

    /// <summary>Saves and restores attempted through the proxy.</summary>
    public int Transfers => Saves + Restores;

    /// <summary>Saves attempted.</summary>
    public int Saves { get; set; }

    /// <summary>Restores attempted.</summary>
    public int Restores { get; set; }

    /// <summary>Transfers that succeeded with the right bytes.</summary>
    public int Succeeded { get; set; }

    /// <summary>Transfers that failed with a library exception whose message says what failed.</summary>
    public int FailedClearly { get; set; }

    /// <summary>Transfers that failed with an exception outside the library's family, or a message that does not say what failed.</summary>
    public int UnclearErrors { get; set; }

    /// <summary>Transfers still running at their outer deadline.</summary>
    public int Hung { get; set; }

    /// <summary>Saves after which the store held a committed checkpoint that is neither the previous one nor the complete new one.</summary>
    public int Torn { get; set; }

    /// <summary>Restores that returned another step or other bytes than the newest committed checkpoint.</summary>
    public int WrongBytes { get; set; }

    /// <summary>Faults the proxy injected, by kind.</summary>
    public IReadOnlyDictionary<string, int> FaultsByKind { get; set; } = new Dictionary<string, int>();

    /// <summary>How long the campaign took.</summary>
    public TimeSpan Duration { get; set; }

    /// <summary>What went wrong, one line per unclear, hung, torn or wrong transfer.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    /// <summary>Whether the campaign passed.</summary>
    public bool Passed => UnclearErrors == 0 && Hung == 0 && Torn == 0 && WrongBytes == 0;

    /// <summary>The report as one JSON object (the format <c>eng/reliability.sh</c> reads).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("store", Store);
            json.WriteNumber("seed", Seed);
            json.WriteNumber("transfers", Transfers);
            json.WriteNumber("saves", Saves);
            json.WriteNumber("restores", Restores);
            json.WriteNumber("succeeded", Succeeded);
            json.WriteNumber("failedClearly", FailedClearly);
            json.WriteNumber("unclearErrors", UnclearErrors);
            json.WriteNumber("hung", Hung);
            json.WriteNumber("torn", Torn);
            json.WriteNumber("wrongBytes", WrongBytes);
            json.WriteStartObject("faultsByKind");
            foreach (var (kind, count) in FaultsByKind.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteNumber(kind, count);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal void Problem(string line) => _problems.Enqueue(line);
}
