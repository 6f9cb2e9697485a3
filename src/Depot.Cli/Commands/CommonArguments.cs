using System.CommandLine;

namespace Depot.Cli.Commands;

/// <summary>Arguments several commands share, with the same names, help and validation everywhere.</summary>
public static class CommonArguments
{
    public static Argument<string> Mirror()
    {
        var mirror = new Argument<string>("mirror") { Description = "Mirror: a directory path or file:// URL" };
        mirror.Validators.Add(result => RejectOptionLike(result, result.Tokens.Select(t => t.Value)));
        return mirror;
    }

    public static Argument<string[]> Queries(string description)
    {
        var queries = new Argument<string[]>("query") { Description = description, Arity = ArgumentArity.ZeroOrMore };
        queries.Validators.Add(result => RejectOptionLike(result, result.Tokens.Select(t => t.Value)));
        return queries;
    }

    /// <summary><c>--json</c>: results, and errors, as JSON on stdout (every verb has it).</summary>
    public static Option<bool> Json(string description = "Print JSON for machines (errors too)") =>
        new("--json") { Description = description };

    // System.CommandLine hands an unknown "--flag" to the next argument; say what it is instead.
    private static void RejectOptionLike(System.CommandLine.Parsing.ArgumentResult result, IEnumerable<string> values)
    {
        foreach (var value in values.Where(v => v.StartsWith('-')))
        {
            result.AddError($"unknown option '{value}'");
        }
    }
}
