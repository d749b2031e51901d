using System.Net;
using System.Net.Sockets;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.TestKit.Tests;

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
    public async Task Inject_StallBeforeResponse_HoldsTheAnswerBackThenDeliversIt()
    {
        _proxy!.Inject(new ProxyFault.StallBeforeResponse(TimeSpan.FromSeconds(3)));
        using var impatient = new HttpClient { BaseAddress = _proxy.Endpoint, Timeout = TimeSpan.FromMilliseconds(500) };

        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.GetStringAsync("/stalled"));

        _proxy.Inject(new ProxyFault.StallBeforeResponse(TimeSpan.FromMilliseconds(400)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(_large, await _client!.GetByteArrayAsync("/large"));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(380), $"answered after {clock.Elapsed}");
        Assert.Equal(new Dictionary<string, int> { ["stall-before-response"] = 2 }, _proxy.FaultsByKind);
    }

    [Fact]
    public async Task Inject_StallMidBody_PausesAfterTheGivenBodyBytes()
    {
        // A long stall: on a loaded machine, reading the first bytes can itself take a while, and must not hide the pause.
        _proxy!.Inject(new ProxyFault.StallMidBody(100_000, TimeSpan.FromSeconds(3)));

        using var response = await _client!.GetAsync("/large", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[100_000];
        await body.ReadExactlyAsync(first);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var next = new byte[1];
        await body.ReadExactlyAsync(next);
        var waited = clock.Elapsed;
        using var rest = new MemoryStream();
        await body.CopyToAsync(rest);

        Assert.True(waited >= TimeSpan.FromSeconds(1), $"the next byte came after {waited}");
        Assert.Equal(_large, first.Concat(next).Concat(rest.ToArray()).ToArray());
    }

    [Fact]
    public async Task Inject_SlowLink_CapsBothDirections()
    {
        const int Rate = 1_000_000;
        var upload = new byte[500_000];
        _proxy!.Inject(new ProxyFault.SlowLink(Rate));
        _proxy.Inject(new ProxyFault.SlowLink(Rate));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var put = await _client!.PutAsync("/up", new ByteArrayContent(upload));
        var up = clock.Elapsed;
        clock.Restart();
        using var response = await _client.GetAsync("/large", HttpCompletionOption.ResponseHeadersRead);
        var download = await response.Content.ReadAsByteArrayAsync();
        var down = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Contains("PUT /up 500000", _seen);
        Assert.Equal(_large, download);

        // Lower bounds only: a busy machine may be slower, never faster than the cap.
        Assert.True(up >= TimeSpan.FromSeconds(0.45), $"500 kB went up in {up}");
        Assert.True(down >= TimeSpan.FromSeconds(_large.Length / (double)Rate * 0.95), $"{_large.Length} bytes came down in {down}");
    }

    [Fact]
    public async Task Inject_TruncateResponse_PromisesTheWholeBodyButClosesEarly()
    {
        _proxy!.Inject(new ProxyFault.TruncateResponse(1000));

        using var response = await _client!.GetAsync("/large", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new MemoryStream();
        var error = await Record.ExceptionAsync(() => body.CopyToAsync(received));

        Assert.Equal(_large.Length, response.Content.Headers.ContentLength);
        Assert.True(error is IOException or HttpRequestException, error?.ToString());
        Assert.Equal(_large.AsSpan(0, 1000).ToArray(), received.ToArray());
        Assert.Equal(_large, await _client.GetByteArrayAsync("/large"));
        Assert.Equal(new Dictionary<string, int> { ["truncated-response"] = 1 }, _proxy.FaultsByKind);
    }

    [Fact]
    public async Task Schedule_BurstFromTheNthMatchingRequest_HitsExactlyThoseRequests()
    {
        _proxy!.Schedule(LoopbackFaultProxy.SlowDown, nth: 2, burst: 3, match: (m, _) => m == "GET");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add((await _client!.GetAsync($"/g{i}")).StatusCode);
            statuses.Add((await _client.PutAsync($"/p{i}", new ByteArrayContent([1]))).StatusCode);
        }

        var ok = HttpStatusCode.OK;
        var busy = HttpStatusCode.ServiceUnavailable;
        Assert.Equal([ok, ok, busy, ok, busy, ok, busy, ok, ok, ok, ok, ok], statuses);
        Assert.Equal(new Dictionary<string, int> { ["503-SlowDown"] = 3 }, _proxy.FaultsByKind);
    }

    [Fact]
    public async Task UseProfile_SameSeed_SameFaultsForTheSameRequests()
    {
        var profile = new FaultProfile("mixed", [
            new(LoopbackFaultProxy.SlowDown, 0.2, Burst: 2),
            new(new ProxyFault.Respond(429, "<Error><Code>TooManyRequests</Code></Error>", RetryAfterSeconds: 1), 0.1),
            new(LoopbackFaultProxy.InternalError, 0.1, Match: (m, _) => m == "PUT"),
        ]);

        async Task<List<HttpStatusCode>> RunAsync(int seed)
        {
            _proxy!.UseProfile(profile, seed);
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 20; i++)
            {
                statuses.Add((await _client!.GetAsync($"/g{i}")).StatusCode);
                statuses.Add((await _client.PutAsync($"/p{i}", new ByteArrayContent([1]))).StatusCode);
            }

            _proxy.UseProfile(null);
            return statuses;
        }

        var first = await RunAsync(42);
        var second = await RunAsync(42);
        var other = await RunAsync(7);

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.Contains(HttpStatusCode.ServiceUnavailable, first);
        Assert.Contains(HttpStatusCode.TooManyRequests, first.Concat(other));
        Assert.DoesNotContain(HttpStatusCode.InternalServerError, first.Where((_, i) => i % 2 == 0));
        var counted = _proxy!.FaultsByKind;
        Assert.Equal(_proxy.FaultsInjected, counted.Values.Sum());
        Assert.Equal(first.Concat(second).Concat(other).Count(s => s != HttpStatusCode.OK), _proxy.FaultsInjected);
        Assert.Equal(["429-TooManyRequests-retry-after", "500-InternalError", "503-SlowDown"], counted.Keys.Intersect(["429-TooManyRequests-retry-after", "500-InternalError", "503-SlowDown"]));
    }

    [Fact]
    public async Task Requests_AfterAFaultlessProfile_PassThrough()
    {
        _proxy!.UseProfile(new FaultProfile("none", [new(LoopbackFaultProxy.SlowDown, 0)]), 1);

        Assert.Equal(_large, await _client!.GetByteArrayAsync("/large"));
        Assert.Equal(0, _proxy.FaultsInjected);
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
