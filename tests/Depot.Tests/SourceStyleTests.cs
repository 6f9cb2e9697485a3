namespace Depot.Tests;

/// <summary>
/// The layout rule <c>dotnet format</c> does not enforce: lines are at most 120 characters (<c>.editorconfig</c>'s
/// <c>max_line_length</c>) in the C# and MSBuild files under <c>src/</c>, <c>tests/</c> and <c>bench/</c>. Fixture
/// data (<c>tests/data</c>, real Spack output) is not code and is left out.
/// </summary>
public sealed class SourceStyleTests
{
    private const int MaxLineLength = 120;

    private static readonly string[] Areas = ["src", "tests", "bench"];

    private static readonly string[] Extensions = [".cs", ".csproj", ".props", ".targets"];

    private static readonly string[] Skipped = ["bin", "obj", "node_modules", ".test-services", "TestResults"];

    private static string RepositoryRoot => Path.GetFullPath(Path.Combine(TestData.Path("."), "..", ".."));

    [Fact]
    public void NoLineIsLongerThan120Characters()
    {
        var longLines = LongLines(RepositoryRoot);
        Assert.True(longLines.Count == 0,
            $"{longLines.Count} lines are longer than {MaxLineLength} characters:\n" + string.Join('\n', longLines));
    }

    [Fact]
    public void ALongLineIsNamedByFileAndLineAndFixtureDataIsNot()
    {
        using var temp = new TempDir();
        Directory.CreateDirectory(temp.Combine("src", "Lib"));
        Directory.CreateDirectory(temp.Combine("tests", "data"));
        File.WriteAllText(temp.Combine("src", "Lib", "A.cs"), "// short\n" + new string('x', 121) + "\n"
            + new string('y', 120) + "\n");
        File.WriteAllText(temp.Combine("src", "Lib", "notes.md"), new string('z', 200));
        File.WriteAllText(temp.Combine("tests", "data", "B.cs"), new string('x', 200));

        Assert.Equal(["src/Lib/A.cs:2 (121 characters)"], LongLines(temp.Path));
    }

    [Fact]
    public void TheCheckSeesTheCodeItGuards()
    {
        var files = Areas.SelectMany(area => SourceFiles(Path.Combine(RepositoryRoot, area))).ToList();
        Assert.Contains(files, f => f.EndsWith(Path.Combine("Relocation", "ElfPaths.cs"), StringComparison.Ordinal));
        Assert.Contains(files,
            f => f.EndsWith(Path.Combine("bench", "Depot.Bench", "Program.cs"), StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.Contains(Path.Combine("tests", "data") + Path.DirectorySeparatorChar,
            StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar,
            StringComparison.Ordinal));
    }

    private static List<string> LongLines(string root)
    {
        var longLines = new List<string>();
        var files = Areas.Where(area => Directory.Exists(Path.Combine(root, area)))
            .SelectMany(area => SourceFiles(Path.Combine(root, area))).Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var number = 0;
            foreach (var line in File.ReadLines(file))
            {
                number++;
                if (line.Length > MaxLineLength)
                {
                    longLines.Add($"{Path.GetRelativePath(root, file)}:{number} ({line.Length} characters)");
                }
            }
        }

        return longLines;
    }

    private static IEnumerable<string> SourceFiles(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            if (Extensions.Contains(Path.GetExtension(file), StringComparer.Ordinal))
            {
                yield return file;
            }
        }

        foreach (var child in Directory.EnumerateDirectories(directory))
        {
            var name = Path.GetFileName(child);
            var isFixtureData = name == "data" && Path.GetFileName(directory) == "tests";
            if (!Skipped.Contains(name, StringComparer.Ordinal) && !isFixtureData
                && new DirectoryInfo(child).LinkTarget is null)
            {
                foreach (var file in SourceFiles(child))
                {
                    yield return file;
                }
            }
        }
    }
}
