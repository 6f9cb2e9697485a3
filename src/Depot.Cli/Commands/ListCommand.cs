using System.CommandLine;
using Depot.Catalog;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary><c>depot list [MIRROR] [QUERY...]</c>: what a build cache holds, or every configured mirror, like
/// <c>spack buildcache list -a</c>.</summary>
public static class ListCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror(
            "Mirror to list (default: every configured mirror, as spack buildcache list)");
        mirror.Arity = ArgumentArity.ZeroOrOne;
        var queries = CommonArguments.Queries("Specs to show: name, name@version, /hashprefix (default: all)");
        var shortHash = new Option<bool>("--long", "-l") { Description = "Show 7-character hashes" };
        var fullHash = new Option<bool>("--very-long", "-L") { Description = "Show full 32-character hashes" };
        var variants = new Option<bool>("--variants", "-v") { Description = "Show variants and compiler flags" };
        var json = CommonArguments.Json();
        var rescan = new Option<bool>("--rescan") { Description = "Read every entry instead of the index" };
        var allArch = new Option<bool>("--allarch", "-a")
        {
            Description = "Accepted as Spack's list -a; changes nothing, as Depot always lists every architecture",
        };
        var command = new Command("list", "List the specs in a build cache, or in every configured mirror (every "
            + "architecture)")
        {
            mirror, queries, shortHash, fullHash, variants, json, rescan, allArch,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var named = parse.GetValue(mirror);
            var words = parse.GetValue(queries) ?? [];
            if (named is not null && !ListEveryMirrorOperation.NamesAMirror(console.Engine, named))
            {
                // `depot list zlib`: a query over every configured mirror, as `spack buildcache list zlib`.
                words = [named, .. words];
                named = null;
            }

            var parsed = words.Select(SpecQuery.Parse).ToList();
            var options = new ListOptions(parsed, parse.GetValue(rescan), NeedNodes: parse.GetValue(json),
                Cache: console.Engine.IndexCache);
            IReadOnlyDictionary<string, string>? sourceOf = null;
            ListResult result;
            if (named is null)
            {
                var every = await ListEveryMirrorOperation.RunAsync(console.Engine, options, token)
                    .ConfigureAwait(false);
                (result, sourceOf) = (every.Listing, every.SourceOf);
            }
            else
            {
                var source = console.Engine.Open(named, MirrorPurpose.Read);
                result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                    progress => ListOperation.RunAsync(source, options, progress, token)).ConfigureAwait(false);
            }

            foreach (var problem in result.Problems)
            {
                console.Warn(problem);
            }

            if (parsed.Count > 0 && result.Rows.Count == 0)
            {
                var wanted = string.Join(' ', parsed.Select(q => q.Text));
                return console.Fail(parse, ErrorKind.NotFound, $"no cached spec matches {wanted}");
            }

            if (parse.GetValue(json))
            {
                WriteJson(console.Out, result, sourceOf);
            }
            else
            {
                var hashLength = parse.GetValue(fullHash) ? DagHash.Length : parse.GetValue(shortHash) ? 7 : 0;
                WriteText(console.Out, result, hashLength, parse.GetValue(variants));
            }

            return result.Problems.Count > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
        }));
        return command;
    }

    private static void WriteText(TextWriter output, ListResult result, int hashLength, bool variants)
    {
        var groups = result.Rows
            .GroupBy(r => $"{r.Architecture} / {r.CompilerLabel}")
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        var first = true;
        foreach (var group in groups)
        {
            if (!first)
            {
                output.WriteLine();
            }

            first = false;
            output.WriteLine(SpecFormatter.Header(group.Key));
            foreach (var r in group)
            {
                if (hashLength > 0)
                {
                    output.Write(r.Hash.AsSpan(0, hashLength));
                    output.Write(' ');
                }

                output.WriteLine(variants ? r.VariantsText : r.Short);
            }
        }
    }

    /// <summary>One object per spec; listing every mirror, each also says which mirror it was listed from.</summary>
    private static void WriteJson(TextWriter output, ListResult result, IReadOnlyDictionary<string, string>? sourceOf)
    {
        JsonOutput.Write(output, w =>
        {
            w.WriteStartArray();
            foreach (var c in result.Specs)
            {
                w.WriteStartObject();
                CatalogJson.WriteListedSpecFields(w, c);
                if (sourceOf is not null)
                {
                    w.WriteString("mirror", sourceOf[c.Spec.Hash]);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }
}
