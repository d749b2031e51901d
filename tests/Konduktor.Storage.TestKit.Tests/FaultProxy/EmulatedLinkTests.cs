using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

using Konduktor.Storage.Testing;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>
/// The fault proxy's emulated link adds its round trip to connection set-up and to every request, and caps each connection's
/// rate in each direction (per connection, not overall). Times are checked generously: the lower bounds are what the link
/// must add (a loaded machine only makes things slower); the upper bounds only tell a per-connection cap from a shared one.
/// </summary>
public sealed class EmulatedLinkTests : IAsyncLifetime, IDisposable
{
    private const int Payload = 512 * 1024;
    private readonly HttpListener _server = new();
    private readonly byte[] _payload = new byte[Payload];
    private Uri? _upstream;
    private Task? _serving;

    public Task InitializeAsync()
    {
        new Random(3).NextBytes(_payload);
        _upstream = new Uri($"http://127.0.0.1:{FreePort()}");
        _server.Prefixes.Add(_upstream.ToString());
        _server.Start();
        _serving = ServeAsync();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _server.Stop();
        await _serving!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose() => ((IDisposable)_server).Dispose();

    [Fact]
    public async Task RoundTrip_IsPaidOnConnectionSetUpAndByEveryRequest()
    {
        await using var proxy = new LoopbackFaultProxy(_upstream!, new EmulatedLink(TimeSpan.FromMilliseconds(100), 64L * 1024 * 1024));
        using var client = new HttpClient { BaseAddress = proxy.Endpoint };

        var clock = Stopwatch.StartNew();
        Assert.Equal("ok", await client.GetStringAsync("/small"));
        var first = clock.Elapsed;
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("ok", await client.GetStringAsync("/small"));
        }

        var rest = clock.Elapsed - first;

        // Set-up (one round trip) plus the request's own; then one round trip each on the kept-alive connection.
        Assert.InRange(first.TotalMilliseconds, 190, 10_000);
        Assert.InRange(rest.TotalMilliseconds, 4 * 95, 20_000);
        Assert.Equal(5, proxy.Requests);
    }

    [Fact]
    public async Task Rate_IsCappedPerConnectionInBothDirections()
    {
        // 512 KiB at 256 KiB/s: two seconds each way.
        await using var proxy = new LoopbackFaultProxy(_upstream!, new EmulatedLink(TimeSpan.Zero, 256 * 1024));
        using var client = new HttpClient { BaseAddress = proxy.Endpoint };

        var clock = Stopwatch.StartNew();
        var down = await client.GetByteArrayAsync("/large");
        var download = clock.Elapsed;
        clock.Restart();
        using (var up = await client.PutAsync("/object", new ByteArrayContent(_payload)))
        {
            Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        }

        var upload = clock.Elapsed;

        Assert.Equal(_payload, down);
        Assert.InRange(download.TotalSeconds, 1.9, 30);
        Assert.InRange(upload.TotalSeconds, 1.9, 30);
    }

    [Fact]
    public async Task Rate_OfTwoConnectionsAtOnce_IsTwiceOne()
    {
        await using var proxy = new LoopbackFaultProxy(_upstream!, new EmulatedLink(TimeSpan.Zero, 256 * 1024));
        using var first = new HttpClient { BaseAddress = proxy.Endpoint };
        using var second = new HttpClient { BaseAddress = proxy.Endpoint };

        var clock = Stopwatch.StartNew();
        var both = await Task.WhenAll(first.GetByteArrayAsync("/large"), second.GetByteArrayAsync("/large"));
        var elapsed = clock.Elapsed;

        // Two seconds each, side by side; a cap shared by the connections would take four.
        Assert.All(both, body => Assert.Equal(_payload, body));
        Assert.InRange(elapsed.TotalSeconds, 1.9, 3.4);
    }

    [Fact]
    public void Link_WithNegativeRoundTripOrTinyRate_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoopbackFaultProxy(_upstream!, new EmulatedLink(TimeSpan.FromMilliseconds(-1), 1024 * 1024)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LoopbackFaultProxy(_upstream!, new EmulatedLink(TimeSpan.Zero, 100)));
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task ServeAsync()
    {
        while (_server.IsListening)
        {
            var context = await _server.GetContextAsync();
            _ = Task.Run(async () =>
            {
                try
                {
                    await context.Request.InputStream.CopyToAsync(Stream.Null);
                    var answer = context.Request.Url!.AbsolutePath == "/large" ? _payload : "ok"u8.ToArray();
                    context.Response.ContentLength64 = answer.Length;
                    await context.Response.OutputStream.WriteAsync(answer);
                    context.Response.Close();
                }
                catch (HttpListenerException)
                {
                }
            });
        }
    }
}
