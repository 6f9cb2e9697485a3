using Depot.Operations;
using Depot.Storage;
using Depot.Storage.S3;

namespace Depot.Tests.Storage;

/// <summary>The store contract against a real S3 server (s3rver); every test gets its own prefix in the
/// bucket.</summary>
public sealed class S3StoreTests(S3rver server) : StoreContractTests, IClassFixture<S3rver>
{
    protected override IObjectStore CreateStore() =>
        new S3Store(S3rver.Bucket, "mirror-" + Guid.NewGuid().ToString("N")[..8],
            new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));

    [Fact]
    public async Task RangesAreTheResponseBodyNotABufferedCopy()
    {
        // A ranged GET hands back the SDK's response stream: the bytes arrive as they are read, never held whole.
        var content = new byte[8 << 20];
        new Random(3).NextBytes(content);
        await Store.WriteAllBytesAsync("blobs/big", content, Token);
        await using var range = await Store.OpenReadRangeAsync("blobs/big", 3 << 20, 4 << 20, Token);
        Assert.False(range is MemoryStream or FileStream || range.CanSeek);
        var head = new byte[1 << 16];
        await range.ReadExactlyAsync(head, Token);
        Assert.Equal(content.AsSpan(3 << 20, 1 << 16).ToArray(), head);
    }

    [Fact]
    public async Task MirrorUrlsOpenS3AndAWholeMirrorRoundTrips()
    {
        var prefix = "m-" + Guid.NewGuid().ToString("N")[..8];
        using var store = new S3Store(S3rver.Bucket, prefix, new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));
        Assert.Equal($"s3://{S3rver.Bucket}/{prefix}", store.Root);
        foreach (var file in Directory.EnumerateFiles(TestData.Path(TestData.V3Signed), "*",
            SearchOption.AllDirectories))
        {
            await using var content = File.OpenRead(file);
            await store.WriteAsync(Path.GetRelativePath(TestData.Path(TestData.V3Signed), file), content, Token);
        }

        var listed = await Depot.Operations.ListOperation.RunAsync(Mirror.Of(store),
            new Depot.Operations.ListOptions([]), null, Token);
        Assert.Equal(5, listed.Rows.Count);
        const string greetTarball = "blobs/sha256/2c/2c73d3a0d6bda497c14e96be4f083accce60c521ce2aa34ed810e69bf6982d25";
        Assert.Equal(new FileInfo(TestData.Path(TestData.V3Signed + "/" + greetTarball)).Length,
            (await store.GetInfoAsync(greetTarball, Token))!.Length);
    }

    [Fact]
    public async Task AMissingBucketIsNotFoundAndNamesTheObject()
    {
        using var store = new S3Store("no-such-bucket-here", "",
            new S3StoreOptions(server.Endpoint, "S3RVER", "S3RVER"));
        var e = await Assert.ThrowsAsync<DepotException>(() => store.WriteAllTextAsync("a", "b", Token));
        Assert.Equal(ErrorKind.NotFound, e.Kind);
        Assert.Equal("s3://no-such-bucket-here/a: no such bucket", e.Message);
    }

    [Fact]
    public async Task AnUnknownAccessKeyIsRefusedForReadAndWriteNamingTheKeyIdNeverTheSecret()
    {
        const string Secret = "not-the-secret-s3rver-knows-2f9c";
        using var store = new S3Store(S3rver.Bucket, "denied", new S3StoreOptions(server.Endpoint, "WRONGKEYID",
            Secret));
        var reads = new Func<Task>[]
        {
            () => store.GetInfoAsync("v3/layout.json", Token),
            () => store.ReadAllBytesAsync("v3/layout.json", cancellationToken: Token),
            () => store.WriteAllTextAsync("v3/layout.json", "{}", Token),
        };
        foreach (var call in reads)
        {
            var e = await Assert.ThrowsAsync<DepotException>(call);
            Assert.Equal(ErrorKind.Authentication, e.Kind);
            Assert.StartsWith($"s3://{S3rver.Bucket}/denied/v3/layout.json: access denied (", e.Message,
                StringComparison.Ordinal);
            Assert.Contains(") for access key id WRONGKEYID (the mirror's access_pair): check the credentials",
                e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public async Task AnUnreachableEndpointIsOneIOErrorNamingItWithinSeconds()
    {
        var endpoint = $"http://127.0.0.1:{TestServer.FreePort()}";
        using var store = new S3Store(S3rver.Bucket, "gone", new S3StoreOptions(endpoint, "S3RVER", "S3RVER"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<DepotException>(() => store.WriteAllTextAsync("a", "b", Token));
        Assert.Equal(ErrorKind.IO, e.Kind);
        Assert.StartsWith($"s3://{S3rver.Bucket}/gone/a: cannot reach the S3 endpoint {endpoint}: ", e.Message,
            StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task AConfiguredMirrorTakesItsSecretFromTheVariableItNames()
    {
        using var home = new TempDir();
        var variable = "DEPOT_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var url = $"s3://{S3rver.Bucket}/configured-{Guid.NewGuid().ToString("N")[..8]}";
        var (added, _, _) = await Depot.Tests.Cli.CliRun.RunAsync(home.Path, "mirror", "add", "s3m", url,
            "--s3-endpoint-url", server.Endpoint,
            "--s3-access-key-id", "S3RVER", "--s3-access-key-secret-variable", variable, "--unsigned");
        Assert.Equal(0, added);
        Assert.DoesNotContain("S3RVER\n",
            File.ReadAllText(Path.Combine(home.Path, "config.yaml"))
                .Replace("id: S3RVER", "", StringComparison.Ordinal), StringComparison.Ordinal);

        var (missing, _, err) = await Depot.Tests.Cli.CliRun.RunAsync(home.Path, "push", "s3m", "greet-data",
            "--install-tree", TestData.Path("spack-0.21/install-tree"));
        Assert.Equal(Depot.Cli.ExitCodes.Usage, missing);
        Assert.Contains($"environment variable {variable} is not set", err, StringComparison.Ordinal);

        var variables = new Dictionary<string, string> { [variable] = "S3RVER" };
        var (pushed, output, pushErr) = await Depot.Tests.Cli.CliRun.RunAsync(home.Path, variables, "push", "s3m",
            "greet-data", "--install-tree", TestData.Path("spack-0.21/install-tree"));
        Assert.True(pushed == 0, pushErr);
        Assert.Contains("pushed 1,", output, StringComparison.Ordinal);
        var (listed, specs, _) = await Depot.Tests.Cli.CliRun.RunAsync(home.Path, variables, "list", "s3m", "-L");
        Assert.Equal(0, listed);
        Assert.Contains("zi66hh25uj52mbypxnkvycwkkbwphquj greet-data@1.0.0", specs, StringComparison.Ordinal);
    }
}
