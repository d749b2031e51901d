using System.Net;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Konduktor.Storage.Testing;

/// <summary>
/// The project's own loopback test server implementing the parts of the GCS JSON API the GCS store relies on; not
/// Google's emulator (none installs offline). In memory, on a free 127.0.0.1 port: bucket get; media, multipart and
/// resumable uploads (308 with <c>Range</c>, status queries, <c>x-goog-hash</c> checked on completion); generation
/// preconditions; <c>alt=media</c> downloads (whole with <c>x-goog-hash</c>, ranged without); list; delete; plus
/// switchable <see cref="Faults"/> and exact <see cref="Counters"/>. Anything else answers 501 naming what is missing.
/// </summary>
/// <remarks>
/// Point <c>StorageClientBuilder.BaseUri</c> at <see cref="BaseUri"/> with unauthenticated access. Only the live
/// generation of an object is kept (as in a bucket without versioning).
/// </remarks>
public sealed class GcsTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GcsBuckets _buckets;
    private readonly GcsObjects _objects;
    private readonly GcsUploads _uploads;

    private GcsTestServer(WebApplication app)
    {
        _app = app;
        _buckets = new GcsBuckets(TimeProvider.System);
        _objects = new GcsObjects(_buckets, () => Endpoint);
        _uploads = new GcsUploads(_buckets, Faults, Counters, () => Endpoint);
        app.Run(HandleAsync);
    }

    /// <summary>The server's root, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The JSON API root, <c>http://127.0.0.1:PORT/storage/v1/</c> (what <c>StorageClientBuilder.BaseUri</c> takes).</summary>
    public Uri BaseUri => new(Endpoint, "storage/v1/");

    /// <summary>Faults to inject into upcoming requests.</summary>
    public GcsTestServerFaults Faults { get; } = new();

    /// <summary>What the server has received so far.</summary>
    public GcsTestServerCounters Counters { get; } = new();

    /// <summary>Starts a server on 127.0.0.1 on a free port.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server; dispose it to stop it.</returns>
    public static async Task<GcsTestServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, 0);
            options.AddServerHeader = false;

            // Chunks of many MiB from a busy machine: no size cap, no minimum data rate.
            options.Limits.MaxRequestBodySize = null;
            options.Limits.MinRequestBodyDataRate = null;
            options.Limits.MinResponseDataRate = null;
        });
        var app = builder.Build();
        var server = new GcsTestServer(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Endpoint = new Uri($"http://127.0.0.1:{new Uri(address).Port}/");
        return server;
    }

    /// <summary>Creates a bucket (nothing happens if it exists).</summary>
    /// <param name="name">The bucket name.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has a slash.</exception>
    public void CreateBucket(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A bucket name has no '/': '{name}'.", nameof(name));
        }

        _buckets.Create(name);
    }

    /// <summary>Reads the live generation of an object, bypassing HTTP (and faults and counters).</summary>
    /// <param name="bucket">The bucket.</param>
    /// <param name="name">The object name.</param>
    /// <param name="content">A copy of the object's bytes; empty when it does not exist.</param>
    /// <param name="generation">Its generation; 0 when it does not exist.</param>
    /// <returns>Whether the object (and its bucket) exists.</returns>
    public bool TryGetObject(string bucket, string name, out byte[] content, out long generation)
    {
        var stored = _buckets.Created(bucket) is null ? null : _buckets.Find(bucket, name);
        content = stored is null ? [] : stored.Content.ToArray();
        generation = stored?.Generation ?? 0;
        return stored is not null;
    }

    /// <summary>Stores a new generation of an object, bypassing HTTP, e.g. to plant a corrupt copy under a test.</summary>
    /// <param name="bucket">An existing bucket.</param>
    /// <param name="name">The object name.</param>
    /// <param name="content">The bytes (copied).</param>
    /// <param name="contentType">The content type.</param>
    /// <returns>The new generation.</returns>
    /// <exception cref="InvalidOperationException">The bucket does not exist.</exception>
    public long PutObject(string bucket, string name, ReadOnlySpan<byte> content, string contentType = "application/octet-stream")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var properties = new GcsObjectProperties(name, contentType, null);
        var none = new GcsPreconditions(null, null, null, null);
        try
        {
            return _buckets.Put(bucket, properties, new GcsContent([content.ToArray()]), none).Generation;
        }
        catch (GcsError e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
    }

    /// <summary>Stops the server and closes its connections.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _uploads.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Counters.Request();
        try
        {
            var request = GcsRequest.Parse(context);
            var segments = request.Segments;
            if (segments is ["upload", ..])
            {
                context.Request.Body = new CountingReadStream(context.Request.Body, Counters);
            }

            var kind = Classify(request);
            if (Faults.TryTakeThrottle(out var retryAfter))
            {
                Counters.FaultInjected();
                context.Response.Headers.RetryAfter = GcsHttp.Invariant(retryAfter);
                throw new GcsError(429, "rateLimitExceeded", "The rate of requests is too high (injected by the test server).");
            }

            if ((kind == RequestKind.Initiation && Faults.TryTakeInitiationFailure(out var status))
                || (kind == RequestKind.Download && Faults.TryTakeDownloadFailure(out status)))
            {
                Counters.FaultInjected();
                throw new GcsError(status, status == 503 ? "backendError" : "injected", $"Injected failure {status} by the test server.");
            }

            await RouteAsync(request, segments is ["download", .. var rest] ? rest : segments).ConfigureAwait(false);
        }
        catch (GcsError error) when (!context.Response.HasStarted)
        {
            await GcsHttp.WriteErrorAsync(context, error).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionAbortedException)
        {
            // The client went away (or a fault cut it off) mid-request: there is no one to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            // A bug in this server: say so in the answer rather than as a bare 500.
            await GcsHttp.WriteErrorAsync(context, new GcsError(500, "backendError", $"GcsTestServer failed: {e}")).ConfigureAwait(false);
        }
    }

    private Task RouteAsync(GcsRequest request, string[] segments)
    {
        var method = request.Method;
        switch (segments)
        {
            case ["storage", "v1", "b", var bucket] when method == "GET":
                return _objects.GetBucketAsync(request, GcsRequest.Decode(bucket));
            case ["storage", "v1", "b", var bucket, "o"] when method == "GET":
                return _objects.ListAsync(request, GcsRequest.Decode(bucket));
            case ["storage", "v1", "b", var bucket, "o", .. var name] when name is not [""] && method is "GET" or "DELETE":
                // The name is one encoded segment (a/b as a%2Fb) or, accepted too, raw slashes.
                var objectName = GcsRequest.Decode(string.Join('/', name));
                if (method == "GET")
                {
                    return _objects.GetAsync(request, GcsRequest.Decode(bucket), objectName);
                }

                _objects.Delete(request, GcsRequest.Decode(bucket), objectName);
                return Task.CompletedTask;
            case ["upload", "storage", "v1", "b", var bucket, "o"] when method == "POST":
                return _uploads.PostAsync(request, GcsRequest.Decode(bucket));
            case ["upload", "storage", "v1", "b", var bucket, "o"] when method == "PUT":
                return _uploads.PutAsync(request, GcsRequest.Decode(bucket));
            case ["upload", "storage", "v1", "b", var bucket, "o"] when method == "DELETE":
                _uploads.Cancel(request, GcsRequest.Decode(bucket));
                return Task.CompletedTask;
            default:
                throw GcsError.NotImplemented($"{method} {request.Path}");
        }
    }

    private RequestKind Classify(GcsRequest request)
    {
        var segments = request.Segments;
        if (segments is ["upload", ..])
        {
            if (request.Method == "POST" && request.String("uploadType") == "resumable" && request.String("upload_id") is null)
            {
                Counters.ResumableInitiation();
                return RequestKind.Initiation;
            }

            if (request.Method == "PUT" && request.Header("Content-Range").StartsWith("bytes */", StringComparison.OrdinalIgnoreCase))
            {
                Counters.StatusQuery();
            }

            return RequestKind.Other;
        }

        var path = segments is ["download", .. var rest] ? rest : segments;
        if (request.Method == "GET" && request.String("alt") == "media" && path is ["storage", "v1", "b", _, "o", _, ..])
        {
            Counters.Download();
            return RequestKind.Download;
        }

        return RequestKind.Other;
    }

    private enum RequestKind
    {
        Other,
        Initiation,
        Download,
    }
}
