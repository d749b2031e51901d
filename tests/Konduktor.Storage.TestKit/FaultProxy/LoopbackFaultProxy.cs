using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Konduktor.Storage.Testing;

/// <summary>What the proxy does to one request.</summary>
public abstract record ProxyFault
{
    /// <summary>Answers with <paramref name="Status"/> and a body, without reaching the server (e.g. 503 SlowDown).</summary>
    /// <param name="Status">The HTTP status.</param>
    /// <param name="Body">The response body (an S3 or GCS error document).</param>
    /// <param name="RetryAfterSeconds">A <c>Retry-After</c> header, if set.</param>
    public sealed record Respond(int Status, string Body, int? RetryAfterSeconds = null) : ProxyFault;

    /// <summary>Sends the request to the server, then resets the client's connection before any answer: the request may have taken effect.</summary>
    public sealed record ResetAfterRequest : ProxyFault;

    /// <summary>Resets the client's connection after forwarding this many bytes of the server's answer.</summary>
    /// <param name="Bytes">Bytes of the response (head included) delivered before the reset.</param>
    public sealed record ResetMidResponse(long Bytes) : ProxyFault;

    /// <summary>Resets the client's connection right away, before the request reaches the server.</summary>
    public sealed record ResetBeforeRequest : ProxyFault;
}

/// <summary>
/// An HTTP/1.1 proxy on a free loopback port, in front of a test server on loopback, that injects scripted faults
/// between a client and the server: error answers (503 SlowDown, 429 with Retry-After), connection resets before,
/// during and after a request. It relays bytes untouched otherwise, so signed requests (SigV4) stay valid when the
/// client signs for the proxy's address. For tests only: it serves one upstream and never leaves 127.0.0.1.
/// </summary>
public sealed class LoopbackFaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(Func<string, string, bool> Match, ProxyFault Fault)> _faults = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _accepting;
    private int _requests;
    private int _faultsInjected;

    /// <summary>Starts the proxy in front of <paramref name="upstream"/> (a loopback endpoint).</summary>
    /// <param name="upstream">The server, e.g. <c>http://127.0.0.1:7480</c>.</param>
    /// <exception cref="ArgumentException">The upstream is not on loopback.</exception>
    public LoopbackFaultProxy(Uri upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        if (!IPAddress.TryParse(upstream.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The proxy only fronts loopback servers, not {upstream}.", nameof(upstream));
        }

        _upstream = new IPEndPoint(address, upstream.Port);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect.</summary>
    public Uri Endpoint { get; }

    /// <summary>Requests seen so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Faults injected so far.</summary>
    public int FaultsInjected => Volatile.Read(ref _faultsInjected);

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
        try
        {
            client.NoDelay = true;
            var fromClient = new BufferedReader(client.GetStream());
            var toClient = client.GetStream();
            while (!_stop.IsCancellationRequested)
            {
                var head = await fromClient.ReadHeadAsync(_stop.Token).ConfigureAwait(false);
                if (head is null)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                var request = HttpHead.Parse(head);
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
                await upstream.WriteAsync(request.WithoutExpect(), _stop.Token).ConfigureAwait(false);
                await fromClient.SkipBodyAsync(request, upstream, _stop.Token).ConfigureAwait(false);
                if (fault is ProxyFault.ResetAfterRequest)
                {
                    Reset(client);
                    return;
                }

                var limit = fault is ProxyFault.ResetMidResponse mid ? mid.Bytes : long.MaxValue;
                var fromServer = new BufferedReader(upstream);
                var responseHead = await fromServer.ReadHeadAsync(_stop.Token).ConfigureAwait(false) ?? throw new IOException("The server closed the connection.");
                var response = HttpHead.Parse(responseHead, request.Method);
                var relay = new LimitedStream(toClient, limit);
                await relay.WriteAsync(responseHead, _stop.Token).ConfigureAwait(false);
                await fromServer.SkipBodyAsync(response, relay, _stop.Token).ConfigureAwait(false);
                if (relay.Exceeded)
                {
                    Reset(client);
                    return;
                }

                if (response.Close || request.Close)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or LimitedStream.LimitReachedException)
        {
            if (e is LimitedStream.LimitReachedException)
            {
                Reset(client);
            }
        }
    }

    private ProxyFault? NextFault(string method, string target)
    {
        // Only the head of the queue is considered, so scripted faults fire in the order they were queued.
        if (_faults.TryPeek(out var next) && next.Match(method, target) && _faults.TryDequeue(out var taken))
        {
            Interlocked.Increment(ref _faultsInjected);
            return taken.Fault;
        }

        return null;
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

    /// <summary>Passes bytes on until a limit, then refuses, so the proxy can cut a response midway.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _written;

        public bool Exceeded { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var allowed = (int)Math.Min(buffer.Length, limit - _written);
            if (allowed > 0)
            {
                await inner.WriteAsync(buffer[..allowed], cancellationToken).ConfigureAwait(false);
                _written += allowed;
            }

            if (allowed < buffer.Length)
            {
                Exceeded = true;
                throw new LimitReachedException();
            }
        }

        public sealed class LimitReachedException : Exception;
    }
}
