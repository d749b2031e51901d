using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

using Konduktor.Storage;

namespace TinyTrainer.Distributed;

/// <summary>
/// Synchronous data parallelism over TCP, the smallest all-reduce there is: rank 0 listens at <c>MASTER_ADDR:MasterPort</c>,
/// every other rank connects to it; each step every rank sends its shard's gradient and loss, rank 0 averages them
/// (weighted by shard size, in rank order) and sends the one average back, so all ranks apply bit-identical updates.
/// A peer that disappears (its process ended, the connection dropped) or stays silent past the deadline is an
/// <see cref="IOException"/> naming it: the pod exits non-zero instead of hanging, and Konduktor restarts the job.
/// </summary>
internal sealed class GradientAverager : IAsyncDisposable
{
    private const int Magic = 0x4B4F4E44; // "KOND"

    // How long a rank waits for its peers to connect, or for a step's message, before it calls them gone.
    private static readonly TimeSpan PeerDeadline = TimeSpan.FromMinutes(2);

    private readonly int _rank;
    private readonly int _nodes;
    private readonly TimeSpan _deadline;
    private readonly NetworkStream?[] _peers; // on rank 0: one per rank (index 0 unused); elsewhere: [0] is rank 0
    private readonly TcpListener? _listener;

    private GradientAverager(int rank, int nodes, TimeSpan deadline, NetworkStream?[] peers, TcpListener? listener)
    {
        _rank = rank;
        _nodes = nodes;
        _deadline = deadline;
        _peers = peers;
        _listener = listener;
    }

    /// <summary>
    /// The averager of this pod: the identity with one node; otherwise connected to the job's other ranks at
    /// <c>MASTER_ADDR</c> and <c>MASTER_PORT</c> (else <paramref name="defaultPort"/>, from <c>Trainer:MasterPort</c>).
    /// </summary>
    /// <exception cref="CheckpointConfigurationException"><c>MASTER_ADDR</c> is not set while <c>NUM_NODES</c> is more than 1.</exception>
    public static Task<GradientAverager> ForJobAsync(JobContext job, int defaultPort, CancellationToken cancellationToken)
    {
        if (job.NodeCount == 1)
        {
            return Task.FromResult(Single());
        }

        var address = job.MasterAddress
            ?? throw new CheckpointConfigurationException("MASTER_ADDR", null, $"rank 0's address (or NODE_HOST_IPS), since NUM_NODES is {job.NodeCount}");
        return ConnectAsync(job.Rank, job.NodeCount, address, job.MasterPort ?? defaultPort, PeerDeadline, cancellationToken);
    }

    /// <summary>A single rank: averaging is the identity.</summary>
    public static GradientAverager Single() => new(0, 1, TimeSpan.Zero, [], null);

    /// <summary>Rank 0 waits for every other rank to connect; the others connect to rank 0 (retrying while it starts).</summary>
    /// <exception cref="IOException">A rank did not connect, or rank 0 could not be reached, within <paramref name="deadline"/>.</exception>
    public static async Task<GradientAverager> ConnectAsync(int rank, int nodes, string masterAddress, int masterPort, TimeSpan deadline, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        return rank == 0
            ? await AcceptAsync(nodes, masterAddress, masterPort, deadline, timeout.Token, cancellationToken)
            : await DialAsync(rank, nodes, masterAddress, masterPort, deadline, timeout.Token, cancellationToken);
    }

    /// <summary>This rank's rows of a batch of <paramref name="batchSize"/>: contiguous, sizes differing by one at most.</summary>
    public (int Start, int Count) Shard(int batchSize)
    {
        var start = (int)((long)batchSize * _rank / _nodes);
        return (start, (int)((long)batchSize * (_rank + 1) / _nodes) - start);
    }

    /// <summary>Replaces <paramref name="gradient"/> by the average over all ranks and returns the average loss.</summary>
    /// <exception cref="IOException">A peer disappeared or stayed silent past the deadline; the message names it.</exception>
    public async Task<double> AverageAsync(long step, double[] gradient, double loss, int count, CancellationToken cancellationToken)
    {
        if (_nodes == 1)
        {
            return loss;
        }

        var message = new byte[MessageBytes(gradient.Length)];
        if (_rank != 0)
        {
            Encode(message, step, count, loss, gradient);
            await SendAsync(0, message, step, cancellationToken);
            await ReceiveAsync(0, message, step, cancellationToken);
            return Decode(message, 0, step, gradient).Loss;
        }

        // Rank 0: weighted sum in rank order, so the result does not depend on which message arrived first.
        var total = count;
        var sum = gradient.Select(g => g * count).ToArray();
        var lossSum = loss * count;
        var incoming = new double[gradient.Length];
        for (var peer = 1; peer < _nodes; peer++)
        {
            await ReceiveAsync(peer, message, step, cancellationToken);
            var (peerCount, peerLoss) = Decode(message, peer, step, incoming);
            total += peerCount;
            lossSum += peerLoss * peerCount;
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += incoming[i] * peerCount;
            }
        }

        for (var i = 0; i < sum.Length; i++)
        {
            gradient[i] = sum[i] / total;
        }

