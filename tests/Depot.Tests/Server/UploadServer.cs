using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Depot.Configuration;
using Depot.Formats;
using Depot.Layout;
using Depot.Operations;
using Depot.Server;
using Depot.Serving;
using Depot.Storage;
using Depot.Storage.Providers;

namespace Depot.Tests.Server;

/// <summary>
/// A real <c>depot serve</c> (Kestrel on a free port) over caches of a temporary Depot home, a token of
/// <see cref="TokenScope.Push"/> scope made for each cache (sent as Bearer to the cache a request names), and a small
/// pusher speaking the upload API.
/// </summary>
internal sealed class UploadServer : IAsyncDisposable
{
    private readonly TempDir home;

    private UploadServer(TempDir home, DepotServer server, Dictionary<string, string> tokens,
        Dictionary<string, string> adminTokens)
    {
        this.home = home;
        Server = server;
        Tokens = tokens;
        AdminTokens = adminTokens;
        Client = new HttpClient(new TokenPerCache(tokens))
        {
            BaseAddress = server.BaseUrls[0],
            Timeout = TimeSpan.FromMinutes(2),
        };
    }

    /// <summary>The push token of each cache.</summary>
    public IReadOnlyDictionary<string, string> Tokens { get; }

    /// <summary>An admin token of each cache (not sent unless a test does).</summary>
    public IReadOnlyDictionary<string, string> AdminTokens { get; }

    public DepotServer Server { get; }

    public HttpClient Client { get; }

    public string Home => home.Path;

    /// <summary>
    /// Starts a server for <paramref name="caches"/>; <paramref name="withFixtureKey"/> puts the fixture key pair in
    /// the server's keyring; <paramref name="stores"/> opens mirrors by URL instead of the built-in providers.
    /// </summary>
    public static async Task<UploadServer> StartAsync(IReadOnlyList<ServedCacheConfig> caches, bool withFixtureKey,
        ServeLimits? limits = null, Func<string, IStoreReader?>? stores = null)
    {
        var home = new TempDir();
        if (withFixtureKey)
        {
            TestData.FixtureKeyring(home.Path);
        }

        var access = MirrorAccess.Default with
        {
            OpenStore = request => stores?.Invoke(request.NameOrUrl) ?? MirrorAccess.Default.OpenStore(request),
        };
        var engine = new EngineContext(new DepotHome(home.Path), StoreProviders.Builtin, access);
        var config = new ServeConfig(["127.0.0.1:0"], null, Path.Combine(home.Path, "tokens.json"),
            limits ?? new ServeLimits(), caches, null);
        var tokenStore = new TokenStore(config.TokensFile);
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        var adminTokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var cache in caches)
        {
            adminTokens[cache.Name] = (await tokenStore.CreateAsync(cache.Name, TokenScope.Admin, null, "test admin",
                TestContext.Current.CancellationToken)).Text;
            tokens[cache.Name] = (await tokenStore.CreateAsync(cache.Name, TokenScope.Push, null, "test pusher",
                TestContext.Current.CancellationToken)).Text;
        }

