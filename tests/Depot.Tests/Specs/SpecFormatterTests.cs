using System.Text;
using Depot.Specs;

namespace Depot.Tests.Specs;

public class SpecFormatterTests
{
    private static SpecNode Node(string parameters, int version = 5) =>
        SpecFile.Parse(Encoding.UTF8.GetBytes(
            "{\"spec\":{\"_meta\":{\"version\":" + version
                + "},\"nodes\":[{\"name\":\"gcc\",\"version\":\"12.2.0\",\"parameters\":{"
            + parameters + "},\"hash\":\"umaathbgr6kg2kzf3jswhf573qudbx7w\"}]}}"), "t").Root;

    [Fact]
    public void VariantsPrintLikeSpack12()
    {
        var node = Node("\"binutils\":false,\"bootstrap\":true,\"build_system\":\"autotools\","
            + "\"build_type\":\"RelWithDebInfo\",\"languages\":[\"c\",\"c++\",\"fortran\"],\"cflags\":[],"
            + "\"ldlibs\":[]");
        Assert.Equal("gcc@12.2.0~binutils+bootstrap build_system=autotools build_type=RelWithDebInfo "
            + "languages:='c,c++,fortran'", SpecFormatter.WithVariants(node, newStyle: true));
    }

    [Fact]
    public void PatchesAreAbbreviatedAndOldStyleUsesPlainEquals()
    {
        var node = Node("\"guile\":false,\"build_system\":\"generic\","
            + "\"patches\":[\"599f134aa2b1cf3b2d2b2e6b7c1c4f0dd2cc8d4b1f1f5fb55fb9b2b0c8ee5a0f\"]", 4);
        Assert.Equal("gcc@12.2.0~guile build_system=generic patches=599f134",
            SpecFormatter.WithVariants(node, newStyle: false));
    }

    [Theory]
    [InlineData("6b4f78c,7ded642", "6b4f78c,7ded642")]
    [InlineData("c,c++,fortran", "'c,c++,fortran'")]
    [InlineData("-O2 -g", "'-O2 -g'")]
    [InlineData("-DX='y' -DW=C:\\tmp", "\"-DX='y' -DW=C:\\\\tmp\"")]
    [InlineData("h\u00e9llo'", "\"h\\u00e9llo'\"")]
    public void ValuesAreQuotedLikeSpack12(string value, string expected) =>
        Assert.Equal(expected, SpecFormatter.Quote(value));

    [Fact]
    public void HeadersAre65CharactersWide()
    {
        Assert.Equal("-- linux-debian12-x86_64 / gcc@12.2.0 ---------------------------",
            SpecFormatter.Header("linux-debian12-x86_64 / gcc@12.2.0"));
    }

    [Theory]
    [InlineData("gcc", true)]
    [InlineData("gcc@12", true)]
    [InlineData("gcc@12.2.0", true)]
    [InlineData("gcc@=12.2", false)]
    [InlineData("gcc@12.2.0/umaath", true)]
    [InlineData("/UMAATH", true)]
    [InlineData("/umaathx", false)]
    [InlineData("gcc+bootstrap", true)]
    [InlineData("gcc~bootstrap", false)]
    [InlineData("gcc build_system=autotools", true)]
    [InlineData("clang", false)]
    [InlineData("gcc@1", false)]
    public void QueriesMatchNameVersionHashAndVariants(string query, bool matches)
    {
        var node = Node("\"bootstrap\":true,\"build_system\":\"autotools\"");
        Assert.Equal(matches, SpecQuery.Parse(query).Matches(node));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/not-a-hash!")]
    [InlineData("")]
    public void BadQueriesAreRejected(string query) => Assert.Throws<DepotException>(() => SpecQuery.Parse(query));
}
