using System.Buffers;

namespace Konduktor.Storage;

/// <summary>
/// Copies a stream while hashing it (when given a hash): the next read overlaps the current write, buffers come from the
/// shared pool, and a stall detector turns a read or write that makes no progress for the stall timeout into a transient failure.
/// </summary>
internal static class HashingCopy
{
    public static async Task<long> CopyAsync(
        Stream source,
        Stream destination,
        ContentHash? hash,
        int bufferSize,
        TimeSpan stallTimeout,
        Action<long>? onProgress,
        CancellationToken cancellationToken)
    {
        var current = ArrayPool<byte>.Shared.Rent(bufferSize);
        var next = ArrayPool<byte>.Shared.Rent(bufferSize);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<int>? pendingRead = null;
        try
        {
            long total = 0;
            Arm(stall, stallTimeout);
            var firstRead = source.ReadAsync(current.AsMemory(0, bufferSize), stall.Token).AsTask();
            await Guard(firstRead, stall, "reading", cancellationToken).ConfigureAwait(false);
            var read = await firstRead.ConfigureAwait(false);
            while (read > 0)
            {
                hash?.Append(current.AsSpan(0, read));
                Arm(stall, stallTimeout);
                var write = destination.WriteAsync(current.AsMemory(0, read), stall.Token).AsTask();
                pendingRead = source.ReadAsync(next.AsMemory(0, bufferSize), stall.Token).AsTask();
                await Guard(write, stall, "writing", cancellationToken).ConfigureAwait(false);
                total += read;
                onProgress?.Invoke(total);
                await Guard(pendingRead, stall, "reading", cancellationToken).ConfigureAwait(false);
                read = await pendingRead.ConfigureAwait(false);
                pendingRead = null;
                (current, next) = (next, current);
            }

            return total;
        }
        finally
        {
            if (pendingRead is not null)
            {
                // The pooled buffer may only go back once nothing writes into it any more.
                await stall.CancelAsync().ConfigureAwait(false);
                await ((Task)pendingRead).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }

    // The watchdog restarts whenever data moves; only silence longer than the timeout trips it.
    private static void Arm(CancellationTokenSource stall, TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            stall.CancelAfter(timeout);
        }
    }

    private static async Task Guard(Task operation, CancellationTokenSource stall, string what, CancellationToken caller)
    {
        try
        {
            await operation.ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested && stall.IsCancellationRequested)
        {
            throw new TransientStoreException($"The transfer stalled while {what}: no progress within the stall timeout.", e);
        }
    }
}
