using System.Net;

using Polly.Timeout;

using static Konduktor.Storage.Tests.ResilienceTestSupport;

namespace Konduktor.Storage.Tests;

public sealed class ResilienceClassificationTests
{
    [Theory]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    [InlineData(412, false)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public void IsTransient_HttpStatus_OnlyTimeoutsThrottlingAndServerErrors(int status, bool transient)
    {
        var error = new HttpRequestException("failed", null, (HttpStatusCode)status);

        Assert.Equal(transient, TransientFailure.IsTransient(error));
    }

    [Theory]
    [InlineData("store-503", "transient")]
    [InlineData("http-503", "server-error")]
    [InlineData("http-429", "throttled")]
    [InlineData("http-no-status", "connection")]
    [InlineData("socket", "connection")]
    [InlineData("io-socket", "connection")]
    [InlineData("http-body-ended", "connection")]
    [InlineData("timeout", "timeout")]
    public void Cause_TransientFault_HasLowCardinalityName(string kind, string cause)
    {
        var error = Fault(kind);

        Assert.True(TransientFailure.IsTransient(error));
        Assert.Equal(cause, TransientFailure.Cause(error));
    }

    [Fact]
    public void IsTransient_CancellationByCaller_IsNot()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.False(TransientFailure.IsTransient(new OperationCanceledException(cts.Token), cts.Token));
        Assert.False(TransientFailure.IsTransient(new OperationCanceledException("timed out", new TimeoutException()), cts.Token));
    }

    [Fact]
    public void IsTransient_HttpClientTimeoutAndAttemptTimeout_Are()
    {
        Assert.True(TransientFailure.IsTransient(new TaskCanceledException("timed out", new TimeoutException())));
        Assert.True(TransientFailure.IsTransient(new TimeoutRejectedException()));
    }

    [Fact]
    public void IsTransient_IOExceptionWithoutSocketCause_IsNot()
    {
        Assert.False(TransientFailure.IsTransient(new IOException("disk full")));
        Assert.False(TransientFailure.IsTransient(new CheckpointConfigurationException("k", "v", "x")));
    }
}
