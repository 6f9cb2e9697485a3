using Depot.Operations;
using Depot.Storage.Oci;
using Depot.Tests.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// <c>push</c> to a registry nobody listens on (a free 127.0.0.1 port): the run ends with the first "cannot reach"
/// error, of kind I/O, instead of retrying and failing every package one by one.
/// </summary>
public class UnreachablePushTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task PushStopsAtTheFirstRequestThatCannotReachTheRegistry(int parallelism)
    {
        var port = TestServer.FreePort();
        using var store = new OciStore(OciReference.Parse($"oci+http://127.0.0.1:{port}/depot/gone"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<DepotException>(() => PushOperationTests.PushAsync(
            TestData.Path("spack-1.2/install-tree"), Mirror.Of(store, layout: PushLayout.Oci),
            new PushOptions(Parallelism: parallelism)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(ErrorKind.IO, e.Kind);
        Assert.True(ErrorKinds.IsUnreachable(e), e.ToString());
        Assert.Contains($"cannot reach registry 127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnHttpErrorStatusIsNotTakenForAnUnreachableStore()
    {
        // A server that answered (even with an error) was reached: such failures stay per entry.
        Assert.False(ErrorKinds.IsUnreachable(new DepotException(ErrorKind.IO, "GET x: 500",
            new HttpRequestException("500", null, System.Net.HttpStatusCode.InternalServerError))));
        Assert.True(ErrorKinds.IsUnreachable(new DepotException(ErrorKind.IO, "GET x: refused",
            new HttpRequestException(HttpRequestError.ConnectionError, "refused",
                new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)))));
    }
}
