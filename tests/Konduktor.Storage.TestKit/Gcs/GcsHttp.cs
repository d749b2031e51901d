using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

using Microsoft.AspNetCore.Http;

namespace Konduktor.Storage.Testing;

/// <summary>Reading request bodies and writing answers, shared by the server's endpoints.</summary>
internal static class GcsHttp
{
    public static async Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    public static Task WriteErrorAsync(HttpContext context, GcsError error)
    {
        if (error.Status == 304)
        {
            context.Response.StatusCode = 304;
            return Task.CompletedTask;
        }

        return WriteJsonAsync(context, error.Status, GcsJson.Error(error));
    }

    public static void WriteEmpty(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentLength = 0;
    }

    /// <summary>Reads exactly <paramref name="length"/> body bytes into one array (no intermediate copies of large chunks).</summary>
    /// <exception cref="IOException">The body ended early: the client went away.</exception>
    public static async Task<byte[]> ReadExactlyAsync(HttpRequest request, long length, CancellationToken cancellationToken)
    {
        if (length > Array.MaxLength)
        {
            throw GcsError.NotImplemented($"request bodies over {Array.MaxLength} bytes");
        }

        var bytes = new byte[length];
        await request.Body.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    /// <summary>Reads the whole body, sized by <c>Content-Length</c> when the client sent one.</summary>
    public static async Task<byte[]> ReadToEndAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length)
        {
            return await ReadExactlyAsync(request, length, cancellationToken).ConfigureAwait(false);
        }

        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(64 * 1024), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
        }
    }

    /// <summary>Reads up to <paramref name="count"/> body bytes and drops them (for a connection about to be cut).</summary>
    public static async Task SkipAsync(HttpRequest request, long count, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(count, buffer.Length)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                count -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Counts the body bytes read on upload endpoints, as they arrive, so interrupted chunks count too.</summary>
internal sealed class CountingReadStream(Stream inner, GcsTestServerCounters counters) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        counters.UploadBodyBytes(read);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Request bodies are read asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
