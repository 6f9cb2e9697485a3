using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Depot.Formats;

/// <summary>
/// The guard run before YAML from a file is loaded: YamlDotNet's node loader and deserializer recurse once per level
/// (a deeply nested document overflows the stack, which ends the process), and its scanner slows quadratically with
/// flow nesting (100,000 <c>[</c> take minutes). Flow brackets are first counted on the raw text, which is cheap, then
/// the nesting is measured on the parser's events, which do not recurse.
/// </summary>
public static class YamlDepth
{
    /// <summary>Configuration files: far deeper than any real one (under 8 levels).</summary>
    public const int ConfigLimit = 64;

    /// <exception cref="InvalidContentException">The text nests deeper than <paramref name="maxDepth"/>.</exception>
    /// <exception cref="YamlException">The text is not YAML (the caller reports it as it reports its own
    /// parse).</exception>
    public static void Check(string text, string location, int maxDepth, string what)
    {
        var flow = 0;
        foreach (var c in text)
        {
            if (c is '[' or '{' && ++flow > maxDepth)
            {
                throw TooDeep(location, maxDepth, what);
            }

            if (c is ']' or '}' && flow > 0)
            {
                flow--;
            }
        }

        var parser = new Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            if (parser.Current is MappingStart or SequenceStart && ++depth > maxDepth)
            {
                throw TooDeep(location, maxDepth, what);
            }

            if (parser.Current is MappingEnd or SequenceEnd)
            {
                depth--;
            }
        }
    }

    private static InvalidContentException TooDeep(string location, int maxDepth, string what) =>
        new(location, $"{what} nests deeper than {maxDepth} levels");
}
