using System.Net;
using Depot.Signing;
using Depot.Storage;
using Depot.Storage.Oci;

namespace Depot.Tests;

/// <summary>The kinds the engine gives its errors, the tokens hosts print, the hints that replace CLI prose.</summary>
public sealed class ErrorKindTests
{
    [Fact]
    public void EachExceptionTypeHasItsKind()
    {
        Assert.Equal(ErrorKind.InvalidContent, new DepotException("x").Kind); // the default: something read is wrong
        Assert.Equal(ErrorKind.InvalidContent, new InvalidContentException("f", "bad").Kind);
        Assert.Equal(ErrorKind.NotFound, new StoreObjectNotFoundException("k").Kind);
        Assert.Equal(ErrorKind.NotFound, new Depot.Layout.NoBuildCacheException("/m").Kind);
        Assert.Equal(ErrorKind.Trust, new SignatureException("f", SignatureFailure.BadSignature, "bad").Kind);
        Assert.Equal(ErrorKind.Authentication, new OciAuthException("no login").Kind);
        static ErrorKind Registry(HttpStatusCode status) =>
            new OciRegistryException(HttpMethod.Get, new Uri("http://r/v2/x"), status, "").Kind;
        Assert.Equal(ErrorKind.NotFound, Registry(HttpStatusCode.NotFound));
        Assert.Equal(ErrorKind.IO, Registry(HttpStatusCode.BadGateway));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, ErrorKind.Authentication)]
    [InlineData(HttpStatusCode.Forbidden, ErrorKind.Authentication)]
    [InlineData(HttpStatusCode.NotFound, ErrorKind.NotFound)]
    [InlineData(HttpStatusCode.PreconditionFailed, ErrorKind.Conflict)]
    [InlineData(HttpStatusCode.MethodNotAllowed, ErrorKind.Unsupported)]
    [InlineData(HttpStatusCode.TooManyRequests, ErrorKind.IO)]
    [InlineData(HttpStatusCode.ServiceUnavailable, ErrorKind.IO)]
    [InlineData(HttpStatusCode.BadRequest, ErrorKind.InvalidContent)]
    public void HttpStatusesMapToKinds(HttpStatusCode status, ErrorKind kind) =>
        Assert.Equal(kind, ErrorKinds.OfHttpStatus(status));

    [Fact]
    public void NamesAreStableSnakeCaseTokens()
    {
        string[] names =
            ["usage", "not_found", "authentication", "trust", "conflict", "invalid_content", "unsupported", "io"];
        Assert.Equal(names,
            Enum.GetValues<ErrorKind>().Select(k => k.Name()));
        Assert.Equal("trust_mirror_key", ErrorHint.TrustMirrorKey("m", "F").ActionName);
        Assert.Equal(ErrorKind.IO, ErrorKinds.Of(new IOException("disk")));
        Assert.Null(ErrorKinds.Of(new ArgumentException("a bug")));
    }

    [Fact]
    public void OnlyUsageAndAuthenticationStopARunOverEntries() =>
        Assert.Equal([ErrorKind.Usage, ErrorKind.Authentication],
            Enum.GetValues<ErrorKind>().Where(k => !k.ConcernsOneEntry()));

    [Fact]
    public void TrustFailuresHintAtTheFixInsteadOfSpellingACommand()
    {
        var policy = new TrustPolicy("team", new SignatureVerifier([]), requireSignature: true);
        var untrusted = new SignatureException("f", SignatureFailure.UntrustedKey, "not trusted",
            signerFingerprint: "F");
        Assert.Equal("team: e: f: not trusted", policy.Explain("e", untrusted));
        Assert.Equal(ErrorHint.TrustMirrorKey("team", "F").Arguments, policy.HintFor(untrusted)!.Arguments);
        var unsigned = new SignatureException("f", SignatureFailure.Unsigned, "not signed");
        Assert.Equal(HintAction.AllowUnsigned, policy.HintFor(unsigned)!.Action);
        var tampered = new SignatureException("f", SignatureFailure.BadSignature, "BAD signature");
        Assert.Null(policy.HintFor(tampered));
        Assert.EndsWith("re-push it from a trusted source", policy.Explain("e", tampered), StringComparison.Ordinal);
    }
}
