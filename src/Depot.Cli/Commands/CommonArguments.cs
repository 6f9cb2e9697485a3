using System.CommandLine;
using System.Globalization;

namespace Depot.Cli.Commands;

/// <summary>Arguments several commands share, with the same names, help and validation everywhere.</summary>
public static class CommonArguments
{
    /// <summary>The most parallel work <c>-j</c> accepts.</summary>
    public const int MaxJobs = 1024;

    /// <summary>What a mirror argument accepts, in every verb's help.</summary>
    public const string MirrorForms =
        "a directory path, file://, s3://, gs://, azure://, https:// (read-only), oci:// or oci+http:// URL, "
        + "or the name of a configured mirror (Depot's or Spack's)";

    /// <summary>The mirror a verb works on (<paramref name="role"/> says which, for verbs with two).</summary>
    public static Argument<string> Mirror(string role = "Mirror") =>
        new("mirror") { Description = $"{role}: {MirrorForms}" };

    public static Argument<string[]> Queries(string description) =>
        new("query") { Description = description, Arity = ArgumentArity.ZeroOrMore };

    /// <summary><c>--json</c>: results, and errors, as JSON on stdout (every verb has it).</summary>
    public static Option<bool> Json(string description = "Print JSON for machines (errors too)") =>
        new("--json") { Description = description };

    /// <summary>
    /// <c>-j/--jobs N</c>: a whole number from 1 to <see cref="MaxJobs"/>, anything else a usage error naming the
    /// option and the range. No value when not given (the verb applies its default, which the help states once).
    /// </summary>
    public static Option<int?> Jobs(string what, string defaultText)
    {
        var jobs = new Option<int?>("--jobs", "-j")
        {
            Description = $"{what} (default: {defaultText})",
            HelpName = "N",
        };
        jobs.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && n is >= 1 and <= MaxJobs)
            {
                return n;
            }

            result.AddError($"-j/--jobs takes a whole number from 1 to {MaxJobs}, not '{text}'");
            return null;
        };
        return jobs;
    }
}