        var server = DepotServer.Create(ServedCaches.Open(engine, config), null, tokenStore);
        await server.StartAsync(TestContext.Current.CancellationToken);
        return new UploadServer(home, server, tokens, adminTokens);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.StopAsync(CancellationToken.None);
        await Server.DisposeAsync();
        home.Dispose();
    }

    public static string ApiUrl(string cache, string path) => $"/{cache}/_depot/v1/{path}";

    public Task<HttpResponseMessage> PutBlobAsync(string cache, byte[] blob, string? hex = null,
        string? contentRange = null)
    {
        var content = new ByteArrayContent(blob);
        if (contentRange is not null)
        {
            content.Headers.ContentRange = ContentRangeHeaderValue.Parse(contentRange);
        }

        return Client.PutAsync(ApiUrl(cache, "blobs/sha256/" + (hex ?? Hex(blob))), content,
            TestContext.Current.CancellationToken);
    }

    public Task<HttpResponseMessage> CommitAsync(string cache, string key, byte[] manifest) =>
        Client.PutAsync(ApiUrl(cache, "manifests/" + key), new ByteArrayContent(manifest),
            TestContext.Current.CancellationToken);

    public async Task<IReadOnlyList<string>> MissingAsync(string cache, IEnumerable<string> digests)
    {
        var body = JsonSerializer.Serialize(new JsonObject
        {
            ["digests"] = new JsonArray(digests.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
        });
        using var response = await Client.PostAsync(ApiUrl(cache, "blobs/missing"),
            new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("missing").EnumerateArray()
            .Select(e => e.GetString()!).ToList();
    }

    /// <summary>Uploads an entry's blobs (those missing) and commits its manifest, as a pusher does.</summary>
    public async Task<HttpResponseMessage> PushAsync(string cache, PushedEntry entry)
    {
        var missing = await MissingAsync(cache, entry.Blobs.Keys.Select(h => "sha256:" + h));
        foreach (var digest in missing)
        {
            using var put = await PutBlobAsync(cache, entry.Blobs[digest[7..]]);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        return await CommitAsync(cache, entry.Key, entry.Manifest);
    }

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>Sends the token of the cache a request's path names (its first segment), as a pusher would.</summary>
internal sealed class TokenPerCache(IReadOnlyDictionary<string, string> tokens) : DelegatingHandler(
    new HttpClientHandler())
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        var cache = request.RequestUri!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault();
        if (request.Headers.Authorization is null && cache is not null && tokens.TryGetValue(cache, out var token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>An entry to push: its manifest key and bytes, and its blobs by sha256.</summary>
internal sealed record PushedEntry(string Key, byte[] Manifest, IReadOnlyDictionary<string, byte[]> Blobs)
{
    /// <summary>
    /// An entry of a fixture mirror (v3): the manifest as stored (signed in a signed mirror), and the blobs present.
    /// </summary>
    public static PushedEntry FromFixture(string mirror, string name)
    {
        var root = TestData.Path(mirror);
        var file = Directory.EnumerateFiles(Path.Combine(root, "v3", "manifests", "spec", name)).Single();
        var bytes = File.ReadAllBytes(file);
        var manifest = BuildCacheManifest.Parse(bytes, file);
        var blobs = new Dictionary<string, byte[]>();
        foreach (var record in manifest.Records)
        {
            var path = Path.Combine(root, record.BlobKey);
            if (File.Exists(path))
            {
                blobs[record.Checksum] = File.ReadAllBytes(path);
            }
        }

        return new PushedEntry(Path.GetRelativePath(root, file), bytes, blobs);
    }

    /// <summary>The same entry with its manifest's signature taken off.</summary>
    public PushedEntry Unsigned() => this with
    {
        Manifest = ClearSignedMessage.LooksClearSigned(Manifest)
            ? Encoding.UTF8.GetBytes(ClearSignedMessage.Parse(Encoding.UTF8.GetString(Manifest), Key).Body)
            : Manifest,
    };

    /// <summary>
    /// A new entry made from the fixture's greet-data: its version set to <paramref name="version"/> (so a new DAG
    /// hash), a small unique tarball, unsigned.
    /// </summary>
    public static PushedEntry Synthetic(string version)
    {
        var template = FromFixture(TestData.V3Unsigned, "greet-data");
        var manifest = BuildCacheManifest.Parse(template.Manifest, template.Key);
        var specRecord = manifest.Find(MediaTypes.SpecPrefix, prefix: true)!;
        var json = JsonNode.Parse(Gzip.Decompress(template.Blobs[specRecord.Checksum], "fixture"))!;
        var node = json["spec"]!["nodes"]![0]!;
        node["version"] = version;
        using (var doc = JsonDocument.Parse(json.ToJsonString()))
        {
            node["hash"] = Depot.Specs.DagHash.Compute(doc.RootElement.GetProperty("spec").GetProperty("nodes")[0]);
        }

        var spec = SpackGzip.Compress(Encoding.UTF8.GetBytes(json.ToJsonString()));
        var tarball = Encoding.UTF8.GetBytes($"not really a tarball, greet-data {version} {Guid.NewGuid()}");
        var records = new[]
        {
            new BlobRecord(tarball.Length, MediaTypes.Tarball, "gzip", "sha256", UploadServer.Hex(tarball)),
            new BlobRecord(spec.Length, specRecord.MediaType, "gzip", "sha256", UploadServer.Hex(spec)),
        };
        var hash = node["hash"]!.GetValue<string>();
        var key = $"{BuildCacheV3.SpecManifestPrefix}greet-data/greet-data-{version}-{hash}"
            + BuildCacheV3.SpecManifestSuffix;
        return new PushedEntry(key, new BuildCacheManifest(records).ToJsonBytes(),
            new Dictionary<string, byte[]> { [records[0].Checksum] = tarball, [records[1].Checksum] = spec });
    }
}