        var average = lossSum / total;
        Encode(message, step, total, average, gradient);
        for (var peer = 1; peer < _nodes; peer++)
        {
            await SendAsync(peer, message, step, cancellationToken);
        }

        return average;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var peer in _peers)
        {
            if (peer is not null)
            {
                await peer.DisposeAsync();
            }
        }

        _listener?.Stop();
        _listener?.Dispose();
    }

    private static async Task<GradientAverager> AcceptAsync(
        int nodes, string address, int port, TimeSpan deadline, CancellationToken timeout, CancellationToken cancellationToken)
    {
        // On loopback (local mode, tests) nothing else can reach it; in a pod the other ranks come from their own nodes.
        var loopback = address is "localhost" || (IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip));
        var listener = new TcpListener(loopback ? IPAddress.Loopback : IPAddress.Any, port);
        listener.Start();
        var peers = new NetworkStream?[nodes];
        try
        {
            while (peers.Skip(1).Any(p => p is null))
            {
                var client = await listener.AcceptTcpClientAsync(timeout);
                client.NoDelay = true;
                var stream = client.GetStream();
                var hello = new byte[8];
                await stream.ReadExactlyAsync(hello, timeout);
                var rank = BinaryPrimitives.ReadInt32LittleEndian(hello.AsSpan(4));
                if (BinaryPrimitives.ReadInt32LittleEndian(hello) != Magic || rank < 1 || rank >= nodes || peers[rank] is not null)
                {
                    await stream.DisposeAsync(); // Not one of this job's ranks, or a second copy of one: refused.
                    continue;
                }

                peers[rank] = stream;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var missing = Enumerable.Range(1, nodes - 1).Where(r => peers[r] is null);
            listener.Stop();
            throw new IOException($"rank 0 waited {deadline.TotalSeconds:0} s at {address}:{port} for rank(s) {string.Join(", ", missing)} to connect; they never did");
        }

        return new GradientAverager(0, nodes, deadline, peers, listener);
    }

    private static async Task<GradientAverager> DialAsync(
        int rank, int nodes, string address, int port, TimeSpan deadline, CancellationToken timeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            var client = new TcpClient { NoDelay = true };
            try
            {
                await client.ConnectAsync(address, port, timeout);
                var stream = client.GetStream();
                var hello = new byte[8];
                BinaryPrimitives.WriteInt32LittleEndian(hello, Magic);
                BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(4), rank);
                await stream.WriteAsync(hello, timeout);
                return new GradientAverager(rank, nodes, deadline, [stream], null);
            }
            catch (SocketException) when (!timeout.IsCancellationRequested)
            {
                client.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken); // Rank 0 is not listening yet.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                client.Dispose();
                throw new IOException($"rank {rank} could not reach rank 0 at {address}:{port} within {deadline.TotalSeconds:0} s");
            }
        }
    }

    private async Task SendAsync(int peer, byte[] message, long step, CancellationToken cancellationToken)
    {
        try
        {
            await _peers[peer]!.WriteAsync(message, cancellationToken);
        }
        catch (IOException e)
        {
            throw Lost(peer, step, e.Message);
        }
    }

    private async Task ReceiveAsync(int peer, byte[] message, long step, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_deadline);
        try
        {
            await _peers[peer]!.ReadExactlyAsync(message, timeout.Token);
        }
        catch (EndOfStreamException)
        {
            throw Lost(peer, step, "the connection was closed (its process ended?)");
        }
        catch (IOException e)
        {
            throw Lost(peer, step, e.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Lost(peer, step, $"it sent nothing for {_deadline.TotalSeconds:0} s");
        }
    }

    private IOException Lost(int peer, long step, string why) =>
        new($"rank {_rank} lost its peer rank {peer} at step {step}: {why}. The whole job must restart (Konduktor restarts every pod).");

    private static int MessageBytes(int length) => 8 + 4 + 8 + (length * sizeof(double));

    private static void Encode(byte[] message, long step, int count, double loss, double[] gradient)
    {
        BinaryPrimitives.WriteInt64LittleEndian(message, step);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(8), count);
        BinaryPrimitives.WriteDoubleLittleEndian(message.AsSpan(12), loss);
        for (var i = 0; i < gradient.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(message.AsSpan(20 + (i * sizeof(double))), gradient[i]);
        }
    }

    private (int Count, double Loss) Decode(byte[] message, int peer, long step, double[] gradient)
    {
        var peerStep = BinaryPrimitives.ReadInt64LittleEndian(message);
        if (peerStep != step)
        {
            throw new IOException($"rank {_rank} is at step {step} but rank {peer} sent step {peerStep}: the ranks resumed from different steps");
        }

        for (var i = 0; i < gradient.Length; i++)
        {
            gradient[i] = BinaryPrimitives.ReadDoubleLittleEndian(message.AsSpan(20 + (i * sizeof(double))));
        }

        return (BinaryPrimitives.ReadInt32LittleEndian(message.AsSpan(8)), BinaryPrimitives.ReadDoubleLittleEndian(message.AsSpan(12)));
    }
}
