using System.Diagnostics;
using System.Text;
using Depot.InstallTree;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// relocation.md §5 and §4.1 step 1: scripts whose shebang is too long for the kernel start with
/// <c>#!/bin/sh &lt;unpadded root&gt;/bin/sbang</c> and keep the real shebang on line 2. Relocation maps the builder's
/// sbang path to the target's (the first pair of the map) and the interpreter on line 2 like any prefix; the sbang
/// Depot installs runs such scripts as Spack's own sbang (from the fixture install tree) does.
/// </summary>
public sealed class SbangTests : IDisposable
{
    private const string OldUnpaddedRoot = "/home/ci/spack/opt/spack";
    private const string OldRoot = OldUnpaddedRoot + "/__spack_path_placeholder__/__spack_path_placeholder__/__spack_p";
    private const string OldPackage = OldRoot + "/linux-x86_64/python-3.13.0-abcdefg";

    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(OldRoot, OldUnpaddedRoot)]
    [InlineData(OldUnpaddedRoot + "/__spack_path_placeholder__/__spack_pa/", OldUnpaddedRoot)] // cut short, slash
    [InlineData("/opt/sw", "/opt/sw")]
    [InlineData("/opt/sw/", "/opt/sw")]
    [InlineData("/opt/__not_a_placeholder", "/opt/__not_a_placeholder")]
    public void SbangLivesUnderTheRootWithoutSpacksPadding(string root, string unpadded)
    {
        Assert.Equal(unpadded, RelocationPrefixes.UnpaddedRoot(root));
        Assert.Equal(unpadded + "/bin/sbang", RelocationPrefixes.SbangPath(root));
    }

    [Fact]
    public void TheSbangLineGetsTheTargetsSbangAndLineTwoTheNewInterpreter()
    {
        // The map as the installer builds it: sbang first, then the package, then the (padded) old root.
        var map = new PrefixMap();
        map.Add(RelocationPrefixes.SbangPath(OldRoot), RelocationPrefixes.SbangPath("/sw"));
        map.Add(OldPackage, "/sw/linux-x86_64/python-3.13.0-abcdefg");
        map.Add(OldRoot, "/sw");
        var script = $"#!/bin/sh {OldUnpaddedRoot}/bin/sbang\n#!{OldPackage}/bin/python3 -s\nprint('hello')\n";

        var relocated = TextRelocator.Relocate(Encoding.UTF8.GetBytes(script), map);

        Assert.Equal("#!/bin/sh /sw/bin/sbang\n#!/sw/linux-x86_64/python-3.13.0-abcdefg/bin/python3 -s\n"
            + "print('hello')\n", Encoding.UTF8.GetString(relocated!));
    }

    [Fact]
    public async Task DepotsSbangRunsALongShebangScriptAsSpacksDoes()
    {
        var depotSbang = temp.Combine("depot", "bin", "sbang");
        await Sbang.InstallAsync(depotSbang, Token);
        Assert.Equal((UnixFileMode)0x1ed, File.GetUnixFileMode(depotSbang));
        var spackSbang = TestData.Path("spack-1.2/install-tree/bin/sbang");

        // An interpreter (with an argument) deeper than the kernel's 127-byte shebang limit.
        var deep = temp.Combine(string.Join('/', Enumerable.Repeat("a-rather-long-directory-name", 6)));
        Directory.CreateDirectory(deep);
        File.CreateSymbolicLink(Path.Combine(deep, "sh"), "/bin/sh");
        var shebang = $"#!{deep}/sh -u";
        Assert.True(shebang.Length > 127, shebang);
        const string Body = "echo \"$# arguments: $*; options: $-\"\n";

        var viaDepot = await RunAsync(depotSbang, shebang, Body);
        var viaSpack = await RunAsync(spackSbang, shebang, Body);

        Assert.StartsWith("2 arguments: one two; options: ", viaDepot, StringComparison.Ordinal);
        Assert.Contains('u', viaDepot.Split("options: ")[1]); // the shebang's argument reached the interpreter
        Assert.Equal(viaSpack, viaDepot);
    }

    [Theory]
    [InlineData("#!/usr/bin/perl -w", "print \"perl: @ARGV\\n\";\n", "perl: one two\n")] // needs -x
    [InlineData("#!/usr/bin/env perl", "print \"perl: @ARGV\\n\";\n", "perl: one two\n")]
    [InlineData("//!/usr/bin/env node", "console.log('node: ' + process.argv.slice(2).join(' '));\n",
        "node: one two\n")]
    [InlineData("#!/bin/sh", "echo \"sh: $*\"\n", "sh: one two\n")]
    public async Task DepotsSbangStartsEachKindOfInterpreterAsSpacksDoes(string shebang, string body, string expected)
    {
        var depotSbang = temp.Combine("depot", "bin", "sbang");
        await Sbang.InstallAsync(depotSbang, Token);

        Assert.Equal(expected, await RunAsync(TestData.Path("spack-1.2/install-tree/bin/sbang"), shebang, body));
        Assert.Equal(expected, await RunAsync(depotSbang, shebang, body));
    }

    [Fact]
    public async Task InstallingSbangKeepsWhatIsAlreadyThere()
    {
        var path = temp.Combine("bin", "sbang");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/sh\n# Spack's own\n");

        await Sbang.InstallAsync(path, Token);

        Assert.Equal("#!/bin/sh\n# Spack's own\n", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left beside it
    }

    private async Task<string> RunAsync(string sbang, string shebang, string body)
    {
        var script = temp.Combine("script-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(script, $"#!/bin/sh {sbang}\n{shebang}\n{body}");
        File.SetUnixFileMode(script, (UnixFileMode)0x1ed);
        using var process = Process.Start(new ProcessStartInfo(script, ["one", "two"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync(Token);
        var error = await process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        Assert.True(process.ExitCode == 0 && error.Length == 0,
            $"{script} via {sbang}: exit {process.ExitCode}, {error}");
        return output;
    }
}
