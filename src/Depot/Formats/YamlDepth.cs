using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Depot.Formats;

/// <summary>
/// The guard run before YAML from a file is loaded: YamlDotNet's node loader and deserializer recurse once per level
/// (a deeply nested document overflows the stack, which ends the process), and its scanner slows quadratically with
/// flow nesting (100,000 <c>[</c> take minutes). Flow brackets are first counted on the raw text, which is cheap, then
/// the nesting is measured on the parser's events, which do not recurse. Aliases must name an anchor defined before
/// them and outside themselves: the node loader keeps any other as a placeholder, and two such placeholders in one
/// mapping make it recurse until the process dies (YamlAliasNode.Equals calls itself).
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
        // Anchors of the nodes still open: an alias to one of them is a cycle, on which the node loader recurses
        // until the stack overflows. Anchors seen so far: an alias to any other is a forward reference.
        var open = new List<string?>();
        var defined = new HashSet<string>(StringComparer.Ordinal);
        while (parser.MoveNext())
        {
            if (parser.Current is NodeEvent { Anchor.IsEmpty: false } anchored)
            {
                defined.Add(anchored.Anchor.Value);
            }

            if (parser.Current is NodeEvent { } node && node is MappingStart or SequenceStart)
            {
                open.Add(node.Anchor.IsEmpty ? null : node.Anchor.Value);
                if (open.Count > maxDepth)
                {
                    throw TooDeep(location, maxDepth, what);
                }
            }
            else if (parser.Current is MappingEnd or SequenceEnd && open.Count > 0)
            {
                open.RemoveAt(open.Count - 1);
            }
            else if (parser.Current is AnchorAlias { } alias && open.Contains(alias.Value.Value))
            {
                throw new InvalidContentException(location,
                    $"{what} has an alias (*{alias.Value.Value}) inside the node it names, which never ends");
            }
            else if (parser.Current is AnchorAlias { } early && !defined.Contains(early.Value.Value))
            {
                throw new InvalidContentException(location,
                    $"{what} has an alias (*{early.Value.Value}) before any anchor of that name");
            }
        }
    }

    private static InvalidContentException TooDeep(string location, int maxDepth, string what) =>
        new(location, $"{what} nests deeper than {maxDepth} levels");
}
