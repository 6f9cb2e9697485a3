using System.Globalization;
using Depot.Operations;

namespace Depot.Cli.Commands;

/// <summary>
/// What <c>prune</c> and <c>rm</c> print: one line per item (reason, name, objects, size) and a total; with
/// <c>--json</c>, one document with the same. Problems go to stderr as warnings.
/// </summary>
internal static class PruneDisplay
{
    /// <summary>Prints <paramref name="result"/> (a dry run's total ends with <paramref name="dryRunHint"/>); returns
    /// the exit code (3 when something was left alone or failed).</summary>
    public static int Print(CliConsole console, string mirror, PruneResult result, bool json, string dryRunHint)
    {
        var code = result.Problems.Count > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
        if (json)
        {
            JsonOutput.Write(console.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString("mirror", mirror);
                w.WriteBoolean("dry_run", !result.Applied);
                w.WriteStartArray("items");
                foreach (var item in result.Items)
                {
                    w.WriteStartObject();
                    w.WriteString("reason", item.ReasonName);
                    w.WriteString("name", item.Name);
                    w.WriteString("location", item.Location);
                    w.WriteNumber("bytes", item.Bytes);
                    w.WriteStartArray("keys");
                    foreach (var key in item.Keys)
                    {
                        w.WriteStringValue(key);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteNumber("count", result.Items.Count);
                w.WriteNumber("bytes", result.Bytes);
                w.WriteNumber("objects", result.Items.Sum(i => i.Keys.Count));
                w.WriteNumber("indexed_layouts", result.Index.Count);
                w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
                JsonOutput.WriteProblems(w, "problems", result.Problems);
                w.WriteEndObject();
            });
            return code;
        }

        foreach (var problem in result.Problems)
        {
            console.Warn(problem);
        }

        var verb = result.Applied ? "removed" : "would remove";
        foreach (var item in result.Items)
        {
            var objects = item.Keys.Count == 1 ? item.Location : $"{item.Keys.Count} objects";
            var reason = item.Reason == PruneReason.Removed ? "" : item.ReasonName + " ";
            var size = ByteSize.Format(item.Bytes);
            console.Out.WriteLine(item.Name == item.Keys[0] ? $"{verb} {reason}{item.Location} ({size})"
                : $"{verb} {reason}{item.Name} ({objects}, {size})");
        }

        var total = string.Create(CultureInfo.InvariantCulture,
            $"{mirror}: {result.Items.Count} {(result.Items.Count == 1 ? "item" : "items")} "
            + $"({result.Items.Sum(i => i.Keys.Count)} objects), {ByteSize.Format(result.Bytes)} "
            + $"{(result.Applied ? "freed" : "would be freed")}, {result.Elapsed.TotalSeconds:0.00} s");
        console.Out.WriteLine(result.Applied || result.Items.Count == 0 ? total : total + "; " + dryRunHint);
        return code;
    }

    /// <summary>A duration as <c>--grace</c> and <c>--older-than</c> take it: a whole number and a unit (s, m, h, d,
    /// w); 0 alone is allowed.</summary>
    /// <exception cref="DepotException">Anything else (usage), naming the option.</exception>
    public static TimeSpan ParseDuration(string option, string text)
    {
        var trimmed = text.Trim().ToLowerInvariant();
        if (trimmed == "0")
        {
            return TimeSpan.Zero;
        }

        if (trimmed.Length >= 2 && long.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), NumberStyles.None,
            CultureInfo.InvariantCulture, out var n) && n <= 1_000_000)
        {
            switch (trimmed[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
                case 'w': return TimeSpan.FromDays(7 * n);
                default: break;
            }
        }

        throw new DepotException(ErrorKind.Usage,
            $"{option} '{text}': expected a whole number and a unit (30s, 90m, 12h, 90d, 8w)");
    }
}
