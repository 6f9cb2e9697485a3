using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Depot.Configuration;

/// <summary>
/// A configuration file as YAML parsing events, so that each part (one mirror) is read on its own and an error names
/// the file, line, column and field instead of the YAML library's words and .NET type names.
/// </summary>
internal static partial class ConfigYaml
{
    /// <summary>Every parsing event of the file.</summary>
    /// <exception cref="DepotException">The file is not YAML (line and column of the problem).</exception>
    public static List<ParsingEvent> Events(string path)
    {
        var events = new List<ParsingEvent>();
        try
        {
            var text = File.ReadAllText(path);
            Formats.YamlDepth.Check(text, path, Formats.YamlDepth.ConfigLimit, "the file");
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                events.Add(parser.Current!);
            }
        }
        catch (YamlException e)
        {
            throw Error(path, e.Start, null, "invalid YAML: " + Plain(e.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // The library's own failures on some malformed input (a plain scalar its scanner cannot end, a tag that
            // is not a URI), with no position.
            throw new InvalidContentException(path, "invalid YAML: " + Plain(e.Message));
        }

        return events;
    }

    /// <summary>One line: <c>FILE: line L, column C: FIELD: PROBLEM</c>.</summary>
    public static DepotException Error(string path, Mark mark, string? field, string problem) =>
        new(ErrorKind.InvalidContent, $"{path}: line {mark.Line}, column {mark.Column}: "
            + (field is null ? "" : field + ": ") + problem);

    public static bool IsNull(Scalar scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The index just past the node that starts at <paramref name="at"/>.</summary>
    public static int Skip(List<ParsingEvent> events, int at)
    {
        var depth = 0;
        var i = at;
        do
        {
            depth += events[i].NestingIncrease;
            i++;
        }
        while (depth > 0 && i < events.Count);

        return i;
    }

    /// <summary>
    /// The field below the node [<paramref name="start"/>, <paramref name="end"/>) that holds
    /// <paramref name="mark"/> (a key or its value), as <c>.key.key[2]</c> (empty when it is the node itself), and the
    /// index of that field's value node.
    /// </summary>
    public static (string Path, int Value) FieldAt(List<ParsingEvent> events, int start, int end, Mark mark)
    {
        var isMapping = events[start] is MappingStart;
        if (!isMapping && events[start] is not SequenceStart)
        {
            return ("", start);
        }

        var n = 0;
        for (var i = start + 1; i < end - 1; n++)
        {
            var keyEnd = isMapping ? Skip(events, i) : i;
            var valueEnd = Skip(events, keyEnd);
            if (events[i].Start.Index <= mark.Index && mark.Index <= events[valueEnd - 1].End.Index)
            {
                var step = isMapping ? "." + ((events[i] as Scalar)?.Value ?? "?") : $"[{n}]";
                var (below, value) = mark.Index < events[keyEnd].Start.Index ? ("", keyEnd)
                    : FieldAt(events, keyEnd, valueEnd, mark);
                return (step + below, value);
            }

            i = valueEnd;
        }

        return ("", start);
    }

    /// <summary>
    /// Why <paramref name="value"/> does not fit <paramref name="field"/> (a mirror's field), in the file's terms: what
    /// it is and what the field takes.
    /// </summary>
    public static string Explain(string field, ParsingEvent value)
    {
        var what = value switch
        {
            Scalar s => $"'{s.Value}'",
            SequenceStart => "a list",
            MappingStart => "a mapping",
            _ => "this value",
        };
        var leaf = field[(field.LastIndexOf('.') + 1)..];
        var expected = field.Count(c => c == '.') == 1 ? "a mapping of settings (url: URL, ...)" : leaf switch
        {
            "signed" => "true or false",
            "trusted_fingerprints" => "a list of key fingerprints",
            "access_pair" => "a mapping (id or id_variable, secret_variable)",
            "fetch" or "push" => "a mapping of connection settings (url: URL, ...)",
            _ when leaf.EndsWith(']') => "a single value",
            _ => "a single value (text)",
        };
        return $"{what} does not fit here: expected {expected}";
    }

    /// <summary>The library's message without its <c>(Line: 1, Col: 2, Idx: 3) - (…): </c> prefix.</summary>
    public static string Plain(string message) => MarkPrefix().Replace(message, "").Split('\n')[0].TrimEnd();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    /// <summary>
    /// The events of the node [<paramref name="start"/>, <paramref name="end"/>), each alias to an anchor outside it
    /// replaced by that anchor's node (what YAML means by it), so that the part can be read on its own.
    /// </summary>
    public static List<ParsingEvent> Resolved(List<ParsingEvent> events, int start, int end)
    {
        var anchors = new Dictionary<string, (int Start, int End)>(StringComparer.Ordinal);
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is NodeEvent { Anchor.IsEmpty: false } node)
            {
                anchors[node.Anchor.Value] = (i, Skip(events, i));
            }
        }

        var result = new List<ParsingEvent>(end - start);
        Append(start, end, 0);
        return result;

        void Append(int from, int to, int depth)
        {
            for (var i = from; i < to; i++)
            {
                if (events[i] is AnchorAlias alias && depth < 8
                    && anchors.TryGetValue(alias.Value.Value, out var target) && (target.Start < start
                        || target.Start >= end))
                {
                    Append(target.Start, target.End, depth + 1);
                }
                else
                {
                    result.Add(events[i]);
                }
            }
        }
    }

    /// <summary>Replays the events of one node to the deserializer.</summary>
    internal sealed class Replay(List<ParsingEvent> events, int start, int end) : IParser
    {
        private int next = start;

        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            if (next >= end)
            {
                Current = null;
                return false;
            }

            Current = events[next++];
            return true;
        }
    }
}
