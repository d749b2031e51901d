namespace Konduktor.Storage.Testing;

/// <summary>
/// Faults the <see cref="LoopbackFaultProxy"/> injects at random, each request drawing once from a seeded generator: the same
/// seed and the same sequence of requests give the same sequence of faults.
/// </summary>
/// <param name="Name">The profile's name, for reports (e.g. <c>resets</c>).</param>
/// <param name="Entries">The faults and their probabilities; the probabilities of entries matching one request add up to at most 1.</param>
public sealed record FaultProfile(string Name, IReadOnlyList<FaultProfile.Entry> Entries)
{
    /// <summary>One kind of fault in a profile.</summary>
    /// <param name="Fault">What to do.</param>
    /// <param name="Probability">The chance that a matching request starts it (0 to 1).</param>
    /// <param name="Burst">How many matching requests in a row get it once it starts (a burst of 503s, say).</param>
    /// <param name="Match">Which requests it may hit (method, path and query); all when <see langword="null"/>.</param>
    public sealed record Entry(ProxyFault Fault, double Probability, int Burst = 1, Func<string, string, bool>? Match = null)
    {
        internal bool Matches(string method, string target) => Match?.Invoke(method, target) ?? true;
    }

    /// <summary>The draws of one run of the profile: the generator and the burst in progress.</summary>
    internal sealed class Draws(FaultProfile profile, int seed)
    {
        private readonly Random _random = new(seed);
        private Entry? _burst;
        private int _burstLeft;

        public ProxyFault? Next(string method, string target)
        {
            // One draw per request, whatever happens, so the sequence depends only on the requests.
            var draw = _random.NextDouble();
            if (_burstLeft > 0 && _burst!.Matches(method, target))
            {
                _burstLeft--;
                return _burst.Fault;
            }

            var cumulative = 0.0;
            foreach (var entry in profile.Entries)
            {
                if (!entry.Matches(method, target))
                {
                    continue;
                }

                cumulative += entry.Probability;
                if (draw < cumulative)
                {
                    _burst = entry;
                    _burstLeft = entry.Burst - 1;
                    return entry.Fault;
                }
            }

            return null;
        }
    }
}
