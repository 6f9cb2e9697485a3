namespace Depot.Tests.Cli;

/// <summary>
/// Every CLI command that talks to a mirror, as the command line that points it at one mirror (a name or URL): the
/// failure-path theories run each of them against a mirror that refuses or is not there. <c>copy-from</c> copies from
/// it into a scratch directory, <c>copy-to</c> copies a local fixture mirror into it.
/// </summary>
internal static class MirrorCommandLines
{
    public static readonly string[] Commands =
    [
        "list", "push", "index", "verify", "install", "copy-from", "copy-to", "sign", "keys-trust", "keys-publish",
    ];

    /// <summary>Every cloud store (s3, azure, gs) with every mirror command and <c>mirror check</c>.</summary>
    public static TheoryData<string, string> EveryCloudAndCommand()
    {
        var cases = new TheoryData<string, string>();
        foreach (var cloud in new[] { "s3", "azure", "gs" })
        {
            foreach (var command in Commands.Append("check"))
            {
                cases.Add(cloud, command);
            }
        }

        return cases;
    }

    /// <summary>Whether the command needs a secret key (made with <c>keys create</c> before it runs).</summary>
    public static bool NeedsKey(string command) => command is "sign" or "keys-publish";

    public static string[] For(string command, string mirror, string scratch) => command switch
    {
        "list" => ["list", mirror],
        "push" => ["push", mirror, "greet-data", "--unsigned", "--install-tree",
            TestData.Path("spack-0.21/install-tree")],
        "index" => ["index", mirror],
        "verify" => ["verify", mirror, "--no-verify"],
        "install" => ["install", "greet", "--from", mirror, "--root", Path.Combine(scratch, "root"), "--no-verify"],
        "copy-from" => ["copy", mirror, Path.Combine(scratch, "copy"), "--no-verify", "--unsigned"],
        "copy-to" => ["copy", TestData.Path(TestData.V3Signed), mirror, "--no-verify", "--unsigned"],
        "sign" => ["sign", mirror],
        "keys-trust" => ["keys", "trust", mirror, "--all"],
        "keys-publish" => ["keys", "publish", mirror],
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, "not a mirror command"),
    };
}
