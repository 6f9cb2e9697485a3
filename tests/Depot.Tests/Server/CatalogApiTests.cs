using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Serving;
using Depot.Tests.Catalog;
using Depot.Tests.Cli;

namespace Depot.Tests.Server;

/// <summary>
/// The catalog's JSON API on a real <c>depot serve</c> (Kestrel on 127.0.0.1): the documents and their field names
/// (a spec as <c>depot list --json</c> prints it), no-cache with ETags, Server-Timing on searches, 400 naming a bad
/// parameter, and access: anonymous visitors see public caches only, an unknown and a private cache answer alike.
/// </summary>
public class CatalogApiTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(HttpResponseMessage Response, JsonNode? Json)> GetAsync(HttpClient client, string path,
        string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var response = await client.SendAsync(request, Token);
        var text = await response.Content.ReadAsStringAsync(Token);
        return (response, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    [Fact]
    public async Task CachesAreListedWithTheirCountsAndAnswersRevalidateByETag()
    {
        await using var server = await RunningServer.StartAsync(TestData.Path(TestData.V3Signed),
            TestData.Path(TestData.V2Unsigned));

        var (response, json) = await GetAsync(server.Client, "/api/v1/caches");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
        var caches = json!.AsArray();
        Assert.Equal(["mirror-signed", "mirror-unsigned"], caches.Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal((5, 5, 3), (caches[0]!["specs"]!.GetValue<int>(), caches[0]!["packages"]!.GetValue<int>(),
            caches[0]!["layouts"]![0]!.GetValue<int>()));
        Assert.Equal((3, 2), (caches[1]!["specs"]!.GetValue<int>(), caches[1]!["layouts"]![0]!.GetValue<int>()));
        Assert.True(caches[0]!["public"]!.GetValue<bool>());
        Assert.True(caches[0]!["total_bytes"]!.GetValue<long>() > 0);
        Assert.EndsWith("Z", caches[0]!["last_push"]!.GetValue<string>(), StringComparison.Ordinal);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/caches");
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var revalidated = await server.Client.SendAsync(again, Token);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task ASearchAnswersRowsFacetsAndItsTime()
    {
        await using var server = await RunningServer.StartAsync(TestData.Path(TestData.V3Signed));

        var (response, json) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/search?q=gre&limit=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("search;dur=", response.Headers.GetValues("Server-Timing").Single(),
            StringComparison.Ordinal);
        Assert.Equal(2, json!["total"]!.GetValue<int>());
        Assert.True(json["took_ms"]!.GetValue<double>() >= 0);
        var row = json["specs"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["name", "version", "hash", "namespace", "arch", "platform", "os", "target", "compiler",
            "variants", "layout"], row.Select(p => p.Key));
        Assert.Equal(("greet", CacheCatalogTests.GreetV3, "debian12"), (row["name"]!.GetValue<string>(),
            row["hash"]!.GetValue<string>(), row["os"]!.GetValue<string>()));
        Assert.Equal(JsonValueKind.String, row["variants"]!.GetValueKind());
        var arch = json["facets"]!["arch"]!.AsArray().Single()!;
        Assert.Equal(("linux-debian12-x86_64", 2), (arch["value"]!.GetValue<string>(), arch["count"]!.GetValue<int>()));
        Assert.NotNull(json["facets"]!["os"]);
        Assert.NotNull(json["facets"]!["compiler"]);

        var (filtered, none) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/search?q=gre&os=rhel9");
        Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
        Assert.Equal(0, none!["total"]!.GetValue<int>());

        var (bad, error) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/search?limit=501");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.StartsWith("limit: ", error!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        var (badTerm, _) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/search?q=/0");
        Assert.Equal(HttpStatusCode.BadRequest, badTerm.StatusCode);
    }

    [Fact]
    public async Task PackagesKeysAndActivityAnswerTheirDocuments()
    {
        await using var server = await RunningServer.StartAsync(TestData.Path(TestData.V3Signed));

        var (_, packages) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/packages?offset=1&limit=2");
        var (_, package) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/packages/libgreet");
        var (missing, _) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/packages/zlib");
        var (_, keys) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/keys");
        var (_, activity) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/activity?limit=2");

        Assert.Equal(5, packages!["total"]!.GetValue<int>());
        Assert.Equal(["gcc-runtime", "greet"], packages["packages"]!.AsArray()
            .Select(p => p!["name"]!.GetValue<string>()));
        Assert.Equal("1.0.0", packages["packages"]![1]!["versions"]![0]!.GetValue<string>());
        Assert.Equal(CacheCatalogTests.LibgreetV3, package!["specs"]![0]!["hash"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var key = keys!.AsArray().Single()!;
        Assert.Equal((CacheCatalogTests.Fingerprint, false), (key["fingerprint"]!.GetValue<string>(),
            key["trusted"]!.GetValue<bool>()));
        using var download = await server.Client.GetAsync("/mirror-signed/" + key["download"]!.GetValue<string>(),
            Token);
        Assert.StartsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----", await download.Content.ReadAsStringAsync(Token),
            StringComparison.Ordinal);
        Assert.Equal(2, activity!.AsArray().Count);
        Assert.NotNull(activity[0]!["pushed_at"]);
    }

    [Fact]
    public async Task ASpecIsDepotListsJsonObjectPlusWhatItsPageShows()
    {
        await using var server = await RunningServer.StartAsync(TestData.Path(TestData.V3Signed));
        using var home = new TempDir();
        var (_, listed, _) = await CliRun.RunAsync(home.Path, "list", "--json", TestData.Path(TestData.V3Signed),
            "libgreet");
        var expected = JsonNode.Parse(listed)!.AsArray().Single()!.AsObject();

        var (response, json) = await GetAsync(server.Client,
            "/api/v1/caches/mirror-signed/specs/" + CacheCatalogTests.LibgreetV3);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var spec = json!.AsObject();
        foreach (var (name, value) in expected)
        {
            Assert.True(JsonNode.DeepEquals(value, spec[name]), $"{name}: {value?.ToJsonString()} vs "
                + spec[name]?.ToJsonString());
        }

        var dependent = spec["dependents"]!.AsArray().Single()!;
        Assert.Equal(("greet", "build, link"), (dependent["name"]!.GetValue<string>(),
            dependent["types"]!.GetValue<string>()));
        Assert.True(spec["compressed_bytes"]!.GetValue<long>() > 0);
        Assert.True(spec["uncompressed_bytes"]!.GetValue<long>() > spec["compressed_bytes"]!.GetValue<long>());
        Assert.Equal("untrusted", spec["signature"]!["state"]!.GetValue<string>()); // the server's home trusts no key
        Assert.Equal(CacheCatalogTests.Fingerprint, spec["signature"]!["fingerprint"]!.GetValue<string>());
        Assert.NotNull(spec["pushed_at"]);
        var url = new Uri(server.BaseUrl, "mirror-signed/").ToString();
        Assert.Equal(url, spec["install"]!["mirror_url"]!.GetValue<string>());
        Assert.Contains($"spack mirror add mirror-signed {url} && ", spec["install"]!["spack"]!.GetValue<string>(),
            StringComparison.Ordinal);

        var (unknown, _) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/specs/" + new string('a', 32));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var (malformed, error) = await GetAsync(server.Client, "/api/v1/caches/mirror-signed/specs/nothash");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.StartsWith("hash: ", error!["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnonymousVisitorsSeePublicCachesOnlyAndCannotTellPrivateFromUnknown()
    {
        await using var server = await TokenServer.StartAsync([
            new ServedCacheConfig("open", TestData.Path(TestData.V3Unsigned)) { Public = true },
            new ServedCacheConfig("secret", TestData.Path(TestData.V2Unsigned)),
        ]);
        using var client = new HttpClient { BaseAddress = server.Server.BaseUrls[0] };
        var token = await server.TokenAsync("secret", TokenScope.Read);
        var other = await server.TokenAsync("open", TokenScope.Read);

        var (_, anonymous) = await GetAsync(client, "/api/v1/caches");
        var (_, withToken) = await GetAsync(client, "/api/v1/caches", token);
        Assert.Equal(["open"], anonymous!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Equal(["open", "secret"], withToken!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.False(withToken[1]!["public"]!.GetValue<bool>());

        foreach (var path in new[] { "search?q=greet", "packages", "specs/" + CacheCatalogTests.GreetV2, "keys" })
        {
            var (hidden, hiddenBody) = await GetAsync(client, "/api/v1/caches/secret/" + path);
            var (unknown, unknownBody) = await GetAsync(client, "/api/v1/caches/nosuch/" + path);
            Assert.Equal(HttpStatusCode.Unauthorized, hidden.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
            Assert.Equal(unknownBody!.ToJsonString().Replace("nosuch", "secret", StringComparison.Ordinal),
                hiddenBody!.ToJsonString());
            Assert.Equal(unknown.Headers.WwwAuthenticate.ToString(), hidden.Headers.WwwAuthenticate.ToString());
            Assert.Contains("No public cache named secret here", hiddenBody["error"]!.GetValue<string>(),
                StringComparison.Ordinal);
        }

        var (allowed, found) = await GetAsync(client, "/api/v1/caches/secret/search?q=greet", token);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(2, found!["total"]!.GetValue<int>());
        var (spec, detail) = await GetAsync(client, "/api/v1/caches/secret/specs/" + CacheCatalogTests.GreetV2,
            token);
        Assert.Equal(HttpStatusCode.OK, spec.StatusCode);
        Assert.DoesNotContain(token, detail!.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("_t/", detail["install"]!.ToJsonString(), StringComparison.Ordinal);
        var (forbidden, _) = await GetAsync(client, "/api/v1/caches/secret/packages", other);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var (dead, _) = await GetAsync(client, "/api/v1/caches", "dpt_nope_nope");
        Assert.Equal(HttpStatusCode.Unauthorized, dead.StatusCode);
    }
}
