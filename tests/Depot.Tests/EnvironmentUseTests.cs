namespace Depot.Tests;

/// <summary>
/// The process environment has one reader and no writer. Engine, stores and CLI get their variables from an
/// <see cref="EnvironmentVariables"/> a host builds at its edge (<c>EnvironmentVariables.FromProcess</c>, called by
/// <c>Program.Main</c>), so no code under <c>src/</c> but that type reads the process's variables or home folder; and
/// tests inject variables instead of setting them, as test classes run in parallel and one test's variable would be
/// another's surprise.
/// </summary>
public sealed class EnvironmentUseTests
{
    // Spelled in pieces so that this file does not match itself.
    private static readonly string Setter = "Environment.Set" + "EnvironmentVariable";

    private static readonly string[] Readers =
    [
        "Environment.Get" + "EnvironmentVariable", // also ...Variables
        "Environment.Expand" + "EnvironmentVariables",
        "SpecialFolder." + "UserProfile",
    ];

    private static readonly string Edge = Path.Combine("src", "Depot", "EnvironmentVariables.cs");

    private static string RepositoryRoot => Path.GetFullPath(Path.Combine(TestData.Path("."), "..", ".."));

    [Fact]
    public void NoTestSetsAProcessEnvironmentVariable()
    {
        var found = Uses(RepositoryRoot, "tests", [Setter]);
        Assert.True(found.Count == 0, "tests set process environment variables (inject them instead: CliTestBase."
            + "Variables, EnvironmentVariables.From):\n" + string.Join('\n', found));
    }

    [Fact]
    public void OnlyTheEdgeReadsTheProcessEnvironmentInSrc()
    {
        var found = Uses(RepositoryRoot, "src", Readers)
            .Where(f => !f.StartsWith(Edge + ":", StringComparison.Ordinal)).ToList();
        Assert.True(found.Count == 0, "code under src/ reads the process environment (take an EnvironmentVariables "
            + "instead):\n" + string.Join('\n', found));
        // The edge itself is seen: the scan looks where it should.
        Assert.NotEmpty(Uses(RepositoryRoot, "src", Readers));
    }

    [Fact]
    public void TheScanNamesFileAndLineOfEachUse()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.Combine("tests", "A"));
        Directory.CreateDirectory(temp.Combine("tests", "bin"));
        File.WriteAllText(temp.Combine("tests", "A", "T.cs"), "// fine\n        " + Setter + "(\"X\", \"1\");\n");
        File.WriteAllText(temp.Combine("tests", "bin", "Generated.cs"), Setter + "(\"X\", null);\n");

        Assert.Equal([Path.Combine("tests", "A", "T.cs") + ":2"], Uses(temp.Path, "tests", [Setter]));
    }

    private static List<string> Uses(string root, string area, string[] needles) =>
        Directory.EnumerateFiles(Path.Combine(root, area), "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar)
                .Any(part => part is "bin" or "obj"))
            .SelectMany(f => File.ReadLines(f)
                .Select((line, index) => (line, index))
                .Where(l => needles.Any(n => l.line.Contains(n, StringComparison.Ordinal)))
                .Select(l => $"{Path.GetRelativePath(root, f)}:{l.index + 1}"))
            .Order(StringComparer.Ordinal)
            .ToList();
}
