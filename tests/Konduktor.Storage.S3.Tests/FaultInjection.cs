using System.Collections.Concurrent;
using System.Net;
using System.Text;

using Amazon.Runtime;

namespace Konduktor.Storage.S3.Tests;

/// <summary>
/// Answers chosen requests with a failure instead of sending them to the server: an S3 error document with a status, or a
/// dropped connection. Everything else goes to the server unchanged. Counts requests by method, URL and range.
/// </summary>
internal sealed class FaultInjection : HttpClientFactory
{
    private readonly Func<HttpRequestMessage, int, Fault?> _rule;
    private readonly ConcurrentDictionary<string, int> _seen = new(StringComparer.Ordinal);
    private int _injected;

    /// <param name="rule">Given a request and how many earlier requests had the same method and URL, the fault to inject, or null.</param>
    public FaultInjection(Func<HttpRequestMessage, int, Fault?> rule) => _rule = rule;

    public int Injected => Volatile.Read(ref _injected);

    public int Count(HttpMethod method, string pathAndQueryPart) =>
        _seen.Where(p => p.Key.StartsWith(method.Method + " ", StringComparison.Ordinal) && p.Key.Contains(pathAndQueryPart, StringComparison.Ordinal)).Sum(p => p.Value);

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(new Handler(this, new SocketsHttpHandler())) { Timeout = Timeout.InfiniteTimeSpan };

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    public override string GetConfigUniqueString(IClientConfig clientConfig) => "fault-injection";

    /// <summary>A failure to inject.</summary>
    internal sealed record Fault(HttpStatusCode Status, string Code, bool DropConnection = false)
    {
        public static Fault Dropped { get; } = new(0, string.Empty, DropConnection: true);
    }

    private sealed class Handler(FaultInjection owner, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var identity = $"{request.Method} {request.RequestUri!.PathAndQuery} {request.Headers.Range}";
            var earlier = owner._seen.AddOrUpdate(identity, 1, (_, n) => n + 1) - 1;
            var fault = owner._rule(request, earlier);
            if (fault is null)
            {
                return await base.SendAsync(request, cancellationToken);
            }

            Interlocked.Increment(ref owner._injected);
            if (fault.DropConnection)
            {
                throw new HttpRequestException("The connection was reset (injected).", new IOException("reset"));
            }

            var body = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{fault.Code}</Code><Message>injected</Message><RequestId>fault</RequestId></Error>";
            return new HttpResponseMessage(fault.Status)
            {
                RequestMessage = request,
                Content = new StringContent(body, Encoding.UTF8, "application/xml"),
            };
        }
    }
}
