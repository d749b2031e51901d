using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Konduktor.Storage.Testing;

/// <summary>
/// An HTTP/1.1 proxy on a free loopback port, in front of a test server on loopback, that injects scripted faults
/// between a client and the server: error answers (503 SlowDown, 429 with Retry-After), connection resets before,
/// during and after a request, stalls, slow links and truncated answers. It relays bytes untouched otherwise, so signed
/// requests (SigV4) stay valid when the client signs for the proxy's address. For tests only: it serves one upstream and
/// never leaves 127.0.0.1.
/// </summary>
/// <remarks>
/// A request gets the first fault that applies: the head of the <see cref="Inject"/> queue, then a <see cref="Schedule"/>d
/// fault, then one drawn from the <see cref="UseProfile"/> profile.
/// </remarks>
public sealed class LoopbackFaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(Func<string, string, bool> Match, ProxyFault Fault)> _faults = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly ConcurrentDictionary<string, int> _faultsByKind = new(StringComparer.Ordinal);
    private readonly List<Scheduled> _scheduled = [];
    private readonly Lock _drawing = new();
    private readonly Task _accepting;
    private readonly EmulatedLink? _link;
    private FaultProfile.Draws? _profile;
    private int _requests;
    private int _faultsInjected;
    private int _active;
    private int _maxActive;

    /// <summary>Starts the proxy in front of <paramref name="upstream"/> (a loopback endpoint).</summary>
    /// <param name="upstream">The server, e.g. <c>http://127.0.0.1:7480</c>.</param>
    /// <exception cref="ArgumentException">The upstream is not on loopback.</exception>
    public LoopbackFaultProxy(Uri upstream)
        : this(upstream, null)
    {
    }

    /// <summary>Starts the proxy in front of <paramref name="upstream"/>, with every client connection going through <paramref name="link"/>.</summary>
    /// <param name="upstream">The server, e.g. <c>http://127.0.0.1:7480</c>.</param>
    /// <param name="link">The network to emulate between clients and the proxy (round trip, rate per connection); none when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The upstream is not on loopback.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The link's round trip is negative or its rate below 1 KiB/s.</exception>
    public LoopbackFaultProxy(Uri upstream, EmulatedLink? link)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        link?.Validate();
        _link = link;
        if (!IPAddress.TryParse(upstream.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The proxy only fronts loopback servers, not {upstream}.", nameof(upstream));
        }

        _upstream = new IPEndPoint(address, upstream.Port);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>Counts a request as active until the returned scope ends (the answer relayed, or the connection dropped).</summary>
    private ActiveRequest CountActive(HttpHead request)
    {
        if (ConcurrencyFilter is { } filter && !filter(request.Method, request.Target))
        {
            return default;
        }

        var active = Interlocked.Increment(ref _active);
        int seen;
        while (active > (seen = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, active, seen) != seen)
        {
        }

        return new ActiveRequest(this);
    }

    /// <summary>Where clients connect.</summary>
    public Uri Endpoint { get; }

    /// <summary>Requests seen so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Which requests <see cref="MaxConcurrentRequests"/> counts (method, path and query); all of them when null.</summary>
    public Func<string, string, bool>? ConcurrencyFilter { get; set; }

    /// <summary>The most requests (of those <see cref="ConcurrencyFilter"/> accepts) forwarded at the same moment so far.</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxActive);

    /// <summary>Faults injected so far.</summary>
    public int FaultsInjected => Volatile.Read(ref _faultsInjected);

    /// <summary>Faults injected so far, by <see cref="ProxyFault.Kind"/>.</summary>
    public IReadOnlyDictionary<string, int> FaultsByKind => new SortedDictionary<string, int>(_faultsByKind, StringComparer.Ordinal);

    /// <summary>Queues <paramref name="fault"/> for the next <paramref name="count"/> requests that <paramref name="match"/> accepts (method, path and query).</summary>
    /// <param name="fault">What to do.</param>
    /// <param name="count">How many requests it applies to.</param>
    /// <param name="match">Which requests; all when <see langword="null"/>.</param>
    public void Inject(ProxyFault fault, int count = 1, Func<string, string, bool>? match = null)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue((match ?? ((_, _) => true), fault));
        }
    }

    /// <summary>
    /// Gives <paramref name="fault"/> to the <paramref name="nth"/> request (from 1, counted from now) that <paramref name="match"/>
    /// accepts and to the <paramref name="burst"/> − 1 matching requests after it.
    /// </summary>
    /// <param name="fault">What to do.</param>
    /// <param name="nth">Which matching request starts the burst, from 1.</param>
    /// <param name="burst">How many matching requests in a row get the fault.</param>
    /// <param name="match">Which requests count (method, path and query); all when <see langword="null"/>.</param>
    public void Schedule(ProxyFault fault, int nth, int burst = 1, Func<string, string, bool>? match = null)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentOutOfRangeException.ThrowIfLessThan(nth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        lock (_drawing)
        {
            _scheduled.Add(new Scheduled(fault, nth, burst, match ?? ((_, _) => true)));
        }
    }

    /// <summary>Draws faults for every later request from <paramref name="profile"/> with a generator seeded by <paramref name="seed"/>; none when <see langword="null"/>.</summary>
    /// <param name="profile">The profile, or <see langword="null"/> to stop drawing.</param>
    /// <param name="seed">The seed: the same seed and the same requests give the same faults.</param>
    public void UseProfile(FaultProfile? profile, int seed = 0)
    {
        lock (_drawing)
        {
            _profile = profile is null ? null : new FaultProfile.Draws(profile, seed);
        }
    }

    /// <summary>An S3-style 503 SlowDown answer.</summary>
    public static ProxyFault SlowDown { get; } = new ProxyFault.Respond(
        503, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");

    /// <summary>An S3-style 500 InternalError answer.</summary>
    public static ProxyFault InternalError { get; } = new ProxyFault.Respond(
        500, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>");

    /// <summary>Stops accepting and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.WhenAll(_connections).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var server = new TcpClient();
        client.NoDelay = true;

        // Through an emulated link, the connection's set-up costs a round trip and every byte is paced and delayed.
        Stream clientStream = _link is null ? client.GetStream() : new LinkStream(client.GetStream(), _link);
        await using var __ = clientStream.ConfigureAwait(false);
        try
        {
            var fromClient = new BufferedReader(clientStream);
            var toClient = clientStream;
            while (!_stop.IsCancellationRequested)
            {
                var head = await fromClient.ReadHeadAsync(_stop.Token).ConfigureAwait(false);
                if (head is null)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                var request = HttpHead.Parse(head);
                using var counted = CountActive(request);
                var fault = NextFault(request.Method, request.Target);
                if (fault is ProxyFault.ResetBeforeRequest)
                {
                    Reset(client);
                    return;
                }

                if (request.ExpectsContinue)
                {
                    // The proxy answers "100 Continue" itself, so the body follows without waiting on the server.
                    await toClient.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), _stop.Token).ConfigureAwait(false);
                }

                if (fault is ProxyFault.Respond respond)
                {
                    await fromClient.SkipBodyAsync(request, Stream.Null, _stop.Token).ConfigureAwait(false);
                    await toClient.WriteAsync(ErrorResponse(respond), _stop.Token).ConfigureAwait(false);
                    continue;
                }

                if (!server.Connected)
                {
                    await server.ConnectAsync(_upstream, _stop.Token).ConfigureAwait(false);
                    server.NoDelay = true;
                }

                var upstream = server.GetStream();
                var rate = (fault as ProxyFault.SlowLink)?.BytesPerSecond;
                await upstream.WriteAsync(request.WithoutExpect(), _stop.Token).ConfigureAwait(false);
                await fromClient.SkipBodyAsync(request, new ShapedStream(upstream, rate), _stop.Token).ConfigureAwait(false);
                if (fault is ProxyFault.ResetAfterRequest)
                {
                    Reset(client);
                    return;
                }

                var fromServer = new BufferedReader(upstream);
                var responseHead = await fromServer.ReadHeadAsync(_stop.Token).ConfigureAwait(false) ?? throw new IOException("The server closed the connection.");
                var response = HttpHead.Parse(responseHead, request.Method);
                if (fault is ProxyFault.StallBeforeResponse stall)
                {
                    await Task.Delay(stall.Duration, _stop.Token).ConfigureAwait(false);
                }

                var relay = new ShapedStream(toClient, rate);
                switch (fault)
                {
                    case ProxyFault.ResetMidResponse mid:
                        relay.CutAt = mid.Bytes;
                        break;
                    case ProxyFault.TruncateResponse { BodyBytes: var bodyBytes } when !response.NoBody && response.ContentLength > 0:
                        relay.CutAt = responseHead.Length + Math.Min(bodyBytes, response.ContentLength.Value - 1);
                        relay.CutCleanly = true;
                        break;
                    case ProxyFault.StallMidBody pause:
                        relay.PauseAt = responseHead.Length + pause.BodyBytes;
                        relay.Pause = pause.Duration;
                        break;
                }

                try
                {
                    await relay.WriteAsync(responseHead, _stop.Token).ConfigureAwait(false);
                    await fromServer.SkipBodyAsync(response, relay, _stop.Token).ConfigureAwait(false);
                }
                catch (ShapedStream.CutException)
                {
                    if (relay.CutCleanly)
                    {
                        Close(client);
                    }
                    else
                    {
                        Reset(client);
                    }

                    return;
                }

                if (response.Close || request.Close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the server went away, or the proxy is stopping: this connection is over.
        }
    }

    private ProxyFault? NextFault(string method, string target)
    {
        var fault = ChooseFault(method, target);
        if (fault is not null)
        {
            Interlocked.Increment(ref _faultsInjected);
            _faultsByKind.AddOrUpdate(fault.Kind, 1, (_, n) => n + 1);
        }

        return fault;
    }

    private ProxyFault? ChooseFault(string method, string target)
    {
        // Only the head of the queue is considered, so scripted faults fire in the order they were queued.
        if (_faults.TryPeek(out var next) && next.Match(method, target) && _faults.TryDequeue(out var taken))
        {
            return taken.Fault;
        }

        lock (_drawing)
        {
            ProxyFault? scheduled = null;
            foreach (var item in _scheduled.Where(item => item.Match(method, target)))
            {
                item.Seen++;
                if (scheduled is null && item.Seen >= item.Nth && item.Seen < item.Nth + item.Burst)
                {
                    scheduled = item.Fault;
                }
            }

            _scheduled.RemoveAll(item => item.Seen >= item.Nth + item.Burst - 1);
            return scheduled ?? _profile?.Next(method, target);
        }
    }

    private static void Close(TcpClient client)
    {
        try
        {
            client.Client.Shutdown(SocketShutdown.Both);
            client.Client.Close();
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static void Reset(TcpClient client)
    {
        try
        {
            client.Client.LingerState = new LingerOption(true, 0);
            client.Client.Close();
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static byte[] ErrorResponse(ProxyFault.Respond respond)
    {
        var body = Encoding.UTF8.GetBytes(respond.Body);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {respond.Status} Injected\r\n")
            .Append("Content-Type: application/xml\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        if (respond.RetryAfterSeconds is { } seconds)
        {
            head.Append(CultureInfo.InvariantCulture, $"Retry-After: {seconds}\r\n");
        }

        return [.. Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), .. body];
    }

    /// <summary>The parts of a request or response head the relay needs.</summary>
    private sealed record HttpHead(string Method, string Target, long? ContentLength, bool Chunked, bool Close, bool ExpectsContinue, bool NoBody, byte[] Raw)
    {
        public static HttpHead Parse(byte[] raw, string? requestMethod = null)
        {
            var lines = Encoding.ASCII.GetString(raw).Split("\r\n");
            var first = lines[0].Split(' ', 3);
            long? length = null;
            bool chunked = false, close = false, expect = false;
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    length = long.Parse(value, CultureInfo.InvariantCulture);
                }
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
                }
                else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    close = value.Equals("close", StringComparison.OrdinalIgnoreCase);
                }
                else if (name.Equals("Expect", StringComparison.OrdinalIgnoreCase))
                {
                    expect = value.Equals("100-continue", StringComparison.OrdinalIgnoreCase);
                }
            }

            if (requestMethod is null)
            {
                return new HttpHead(first[0], first.Length > 1 ? first[1] : "/", length, chunked, close, expect, false, raw);
            }

            var status = first.Length > 1 ? int.Parse(first[1], CultureInfo.InvariantCulture) : 0;
            var noBody = requestMethod == "HEAD" || status is 204 or 304 || status is >= 100 and < 200;
            return new HttpHead(requestMethod, "", length, chunked, close, false, noBody, raw);
        }

        public byte[] WithoutExpect()
        {
            if (!ExpectsContinue)
            {
                return Raw;
            }

            var text = Encoding.ASCII.GetString(Raw);
            var kept = text.Split("\r\n").Where(l => !l.StartsWith("Expect:", StringComparison.OrdinalIgnoreCase));
            return Encoding.ASCII.GetBytes(string.Join("\r\n", kept));
        }
    }

    /// <summary>Reads heads and bodies off a connection, keeping what it read ahead.</summary>
    private sealed class BufferedReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<byte[]?> ReadHeadAsync(CancellationToken cancellationToken)
        {
            var head = new MemoryStream();
            var matched = 0;
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    return head.Length == 0 ? null : throw new IOException("The connection closed inside a head.");
                }

                var b = _buffer[_start++];
                head.WriteByte(b);
                matched = b == (matched is 0 or 2 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
                if (matched == 4)
                {
                    return head.ToArray();
                }
            }
        }

        public async Task SkipBodyAsync(HttpHead head, Stream sink, CancellationToken cancellationToken)
        {
            if (head.NoBody)
            {
                return;
            }

            if (head.Chunked)
            {
                while (true)
                {
                    var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
                    await sink.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                    var size = long.Parse(Encoding.ASCII.GetString(line).Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (size == 0)
                    {
                        // Trailers, then an empty line.
                        while ((line = await ReadLineAsync(cancellationToken).ConfigureAwait(false)).Length > 2)
                        {
                            await sink.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                        }

                        await sink.WriteAsync(line, cancellationToken).ConfigureAwait(false);
                        return;
                    }

                    await CopyAsync(size + 2, sink, cancellationToken).ConfigureAwait(false);
                }
            }

            await CopyAsync(head.ContentLength ?? 0, sink, cancellationToken).ConfigureAwait(false);
        }

        private async Task CopyAsync(long count, Stream sink, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new IOException("The connection closed inside a body.");
                }

                var n = (int)Math.Min(count, _end - _start);
                await sink.WriteAsync(_buffer.AsMemory(_start, n), cancellationToken).ConfigureAwait(false);
                _start += n;
                count -= n;
            }
        }

        private async Task<byte[]> ReadLineAsync(CancellationToken cancellationToken)
        {
            var line = new MemoryStream();
            while (true)
            {
                if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new IOException("The connection closed inside a chunk header.");
                }

                var b = _buffer[_start++];
                line.WriteByte(b);
                if (b == '\n')
                {
                    return line.ToArray();
                }
            }
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            return _end > 0;
        }
    }

    /// <summary>A fault given by <see cref="Schedule"/>: the matching requests seen so far, and which of them get it.</summary>
    private sealed class Scheduled(ProxyFault fault, int nth, int burst, Func<string, string, bool> match)
    {
        public ProxyFault Fault { get; } = fault;

        public int Nth { get; } = nth;

        public int Burst { get; } = burst;

        public Func<string, string, bool> Match { get; } = match;

        public int Seen { get; set; }
    }

    private readonly struct ActiveRequest(LoopbackFaultProxy? proxy) : IDisposable
    {
        public void Dispose()
        {
            if (proxy is not null)
            {
                Interlocked.Decrement(ref proxy._active);
            }
        }
    }
}
