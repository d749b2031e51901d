using System.Globalization;
using System.Text.RegularExpressions;

namespace Konduktor.Storage.Testing;

/// <summary>What the proxy does to one request.</summary>
public abstract partial record ProxyFault
{
    /// <summary>A short name of the fault's kind, for counting (e.g. <c>503-SlowDown</c>, <c>reset-mid-response</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>Answers with <paramref name="Status"/> and a body, without reaching the server (e.g. 503 SlowDown).</summary>
    /// <param name="Status">The HTTP status.</param>
    /// <param name="Body">The response body (an S3 or GCS error document).</param>
    /// <param name="RetryAfterSeconds">A <c>Retry-After</c> header, if set.</param>
    public sealed record Respond(int Status, string Body, int? RetryAfterSeconds = null) : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind
        {
            get
            {
                var code = ErrorCode().Match(Body);
                var kind = code.Success ? $"{Status}-{code.Groups[1].Value}" : Status.ToString(CultureInfo.InvariantCulture);
                return RetryAfterSeconds is null ? kind : kind + "-retry-after";
            }
        }
    }

    /// <summary>Sends the request to the server, then resets the client's connection before any answer: the request may have taken effect.</summary>
    public sealed record ResetAfterRequest : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "reset-after-request";
    }

    /// <summary>Resets the client's connection after forwarding this many bytes of the server's answer.</summary>
    /// <param name="Bytes">Bytes of the response (head included) delivered before the reset.</param>
    public sealed record ResetMidResponse(long Bytes) : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "reset-mid-response";
    }

    /// <summary>Resets the client's connection right away, before the request reaches the server.</summary>
    public sealed record ResetBeforeRequest : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "reset-before-request";
    }

    /// <summary>Sends the request to the server, then holds the answer back for <paramref name="Duration"/> before relaying it.</summary>
    /// <param name="Duration">How long no byte of the answer reaches the client.</param>
    public sealed record StallBeforeResponse(TimeSpan Duration) : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "stall-before-response";
    }

    /// <summary>Relays the answer's head and <paramref name="BodyBytes"/> bytes of its body, then nothing for <paramref name="Duration"/>, then the rest.</summary>
    /// <param name="BodyBytes">Body bytes delivered before the pause.</param>
    /// <param name="Duration">How long the pause lasts.</param>
    public sealed record StallMidBody(long BodyBytes, TimeSpan Duration) : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "stall-mid-body";
    }

    /// <summary>Caps the bandwidth of this request's exchange, in both directions (request body up, response down).</summary>
    /// <param name="BytesPerSecond">The cap.</param>
    public sealed record SlowLink(long BytesPerSecond) : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "slow-link";
    }

    /// <summary>
    /// Relays the answer's head unchanged (its <c>Content-Length</c> still promises the whole body), then at most
    /// <paramref name="BodyBytes"/> bytes of the body (always fewer than promised), then closes the connection cleanly.
    /// </summary>
    /// <param name="BodyBytes">Body bytes delivered before the close.</param>
    public sealed record TruncateResponse(long BodyBytes) : ProxyFault
    {
        /// <inheritdoc />
        public override string Kind => "truncated-response";
    }

    [GeneratedRegex("<Code>([^<]+)</Code>")]
    private static partial Regex ErrorCode();
}
