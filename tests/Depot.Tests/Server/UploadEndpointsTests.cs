using System.Net;
using System.Text;
using System.Text.Json;
using Depot.Formats;
using Depot.Layout;
using Depot.Operations;
using Depot.Serving;
using Depot.Storage;

namespace Depot.Tests.Server;

/// <summary>The push API of <c>depot serve</c> over a directory mirror: blobs, resumed uploads, commits, trust.
/// </summary>
public sealed class UploadEndpointsTests
{
    private const string FixtureFingerprint = "6640D90F8A1E84DD1142614C06BD5C3F48A372CC";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MissingNamesOnlyTheBlobsTheCacheDoesNotHold()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path, allowUnsigned: true)], false);
        var held = Encoding.UTF8.GetBytes("held blob");
        using (var put = await server.PutBlobAsync("c", held))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        using (var again = await server.PutBlobAsync("c", held))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var absent = "sha256:" + UploadServer.Hex("absent"u8.ToArray());
        var missing = await server.MissingAsync("c", ["sha256:" + UploadServer.Hex(held), absent, absent]);
        Assert.Equal([absent], missing);
        Assert.Equal(held, File.ReadAllBytes(Path.Combine(mirror.Path, UploadedBlobs.KeyOf(UploadServer.Hex(held)))));

        using var bad = await server.Client.PostAsync(UploadServer.ApiUrl("c", "blobs/missing"),
            new StringContent("{\"digests\": [\"md5:00\"]}"), Token);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task ABlobWhoseDigestDiffersIsRefusedAndNothingIsStored()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path, allowUnsigned: true)], false);
        var claimed = UploadServer.Hex("what was announced"u8.ToArray());
        using var put = await server.PutBlobAsync("c", "something else"u8.ToArray(), claimed);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, put.StatusCode);
        var error = JsonDocument.Parse(await put.Content.ReadAsStringAsync(Token)).RootElement;
        Assert.Equal("invalid_content", error.GetProperty("kind").GetString());
        Assert.Empty(Directory.EnumerateFiles(mirror.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AnUploadResumesWherePartsLeftOff()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path, allowUnsigned: true)], false);
        var blob = new byte[300_000];
        Random.Shared.NextBytes(blob);
        var hex = UploadServer.Hex(blob);
        using (var head = await Head(server, hex))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }

        using (var first = await server.PutBlobAsync("c", blob[..100_000], hex, "bytes 0-99999/300000"))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.Equal("100000", first.Headers.GetValues("Upload-Offset").Single());
        }

        using (var head = await Head(server, hex))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal("100000", head.Headers.GetValues("Upload-Offset").Single());
        }

        Assert.False(File.Exists(Path.Combine(mirror.Path, UploadedBlobs.KeyOf(hex))));
        using (var gap = await server.PutBlobAsync("c", blob[200_000..], hex, "bytes 200000-299999/300000"))
        {
            Assert.Equal(HttpStatusCode.Conflict, gap.StatusCode);
        }

        using (var rest = await server.PutBlobAsync("c", blob[100_000..], hex, "bytes 100000-299999/300000"))
        {
            Assert.Equal(HttpStatusCode.Created, rest.StatusCode);
        }

        Assert.Equal(blob, File.ReadAllBytes(Path.Combine(mirror.Path, UploadedBlobs.KeyOf(hex))));
        Assert.Equal(blob, await server.Client.GetByteArrayAsync("/c/" + UploadedBlobs.KeyOf(hex), Token));
        using var done = await Head(server, hex);
        Assert.Equal(HttpStatusCode.NotFound, done.StatusCode);
    }

    [Fact]
    public async Task AManifestNamingAMissingBlobIsRefusedWithTheDigest()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path, allowUnsigned: true)], false);

        // The fixture leaves gcc-runtime's tarball out: only its spec blob can be uploaded.
        var entry = PushedEntry.FromFixture(TestData.V3Unsigned, "gcc-runtime");
        var tarball = BuildCacheManifest.Parse(entry.Manifest, entry.Key).Find(MediaTypes.Tarball)!;
        using var response = await server.PushAsync("c", entry);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement;
        Assert.Equal(["sha256:" + tarball.Checksum],
            body.GetProperty("missing").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(tarball.Checksum, body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(mirror.Path, entry.Key)));
    }

    [Fact]
    public async Task SignaturesAreCheckedAgainstTheCachesTrust()
    {
        using var strict = new TempDir();
        using var open = new TempDir();
        using var pinned = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("strict", strict.Path),
            Cache("open", open.Path, allowUnsigned: true),
            Cache("pinned", pinned.Path) with { TrustedFingerprints = ["0123456789ABCDEF0123456789ABCDEF01234567"] }],
            withFixtureKey: false);
        var signed = PushedEntry.FromFixture(TestData.V3Signed, "greet-data");

        // The server's keyring does not hold the fixture key: its signature is not trusted, even where unsigned
        // entries are accepted.
        foreach (var cache in new[] { "strict", "open" })
        {
            using var untrusted = await server.PushAsync(cache, signed);
            Assert.Equal(HttpStatusCode.Forbidden, untrusted.StatusCode);
            Assert.Equal("trust", Kind(await untrusted.Content.ReadAsStringAsync(Token)));
        }

        using (var pinnedElsewhere = await server.PushAsync("pinned", signed))
        {
            Assert.Equal(HttpStatusCode.Forbidden, pinnedElsewhere.StatusCode);
        }

        using var unsignedStrict = await server.PushAsync("strict", signed.Unsigned());
        Assert.Equal(HttpStatusCode.Forbidden, unsignedStrict.StatusCode);
        Assert.Contains("not signed", await unsignedStrict.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(strict.Path, signed.Key)));

        using var unsignedOpen = await server.PushAsync("open", signed.Unsigned());
        Assert.Equal(HttpStatusCode.Created, unsignedOpen.StatusCode);
        Assert.False(ClearSignedMessage.LooksClearSigned(File.ReadAllBytes(Path.Combine(open.Path, signed.Key))));
    }

    [Fact]
    public async Task ATrustedSignatureIsStoredAsPushed()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync(
            [Cache("c", mirror.Path) with { TrustedFingerprints = [FixtureFingerprint] }], withFixtureKey: true);
        var signed = PushedEntry.FromFixture(TestData.V3Signed, "greet-data");
        using var response = await server.PushAsync("c", signed);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement;
        Assert.Equal(FixtureFingerprint, body.GetProperty("signed_by").GetString());
        Assert.False(body.GetProperty("signed_by_server").GetBoolean());
        Assert.Equal(signed.Manifest, File.ReadAllBytes(Path.Combine(mirror.Path, signed.Key)));
    }

    [Fact]
    public async Task TheServerSignsWithTheCachesKeyAndPublishesIt()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync(
            [Cache("c", mirror.Path) with { SignWith = FixtureFingerprint }], withFixtureKey: true);
        using (var info = await server.Client.GetAsync(UploadServer.ApiUrl("c", "info"), Token))
        {
            var json = JsonDocument.Parse(await info.Content.ReadAsStringAsync(Token)).RootElement;
            Assert.Equal("server", json.GetProperty("signing").GetString());
            Assert.Equal(3, json.GetProperty("layout").GetInt32());
            Assert.Equal("push", json.GetProperty("scope").GetString());
            Assert.False(json.GetProperty("allow_unsigned").GetBoolean());
        }

        var entry = PushedEntry.FromFixture(TestData.V3Unsigned, "greet-data");
        using var response = await server.PushAsync("c", entry);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement
            .GetProperty("signed_by_server").GetBoolean());
        Assert.True(ClearSignedMessage.LooksClearSigned(File.ReadAllBytes(Path.Combine(mirror.Path, entry.Key))));

        // A client trusting the fixture key verifies the entry; the key is published where Spack looks.
        using var clientHome = new TempDir();
        var trust = TestData.Trusting(TestData.FixtureKeyring(clientHome.Path), "served");
        var verified = await VerifyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path), trust),
            new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Select(f => f.Message)));
        Assert.Equal(1, verified.Signed);
        var published = await new BuildCacheV3(new LocalDirectoryStore(mirror.Path)).ReadPublishedKeysAsync(Token);
        Assert.Equal(FixtureFingerprint, Assert.Single(published).Fingerprint);
    }

    [Fact]
    public async Task CommittedEntriesAreIndexedAndVerify()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync(
            [Cache("c", mirror.Path) with { TrustedFingerprints = [FixtureFingerprint] }], withFixtureKey: true);
        string[] names = ["greet-data", "compiler-wrapper", "libgreet", "greet"];
        foreach (var name in names)
        {
            using var response = await server.PushAsync("c", PushedEntry.FromFixture(TestData.V3Signed, name));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var index = (await new BuildCacheV3(new LocalDirectoryStore(mirror.Path)).ReadIndexAsync(Token))!;
        Assert.Equal(names.Order(), index.CachedSpecs.Select(s => s.Name).Order());
        using var clientHome = new TempDir();
        var trust = TestData.Trusting(TestData.FixtureKeyring(clientHome.Path), "served");
        var verified = await VerifyOperation.RunAsync(Mirror.Of(new LocalDirectoryStore(mirror.Path), trust),
            new VerifyOptions([]), null, Token);
        Assert.True(verified.Ok, string.Join("; ", verified.Failures.Select(f => f.Message)));
        Assert.Equal(4, verified.Checked);
    }

    [Fact]
    public async Task AHashThatDoesNotMatchTheKeyIsRefused()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path, allowUnsigned: true)], false);
        var entry = PushedEntry.Synthetic("2.0");
        var wrongKey = entry.Key.Replace("greet-data-2.0-", "greet-data-2.0-a", StringComparison.Ordinal);
        wrongKey = wrongKey.Remove(wrongKey.LastIndexOf('-') + 33, 1);
        using var response = await server.PushAsync("c", entry with { Key = wrongKey });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("DAG hash", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodiesOverTheLimitAreRefusedWith413()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path, allowUnsigned: true)], false,
            new ServeLimits { MaxBodyBytes = 1000 });
        var blob = new byte[5000];
        using var whole = await server.PutBlobAsync("c", blob);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, whole.StatusCode);
        using var part = await server.PutBlobAsync("c", blob[..500], UploadServer.Hex(blob), "bytes 0-499/5000");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, part.StatusCode);
        Assert.Empty(Directory.EnumerateFiles(mirror.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AReadOnlyCacheRefusesPushesWith405()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync(
            [Cache("c", mirror.Path, allowUnsigned: true) with { ReadOnly = true }], false);
        using var put = await server.PutBlobAsync("c", "x"u8.ToArray());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        using var commit = await server.CommitAsync("c", PushedEntry.Synthetic("1").Key, "{}"u8.ToArray());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, commit.StatusCode);
        using var missing = await server.Client.GetAsync("/nope/_depot/v1/info", Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task PushesNeedATokenOfPushScopeForThatCache()
    {
        using var mirror = new TempDir();
        using var other = new TempDir();
        await using var server = await UploadServer.StartAsync(
            [Cache("c", mirror.Path, allowUnsigned: true), Cache("d", other.Path, allowUnsigned: true)], false);
        var blob = "guarded"u8.ToArray();
        var url = UploadServer.ApiUrl("c", "blobs/sha256/" + UploadServer.Hex(blob));
        using var anonymous = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(blob) };
        anonymous.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "dpt_x_y");
        using (var refused = await server.Client.SendAsync(anonymous, Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var otherCache = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(blob) };
        otherCache.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            server.Tokens["d"]);
        using (var refused = await server.Client.SendAsync(otherCache, Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.Empty(Directory.EnumerateFiles(mirror.Path, "*", SearchOption.AllDirectories));
        using var info = await server.Client.GetAsync(UploadServer.ApiUrl("c", "info"), Token);
        Assert.Equal("push", JsonDocument.Parse(await info.Content.ReadAsStringAsync(Token)).RootElement
            .GetProperty("scope").GetString());
    }

    [Fact]
    public async Task AnAdminPublishesAKeyAndAPusherMayNot()
    {
        using var mirror = new TempDir();
        await using var server = await UploadServer.StartAsync([Cache("c", mirror.Path)], false);
        var armored = File.ReadAllText(TestData.Path(
            "spack-1.2/mirror-signed/blobs/sha256/" + KeyBlob(TestData.Path(TestData.V3Signed))));
        var url = UploadServer.ApiUrl("c", "keys/" + FixtureFingerprint);
        using (var pusher = await server.Client.PutAsync(url, new StringContent(armored), Token))
        {
            Assert.Equal(HttpStatusCode.Forbidden, pusher.StatusCode);
        }

        var admin = server.AdminTokens["c"];
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent(armored) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
        using var published = await server.Client.SendAsync(request, Token);
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        var keys = await new BuildCacheV3(new LocalDirectoryStore(mirror.Path)).ReadPublishedKeysAsync(Token);
        Assert.Equal(FixtureFingerprint, Assert.Single(keys).Fingerprint);
    }

    private static string KeyBlob(string mirror)
    {
        var manifest = Path.Combine(mirror, "v3/manifests/key", FixtureFingerprint + ".key.manifest.json");
        var record = BuildCacheManifest.Parse(File.ReadAllBytes(manifest), manifest).Find(MediaTypes.Key)!;
        return record.Checksum[..2] + "/" + record.Checksum;
    }

    internal static ServedCacheConfig Cache(string name, string mirror, bool allowUnsigned = false) =>
        new(name, mirror) { AllowUnsigned = allowUnsigned, Public = true };

    private static string? Kind(string json) => JsonDocument.Parse(json).RootElement.GetProperty("kind").GetString();

    private static Task<HttpResponseMessage> Head(UploadServer server, string hex) =>
        server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head,
            UploadServer.ApiUrl("c", "uploads/sha256/" + hex)), Token);
}
