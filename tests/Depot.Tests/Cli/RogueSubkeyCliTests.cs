using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Depot.Configuration;
using Depot.Formats;
using Depot.Layout;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.Signing;

namespace Depot.Tests.Cli;

/// <summary>
/// Issue 14 end to end: a mirror publishes the real key with a rogue key appended as a subkey (no binding signature),
/// replaces greet-data's tarball and has the rogue key clearsign its manifest. However the real key came to be
/// trusted, install and verify refuse with one line, and nothing is installed.
/// </summary>
public sealed class RogueSubkeyCliTests : CliTestBase
{
    private const string GreetData =
        "v3/manifests/spec/greet-data/greet-data-1.0.0-peahnwn7aa2lc5t6iese4dp7o7jjbnwu.spec.manifest.json";
    private const string EvilFile = "greet-data-1.0.0-peahnwn7aa2lc5t6iese4dp7o7jjbnwu/share/greet-data/evil.txt";

    private static readonly string RealKey = File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc"));

    private readonly string mirror;
    private readonly string rogueFingerprint;

    public RogueSubkeyCliTests()
    {
        mirror = Scratch.Combine("mirror");
        TestData.CopyTree(TestData.Path(TestData.V3Signed), mirror);
        var rogue = RogueKeys.Create();
        rogueFingerprint = SignatureVerifier.Fingerprint(rogue.GetPublicKey());
        var tampered = RogueKeys.WithUnboundSubkey(SignatureTests.FixturePublicKey(), rogue.GetPublicKey());
        new BuildCacheV3(new LocalDirectoryStore(mirror))
            .PublishKeysAsync([new PublishedKey(SignatureTests.FixtureFingerprint, RogueKeys.Armored(tampered),
                "rogue")], TestContext.Current.CancellationToken)
            .GetAwaiter().GetResult();

        var manifest = Path.Combine(mirror, GreetData);
        var body = ClearSignedMessage.Parse(File.ReadAllText(manifest), manifest).Body;
        var tarball = WithEvilFile(Path.Combine(mirror,
            "blobs/sha256/60/604a9f07c6e69308a550ed0858d24149e3b4131168800ad110d46fbb4fdaa9ef"));
        var checksum = Convert.ToHexStringLower(SHA256.HashData(tarball));
        Directory.CreateDirectory(Path.Combine(mirror, "blobs/sha256", checksum[..2]));
        File.WriteAllBytes(Path.Combine(mirror, "blobs/sha256", checksum[..2], checksum), tarball);
        body = body.Replace("\"contentLength\":3614", $"\"contentLength\":{tarball.Length}", StringComparison.Ordinal)
            .Replace("604a9f07c6e69308a550ed0858d24149e3b4131168800ad110d46fbb4fdaa9ef", checksum,
                StringComparison.Ordinal);
        File.WriteAllText(manifest, ClearSigner.Sign(body, rogue.GetSecretKey()));
    }

    private string Root => Scratch.Combine("sw");

    [Fact]
    public async Task TheTamperedEntryIsInstallableOnlyWithoutVerification()
    {
        // The tampered tarball is sound: only the signature check stands between it and the target.
        var (code, _, err) = await RunAsync("install", "greet-data", "--from", mirror, "--root", Root, "--no-verify");
        Assert.True(code == 0, err);
        Assert.Equal("tampered\n", File.ReadAllText(Path.Combine(Root, EvilFile)));
    }

    [Theory]
    [InlineData("keys trust MIRROR --fingerprint")]
    [InlineData("fingerprint pinned in config.yaml")]
    [InlineData("keys trust FILE, then keys trust MIRROR --all")]
    public async Task ARogueSubkeyOfTheTrustedKeySignsNothing(string howTrusted)
    {
        var source = mirror;
        switch (howTrusted)
        {
            case "keys trust MIRROR --fingerprint":
                Assert.Equal(0,
                    (await RunAsync("keys", "trust", mirror, "--fingerprint", SignatureTests.FixtureFingerprint)).Code);
                break;
            case "fingerprint pinned in config.yaml":
                var config = new DepotConfig();
                config.Mirrors["cache"] = new MirrorConfig
                {
                    Url = "file://" + mirror,
                    TrustedFingerprints = [SignatureTests.FixtureFingerprint],
                };
                config.Save(new DepotHome(Home.Path).ConfigFile);
                source = "cache";
                break;
            default:
                Assert.Equal(0, (await RunAsync("keys", "trust", TestData.Path("spack-1.2/keys/public.asc"))).Code);
                Assert.Equal(0, (await RunAsync("keys", "trust", mirror, "--all")).Code);
                break;
        }

        var (code, output, err) = await RunAsync("install", "greet-data", "--from", source, "--root", Root);
        Assert.Equal(1, code);
        var line = Assert.Single(err.TrimEnd('\n').Split('\n'));
        // The rogue subkey was never stored with the trusted key (nor taken with the pinned one): its signer is a
        // stranger.
        var expected =
            $"{GreetData}: signed by key {rogueFingerprint[^16..]} (fingerprint {rogueFingerprint}), which is not "
            + "trusted";
        Assert.True(line.Contains(expected, StringComparison.Ordinal), line);
        Assert.DoesNotContain("installed greet-data", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Root)
            && Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories).Any(),
            "something was installed");

        var (verifyCode, _, verifyErr) = await RunAsync("verify", source);
        Assert.Equal(1, verifyCode);
        var greetData = Assert.Single(verifyErr.Split('\n'), l => l.Contains("greet-data", StringComparison.Ordinal));
        Assert.Contains(expected, greetData, StringComparison.Ordinal);

        // Entries the real key signed still verify: the key is trusted, its rogue subkey is not.
        var (_, verified, _) = await RunAsync("verify", source, "greet");
        Assert.Contains("1 ok, 0 failed", verified, StringComparison.Ordinal);
        if (howTrusted != "fingerprint pinned in config.yaml")
        {
            Assert.Equal(RealKey, (await RunAsync("keys", "export", SignatureTests.FixtureFingerprint)).Out);
        }
    }

    /// <summary>The tarball with one more file beside greet-data's words.txt.</summary>
    private static byte[] WithEvilFile(string tarball)
    {
        using var output = new MemoryStream();
        using (var gzipOut = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        using (var writer = new TarWriter(gzipOut, TarEntryFormat.Pax, leaveOpen: true))
        using (var input = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
        using (var reader = new TarReader(input))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                writer.WriteEntry(entry);
                if (entry.Name.EndsWith("/share/greet-data/words.txt", StringComparison.Ordinal))
                {
                    var evil = new PaxTarEntry(TarEntryType.RegularFile, entry.Name[..^"words.txt".Length] + "evil.txt")
                    {
                        DataStream = new MemoryStream("tampered\n"u8.ToArray()),
                        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite
                            | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    };
                    writer.WriteEntry(evil);
                }
            }
        }

        return output.ToArray();
    }
}
