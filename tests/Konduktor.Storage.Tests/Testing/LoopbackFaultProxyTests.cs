using System.Net;
using System.Net.Sockets;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.Tests;

/// <summary>The test kit's fault proxy, against a small loopback HTTP server, so the S3 and GCS fault tests can trust it.</summary>
public sealed class LoopbackFaultProxyTests : IAsyncLifetime, IDisposable
{
    private readonly HttpListener _server = new();
    private readonly List<string> _seen = [];
    private readonly byte[] _large = new byte[4 * 1024 * 1024];
    private Task? _serving;
    private LoopbackFaultProxy? _proxy;
    private HttpClient? _client;

    public async Task InitializeAsync()
    {
        new Random(1).NextBytes(_large);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _server.Prefixes.Add($"http://127.0.0.1:{port}/");
        _server.Start();
        _serving = ServeAsync();
        _proxy = new LoopbackFaultProxy(new Uri($"http://127.0.0.1:{port}"));
        _client = new HttpClient { BaseAddress = _proxy.Endpoint, Timeout = TimeSpan.FromSeconds(20) };
        await Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        await _proxy!.DisposeAsync();
        _server.Stop();
        await _serving!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => ((IDisposable)_server).Dispose();

    private async Task ServeAsync()
    {
        while (_server.IsListening)
        {
            var context = await _server.GetContextAsync();
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            lock (_seen)
            {
                _seen.Add($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath} {body.Length}");
            }

            var answer = context.Request.Url.AbsolutePath == "/large" ? _large : "ok"u8.ToArray();
            context.Response.ContentLength64 = answer.Length;
            await context.Response.OutputStream.WriteAsync(answer);
            context.Response.Close();
        }
        catch (HttpListenerException)
        {
            // The proxy cut the connection on purpose.
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Relay_GetAndPutWithExpectContinue_PassThroughUnchanged()
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/object") { Content = new ByteArrayContent(new byte[300_000]) };
        put.Headers.ExpectContinue = true;

        var putResponse = await _client!.SendAsync(put);
        var large = await _client.GetByteArrayAsync("/large");
        var again = await _client.GetStringAsync("/small");

        Assert.Equal(HttpStatusCode.OK, putResponse.StatusCode);
        Assert.Equal(_large, large);
        Assert.Equal("ok", again);
        Assert.Contains("PUT /object 300000", _seen);
        Assert.Equal(3, _proxy!.Requests);
    }

    [Fact]
    public async Task Inject_SlowDown_AnswersWithoutReachingTheServer()
    {
        _proxy!.Inject(LoopbackFaultProxy.SlowDown, 2);

        var first = await _client!.GetAsync("/a");
        var second = await _client.GetAsync("/b");
        var third = await _client.GetAsync("/c");

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], [first.StatusCode, second.StatusCode, third.StatusCode]);
        Assert.Contains("SlowDown", await first.Content.ReadAsStringAsync());
        Assert.Equal(["GET /c 0"], _seen);
    }

    [Fact]
    public async Task Inject_RetryAfter_IsSent()
    {
        _proxy!.Inject(new ProxyFault.Respond(429, "<Error/>", RetryAfterSeconds: 7));

        var response = await _client!.GetAsync("/a");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter!.Delta);
    }

    [Fact]
    public async Task Inject_ResetAfterRequest_TheServerSawItButTheClientGetsNoAnswer()
    {
        _proxy!.Inject(new ProxyFault.ResetAfterRequest());

        await Assert.ThrowsAsync<HttpRequestException>(() => _client!.PutAsync("/x", new ByteArrayContent(new byte[10])));

        await WaitUntilAsync(() => _seen.Contains("PUT /x 10"));
    }

    [Fact]
    public async Task Inject_ResetBeforeRequest_TheServerNeverSeesIt()
    {
        _proxy!.Inject(new ProxyFault.ResetBeforeRequest());

        await Assert.ThrowsAsync<HttpRequestException>(() => _client!.GetAsync("/never"));
        var after = await _client!.GetStringAsync("/after");

        Assert.Equal("ok", after);
        Assert.DoesNotContain(_seen, s => s.Contains("/never", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inject_ResetMidResponse_CutsTheBody()
    {
        _proxy!.Inject(new ProxyFault.ResetMidResponse(1_000_000));

        var error = await Record.ExceptionAsync(() => _client!.GetByteArrayAsync("/large"));

        Assert.True(error is HttpRequestException or IOException, error?.ToString());
        Assert.Equal(_large, await _client!.GetByteArrayAsync("/large"));
    }

    [Fact]
    public void Constructor_NonLoopbackUpstream_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new LoopbackFaultProxy(new Uri("http://10.0.0.1:80")));
    }

    private async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            lock (_seen)
            {
                if (condition())
                {
                    return;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the server");
            await Task.Delay(10);
        }
    }
}
