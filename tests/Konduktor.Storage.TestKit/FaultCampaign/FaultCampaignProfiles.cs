namespace Konduktor.Storage.Testing;

/// <summary>The fault profiles the campaign cycles through, one per episode of saves and restores.</summary>
public static class FaultCampaignProfiles
{
    /// <summary>How long a stall lasts: longer than the campaign's stall timeout, so the client must notice and resume.</summary>
    public static readonly TimeSpan Stall = TimeSpan.FromSeconds(1.5);

    private const string TooManyRequests =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>TooManyRequests</Code><Message>Please slow down.</Message></Error>";

    /// <summary>Every profile: resets, stalls, slow link, 5xx/SlowDown bursts, 429 with Retry-After, truncation, and all of them mixed.</summary>
    public static IReadOnlyList<FaultProfile> All { get; } =
    [
        new("resets", [
            new(new ProxyFault.ResetBeforeRequest(), 0.04),
            new(new ProxyFault.ResetAfterRequest(), 0.04),
            new(new ProxyFault.ResetMidResponse(1500), 0.05),
        ]),
        new("stalls", [
            new(new ProxyFault.StallBeforeResponse(Stall), 0.04),
            new(new ProxyFault.StallMidBody(4096, Stall), 0.15, Match: IsGet),
        ]),
        new("slow-link", [
            new(new ProxyFault.SlowLink(8 * 1024 * 1024), 0.5),
        ]),
        new("5xx-bursts", [
            new(LoopbackFaultProxy.SlowDown, 0.05, Burst: 3),
            new(LoopbackFaultProxy.InternalError, 0.03, Burst: 2),
        ]),
        new("429-retry-after", [
            new(new ProxyFault.Respond(429, TooManyRequests, RetryAfterSeconds: 1), 0.08),
        ]),
        new("truncation", [
            new(new ProxyFault.TruncateResponse(1000), 0.15, Match: IsGet),
        ]),
        new("mixed", [
            new(new ProxyFault.ResetBeforeRequest(), 0.02),
            new(new ProxyFault.ResetAfterRequest(), 0.02),
            new(new ProxyFault.ResetMidResponse(1500), 0.02),
            new(new ProxyFault.StallBeforeResponse(Stall), 0.01),
            new(new ProxyFault.StallMidBody(4096, Stall), 0.03, Match: IsGet),
            new(new ProxyFault.SlowLink(8 * 1024 * 1024), 0.05),
            new(LoopbackFaultProxy.SlowDown, 0.02, Burst: 3),
            new(LoopbackFaultProxy.InternalError, 0.02, Burst: 2),
            new(new ProxyFault.Respond(429, TooManyRequests, RetryAfterSeconds: 1), 0.02),
            new(new ProxyFault.TruncateResponse(1000), 0.04, Match: IsGet),
        ]),
    ];

    private static bool IsGet(string method, string target) => method == "GET";
}
