using Depot.Configuration;

namespace Depot.Tests.Cli;

/// <summary><c>depot mirror</c>: configured names work everywhere a mirror is taken; secrets are never stored or
/// printed.</summary>
public sealed class MirrorCliTests : CliTestBase
{
    [Fact]
    public async Task AddListCheckSetRemove()
    {
        var (code, added, _) = await RunAsync("mirror", "add", "team", TestData.Path(TestData.V3Signed),
            "--s3-access-key-secret-variable", "TEAM_SECRET");
        Assert.Equal(0, code);
        Assert.Contains("added mirror 'team'", added, StringComparison.Ordinal);
        var (_, listed, _) = await RunAsync("mirror", "list");
        Assert.Contains("team", listed, StringComparison.Ordinal);
        Assert.Contains("$TEAM_SECRET", listed, StringComparison.Ordinal);
        Assert.Contains("from depot (", listed, StringComparison.Ordinal);

        var (listCode, specs, listErr) = await RunAsync("list", "team", "-L");
        Assert.True(listCode == 0, listErr);
        Assert.Contains("ilccysmlleizqaxfvvqsb6selpnnszug greet@1.0.0", specs, StringComparison.Ordinal);

        var (checkCode, check, _) = await RunAsync("mirror", "check", "team");
        Assert.True(checkCode == 0, check);
        Assert.Contains("ok    layout: v3", check, StringComparison.Ordinal);
        Assert.Contains("ok    index (v3): 5 cached specs", check, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("mirror", "set", "team", "--unsigned")).Code);
        Assert.Contains("signed: false", File.ReadAllText(Path.Combine(Home.Path, "config.yaml")),
            StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("mirror", "remove", "team")).Code);
        var (_, empty, _) = await RunAsync("mirror", "list");
        Assert.DoesNotContain("team", empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACheckSaysWhatFailsAndHowToFixIt()
    {
        var (code, output, _) = await RunAsync("mirror", "check", Path.Combine(Scratch.Path, "nothing-here"),
            "--write");
        Assert.Equal(1, code);
        Assert.Contains("FAIL  layout:", output, StringComparison.Ordinal);
        Assert.Contains("fix:", output, StringComparison.Ordinal);
        Assert.Contains("ok    write and delete a probe: allowed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void SpacksMirrorsYamlIsRead()
    {
        var path = Path.Combine(Scratch.Path, "mirrors.yaml");
        File.WriteAllText(path, """
            mirrors:
              plain: https://cache.example.org/spack
              cloud:
                url: s3://bucket/cache
                signed: false
                access_pair:
                  id: AKIAEXAMPLE
                  secret_variable: CLOUD_SECRET
                endpoint_url: https://s3.example.org
                push:
                  url: s3://bucket/incoming
            """);
        var mirrors = SpackMirrors.Read(path);
        Assert.Equal("https://cache.example.org/spack", mirrors["plain"].Url);
        var cloud = mirrors["cloud"];
        Assert.False(cloud.Signed);
        Assert.Equal("AKIAEXAMPLE", cloud.AccessPair!.Id);
        Assert.Equal("CLOUD_SECRET", cloud.AccessPair.SecretVariable);
        Assert.Equal("s3://bucket/incoming", cloud.For(push: true).Url);
        Assert.Equal("s3://bucket/cache", cloud.For(push: false).Url);
        Assert.Equal("https://s3.example.org", cloud.For(push: true).EndpointUrl);

        File.WriteAllText(path, "mirrors:\n  old:\n    url: s3://b\n    access_pair: [AKIA, plaintextsecret]\n");
        var e = Assert.Throws<DepotException>(() => SpackMirrors.Read(path));
        Assert.Contains("stores a secret in access_pair", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("plaintextsecret", e.Message, StringComparison.Ordinal);
    }
}
