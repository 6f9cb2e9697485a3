using Depot.Formats;

namespace Depot.Tests.Formats;

/// <summary>
/// The guard every YAML file passes before YamlDotNet's node loader sees it: documents that would make the loader
/// recurse until the process dies are refused with one line naming the file.
/// </summary>
public class YamlDepthTests
{
    [Theory]
    [InlineData("a: {*x : 1, *x : 2}\nb: &x c\n", "has an alias (*x) before any anchor of that name")]
    [InlineData("a:\n  *x : 1\n  *y : 2\nb: &x c\nd: &y c\n", "has an alias (*x) before any anchor of that name")]
    [InlineData("a: &x {b: *x}\n", "has an alias (*x) inside the node it names, which never ends")]
    [InlineData("a: [[[[[[[[1]]]]]]]]\n", "nests deeper than 4 levels")]
    public void ADocumentTheLoaderWouldRecurseOnIsRefused(string yaml, string problem)
    {
        var error = Assert.Throws<InvalidContentException>(() => YamlDepth.Check(yaml, "config.yaml", 4, "the file"));
        Assert.Equal("config.yaml: the file " + problem, error.Message);
    }

    [Fact]
    public void AnchorsUsedAfterTheirNodeArePlainYaml() =>
        YamlDepth.Check("base: &b {x: 1}\nuse: *b\nname: &n text\nagain: *n\n", "config.yaml", 4, "the file");
}
