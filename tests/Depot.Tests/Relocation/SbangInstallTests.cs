using System.Diagnostics;
using Depot.Operations;
using Depot.Signing;
using Depot.Storage;
using Depot.Tests.InstallTree;
using Depot.Tests.Operations;

namespace Depot.Tests.Relocation;

/// <summary>
/// Sbang end to end: a package whose script starts with the builder's <c>#!/bin/sh ROOT/bin/sbang</c> line (its real,
/// too-long shebang on line 2) is pushed and installed elsewhere; the script then names the target's sbang, which
/// Depot installed as the target had none, and line 2 names the relocated interpreter, and the script runs.
/// </summary>
public sealed class SbangInstallTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task AScriptBehindSbangIsRelocatedAndRunsFromTheTargetsSbang()
    {
        // A build root deep enough that the interpreter's path is over the kernel's 127-byte shebang limit.
        var buildRoot = temp.Combine("build", string.Join('/', Enumerable.Repeat("a-long-directory", 5)), "opt",
            "spack");
        var builder = new InstallTreeBuilder(buildRoot);
        string? toolPrefix = null;
        var hash = builder.Add("tool", "1.0", prefix =>
        {
            toolPrefix = prefix;
            PushOperationTests.WriteFile(prefix, "bin/interp", "#!/bin/sh\nexec /bin/sh \"$@\"\n");
            PushOperationTests.WriteFile(prefix, "bin/run",
                $"#!/bin/sh {buildRoot}/bin/sbang\n#!{prefix}/bin/interp -u\necho \"ran with: $*\"\n");
            foreach (var file in new[] { "bin/interp", "bin/run" })
            {
                File.SetUnixFileMode(Path.Combine(prefix, file), (UnixFileMode)0x1ed);
            }
        });
        builder.WriteDatabase();
        Assert.True($"#!{toolPrefix}/bin/interp -u".Length > 127, "the shebang would not need sbang");
        var mirror = temp.Combine("mirror");
        await PushOperationTests.PushAsync(builder.Root, mirror, new PushOptions());

        var root = temp.Combine("target");
        var result = await InstallOperationTests.InstallAsync(Mirror.Of(new LocalDirectoryStore(mirror),
            TrustPolicy.None("m"), name: "m"), new PlainRootTarget(root), "tool");

        Assert.False(result.AnyFailed, string.Join("; ", result.Outcomes.Select(o => o.Reason)));
        var prefix = Assert.Single(result.Outcomes).Prefix!;
        Assert.Equal(Path.Combine(root, $"tool-1.0-{hash}"), prefix);
        var script = Path.Combine(prefix, "bin", "run");
        Assert.Equal([$"#!/bin/sh {root}/bin/sbang", $"#!{prefix}/bin/interp -u", "echo \"ran with: $*\""],
            File.ReadAllLines(script));
        Assert.Equal((UnixFileMode)0x1ed, File.GetUnixFileMode(Path.Combine(root, "bin", "sbang")));

        using var process = Process.Start(new ProcessStartInfo(script, ["one", "two"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0 && error.Length == 0, $"exit {process.ExitCode}: {error}");
        Assert.Equal("ran with: one two\n", output);
    }
}
