using System.Net;
using System.Net.Sockets;

using Amazon.Runtime;
using Amazon.S3;

using Microsoft.Extensions.Time.Testing;

namespace Konduktor.Storage.S3.Tests;

/// <summary>How SDK and network failures become the store's exceptions; no server needed.</summary>
public sealed class S3ErrorMapperTests
{
    private static readonly Uri Location = new("s3://bucket/prefix/");

    private readonly S3ErrorMapper _mapper = new(Location, "bucket", "http://127.0.0.1:9/", "profile 'p' in /creds", new FakeTimeProvider());

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "InternalError")]
    [InlineData(HttpStatusCode.BadGateway, "")]
    [InlineData(HttpStatusCode.ServiceUnavailable, "SlowDown")]
    [InlineData(HttpStatusCode.GatewayTimeout, "")]
    [InlineData(HttpStatusCode.TooManyRequests, "")]
    [InlineData(HttpStatusCode.RequestTimeout, "")]
    [InlineData(HttpStatusCode.BadRequest, "RequestTimeout")]
    [InlineData(HttpStatusCode.Conflict, "ConditionalRequestConflict")]
    public void Map_TransientAnswers_BecomeTransient(HttpStatusCode status, string code)
    {
        var mapped = _mapper.Map(S3Error(status, code), "PUT", "k");

        var transient = Assert.IsType<TransientStoreException>(mapped);
        Assert.Contains("PUT of 'k'", transient.Message, StringComparison.Ordinal);
        Assert.True(TransientFailureIsRetried(transient));
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, "AccessDenied")]
    [InlineData(HttpStatusCode.Forbidden, "SignatureDoesNotMatch")]
    [InlineData(HttpStatusCode.Forbidden, "InvalidAccessKeyId")]
    [InlineData(HttpStatusCode.BadRequest, "ExpiredToken")]
    public void Map_RefusedCredentials_BecomeAccessDeniedNamingTheSource(HttpStatusCode status, string code)
    {
        var mapped = Assert.IsType<StoreAccessDeniedException>(_mapper.Map(S3Error(status, code), "GET", "k"));

        Assert.Equal("profile 'p' in /creds", mapped.CredentialSource);
        Assert.Contains(code, mapped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_NoSuchBucket_NamesBucketAndEndpointAndIsNotRetried()
    {
        var mapped = _mapper.Map(S3Error(HttpStatusCode.NotFound, "NoSuchBucket"), "PUT", "k");

        Assert.IsType<CheckpointStorageException>(mapped);
        Assert.Contains("'bucket' does not exist at http://127.0.0.1:9/", mapped.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NoSuchKey")]
    [InlineData("NotFound")]
    [InlineData("")]
    public void Map_NotFound_BecomesObjectNotFound(string code)
    {
        var mapped = Assert.IsType<ObjectNotFoundException>(_mapper.Map(S3Error(HttpStatusCode.NotFound, code), "GET", "a/b"));

        Assert.Equal("a/b", mapped.Key);
        Assert.Equal(Location, mapped.Location);
    }

    [Fact]
    public void Map_PreconditionFailed_CarriesTheReason()
    {
        var mapped = Assert.IsType<PreconditionFailedException>(_mapper.Map(S3Error(HttpStatusCode.PreconditionFailed, "PreconditionFailed"), "PUT", "m", "it already exists"));

        Assert.Equal("m", mapped.Key);
        Assert.Contains("it already exists", mapped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_OtherClientError_IsPermanent()
    {
        var mapped = _mapper.Map(S3Error(HttpStatusCode.BadRequest, "InvalidArgument"), "PUT", "k");

        Assert.IsType<CheckpointStorageException>(mapped);
        Assert.Contains("InvalidArgument", mapped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_NetworkFailures_BecomeTransient()
    {
        Assert.IsType<TransientStoreException>(_mapper.Map(new HttpRequestException("reset"), "GET", "k"));
        Assert.IsType<TransientStoreException>(_mapper.Map(new IOException("reset", new SocketException((int)SocketError.ConnectionReset)), "GET", "k"));
        Assert.IsType<TransientStoreException>(_mapper.Map(new AmazonClientException("wrapped", new HttpRequestException("refused")), "GET", "k"));
        Assert.IsType<TransientStoreException>(_mapper.Map(new TaskCanceledException("timeout", new TimeoutException()), "GET", "k"));
    }

    [Fact]
    public void Map_CallersCancellationAndOwnExceptions_PassThrough()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Null(_mapper.Map(new OperationCanceledException(cts.Token), "GET", "k", cancellationToken: cts.Token));
        Assert.Null(_mapper.Map(new ObjectNotFoundException(Location, "k"), "GET", "k"));
        Assert.Null(_mapper.Map(new ArgumentException("bad"), "GET", "k"));
    }

    private static AmazonS3Exception S3Error(HttpStatusCode status, string code) =>
        new($"server said {code}", ErrorType.Sender, code, "request-id", status);

    private static bool TransientFailureIsRetried(Exception exception)
    {
        // The policy's own classification decides what it retries.
        var policy = new StoreRetryPolicy(new ResilienceOptions { MaxRetryAttempts = 1, BaseDelay = TimeSpan.FromMilliseconds(1) });
        var attempts = 0;
        var ex = Assert.ThrowsAsync<RetriesExhaustedException>(() => policy.ExecuteAsync("t", _ =>
        {
            attempts++;
            return Task.FromException<bool>(exception);
        })).GetAwaiter().GetResult();
        return ex.Attempts == 2 && attempts == 2;
    }
}
