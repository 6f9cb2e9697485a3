using System.Text;
using Depot.Specs;

namespace Depot.Tests.Specs;

public class SpecFileTests
{
    private static string V2File(string mirror, string name, string suffix) =>
        Directory.EnumerateFiles(TestData.Path(mirror + "/build_cache"), $"*-{name}-1.0.0-*{suffix}").Single();

    [Fact]
    public void ReadsAClearsignedSpack021SpecFile()
    {
        var file = V2File(TestData.V2Signed, "greet", ".spec.json.sig");
        var spec = SpecFile.Parse(File.ReadAllBytes(file), file);

        Assert.True(spec.WasClearSigned);
        Assert.Equal(4, spec.FormatVersion);
        Assert.Equal(1, spec.BuildcacheLayoutVersion);
        Assert.Equal("sha256", spec.BinaryCacheChecksum!.Algorithm);
        Assert.Equal("b10abf653bd5f0d5f17d60648911ada78d7826f1ea9271a62508ace2c9038a92", spec.BinaryCacheChecksum.Hash);
        var root = spec.Root;
        Assert.Equal(("greet", "1.0.0", "tnhxyeebiakcjb3lvymiwx63ueuccyl6"), (root.Name, root.Version, root.Hash));
        Assert.Equal(new NodeCompiler("gcc", "12.2.0"), root.Compiler);
        Assert.Equal("linux-debian12-x86_64", root.Architecture);
        Assert.Equal("depotfixtures", root.Namespace);
        Assert.Contains(root.Variants, v => v is { Name: "loud", IsBoolean: true } && !v.BooleanValue);
        Assert.Contains(root.Dependencies, d => d.Name == "libgreet" && d.Types == (DepTypes.Build | DepTypes.Link));
        var gmake = spec.Nodes.Single(n => n.Name == "gmake");
        Assert.True(gmake.IsExternal);
        Assert.Equal("/usr", gmake.ExternalPath);
    }

    [Fact]
    public void SignedAndUnsignedFilesCarryTheSameSpec()
    {
        var signed = SpecFile.Parse(File.ReadAllBytes(V2File(TestData.V2Signed, "libgreet", ".sig")), "signed");
        var plain = SpecFile.Parse(File.ReadAllBytes(V2File(TestData.V2Unsigned, "libgreet", ".spec.json")), "plain");
        Assert.False(plain.WasClearSigned);
        Assert.Equal(plain.Nodes.Select(n => n.Hash), signed.Nodes.Select(n => n.Hash));
    }

    [Fact]
    public void ReadsAGzippedSpack12SpecBlobWithCompilerNodes()
    {
        var blob = TestData.Path(TestData.V3Signed
            + "/blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565");
        var spec = SpecFile.Parse(File.ReadAllBytes(blob), blob);

        Assert.Equal(5, spec.FormatVersion);
        Assert.Equal(2, spec.BuildcacheLayoutVersion);
        Assert.Null(spec.BinaryCacheChecksum);
        Assert.Equal("ilccysmlleizqaxfvvqsb6selpnnszug", spec.Root.Hash);
        Assert.Null(spec.Root.Compiler);
        var cEdge = spec.Root.Dependencies.Single(d => d.Virtuals.Contains("c"));
        Assert.Equal("gcc", cEdge.Name);
        Assert.Equal(DepTypes.Build, cEdge.Types);
        Assert.Equal("%c=gcc@12.2.0", SpecFormatter.CompilerLabel(spec.Root, spec.FindByHash));
        Assert.All(spec.Root.Dependencies, d => Assert.NotNull(spec.FindByHash(d.Hash)));
    }

    [Theory]
    [InlineData("{\"spec\": ", "malformed JSON")]
    [InlineData("[1,2]", "no top-level 'spec' key")]
    [InlineData("{\"spec\":{\"_meta\":{\"version\":5}}}", "'spec.nodes' is missing")]
    [InlineData("{\"spec\":{\"nodes\":[]}}", "'spec._meta.version' is missing")]
    [InlineData("{\"spec\":{\"_meta\":{\"version\":5},\"nodes\":[]}}", "no nodes")]
    [InlineData("{\"spec\":{\"_meta\":{\"version\":5},\"nodes\":[{\"name\":\"a\"}]}}", "has no 'hash'")]
    [InlineData("{\"spec\":{\"_meta\":{\"version\":5},\"nodes\":[{\"name\":\"a\",\"hash\":\"h\","
        + "\"dependencies\":[{\"name\":\"b\",\"hash\":\"x\","
        + "\"parameters\":{\"deptypes\":[\"link\"]}}]}]}}", "refers to hash x")]
    [InlineData("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{}\n", "no '-----BEGIN PGP SIGNATURE-----' line")]
    public void MalformedSpecFilesFailWithOneLineNamingTheFile(string content, string expected)
    {
        var e = Assert.ThrowsAny<InvalidContentException>(() => SpecFile.Parse(Encoding.UTF8.GetBytes(content),
            "/m/x.spec.json"));
        Assert.StartsWith("/m/x.spec.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TruncatedGzipIsReportedAsCorrupt()
    {
        var blob = File.ReadAllBytes(TestData.Path(TestData.V3Signed
            + "/blobs/sha256/c3/c3607bc9ed60f5ed4e48a754a3bd3cab96a9d3112ca6f33c829808cfdc49d565"));
        var e = Assert.ThrowsAny<InvalidContentException>(() => SpecFile.Parse(blob.AsSpan(0, blob.Length / 2),
            "blob"));
        Assert.Contains("blob: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadsLegacyFormatOneSpecs()
    {
        const string v1 = """{"spec":[{"zlib":{"version":"1.2","arch":"""
            + """{"platform":"linux","platform_os":"rhel7","target":"x86_64"},"compiler":"""
            + """{"name":"gcc","version":"9"},"namespace":"builtin","parameters":{"shared":true},"dependencies":"""
            + """{"dep":{"hash":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","type":"""
            + """["build","link"]}},"hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},{"dep":"""
            + """{"version":"1","hash":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}]}""";
        var spec = SpecFile.Parse(Encoding.UTF8.GetBytes(v1), "v1");
        Assert.Equal(1, spec.FormatVersion);
        Assert.Equal("zlib@1.2", spec.Root.ToString());
        Assert.Equal(DepTypes.Build | DepTypes.Link, spec.Root.Dependencies.Single().Types);
    }
}
