using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Depot.Cli;

/// <summary>
/// What is wrong with a command line, as one line in Depot's words with the fix: an unknown option or command (with
/// "did you mean" when one is close), a missing argument, a bad option value; each ends with the help page to read.
/// The parser's own messages (several lines, .NET type names, a wrong help command) never reach the user.
/// </summary>
internal static partial class UsageErrors
{
    /// <summary>The first problem with the command line, or null when there is none.</summary>
    public static string? Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var help = $"see '{HelpCommand(command)}'";
        // An unknown "--flag" before or among positional values is taken as one of them by the parser (and a real
        // value after it may then be left over): the flag is the mistake.
        if ((OptionLikeArgument(parse) ?? parse.UnmatchedTokens.FirstOrDefault(IsOptionLike)) is { } option)
        {
            return UnknownOption(command, option, help);
        }

        if (parse.UnmatchedTokens.Count > 0)
        {
            return Unmatched(command, parse.UnmatchedTokens[0], help);
        }

        if (parse.Errors.Count == 0)
        {
            return null;
        }

        var error = parse.Errors[0];
        var message = error.Message;
        // What the error is about: an option, named as typed (-j or --jobs), or a positional argument (<shell>).
        var name = error.SymbolResult switch
        {
            ArgumentResult { Parent: OptionResult o } => o.IdentifierToken?.Value ?? o.Option.Name,
            OptionResult o => o.IdentifierToken?.Value ?? o.Option.Name,
            ArgumentResult a => $"<{a.Argument.Name}>",
            _ => null,
        };
        if (name is not null)
        {
            message = OneOf().Match(message) is { Success: true } oneOf
                ? $"{name} takes one of {string.Join(", ", Values(oneOf.Groups[2].Value))}, "
                    + $"not '{oneOf.Groups[1].Value}'"
                : MissingValue().IsMatch(message) ? $"{name} needs a value"
                : MissingArgument().IsMatch(message) ? $"missing argument {name}"
                : message;
        }
        else if (RequiredOption().Match(message) is { Success: true } required)
        {
            message = $"missing option {required.Groups[1].Value}";
        }
        else if (message == "Required command was not provided.")
        {
            message = "name a command: "
                + string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        }

        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', lines) + "; " + help;
    }

    /// <summary>The command that shows <paramref name="command"/>'s help: <c>depot mirror add --help</c>.</summary>
    public static string HelpCommand(Command command)
    {
        var path = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            path.Add(c.Name);
        }

        path.Reverse();
        return string.Join(' ', path) + " --help";
    }

    /// <summary>
    /// The closest of <paramref name="candidates"/> to <paramref name="typed"/> (a typo: at most two edits, or
    /// the only one it starts), or null.
    /// </summary>
    public static string? Closest(string typed, IEnumerable<string> candidates)
    {
        var list = candidates.Distinct(StringComparer.Ordinal).ToList();
        var best = list.Select(c => (Name: c, Distance: Distance(typed, c)))
            .Where(c => c.Distance <= Math.Min(2, Math.Max(1, c.Name.Length / 3)))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => c.Name).FirstOrDefault();
        if (best is not null)
        {
            return best;
        }

        var started = list.Where(c => typed.Length >= 2 && c.StartsWith(typed, StringComparison.Ordinal)).ToList();
        return started.Count == 1 ? started[0] : null;
    }

    /// <summary>Edits (insert, delete, replace, swap two neighbours) that turn <paramref name="a"/> into
    /// <paramref name="b"/>.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    private static bool IsOptionLike(string token) => token.Length > 1 && token.StartsWith('-');

    private static string Unmatched(Command command, string token, string help)
    {
        var commands = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name)).ToList();
        if (commands.Count > 0 && command.Arguments.Count == 0)
        {
            return Closest(token, commands) is { } near
                ? $"unknown command '{token}'; did you mean '{near}'?"
                : $"unknown command '{token}'; {help}";
        }

        return $"unexpected argument '{token}'; {help}";
    }

    private static string UnknownOption(Command command, string token, string help)
    {
        var name = token.Split('=', ':')[0];
        var options = OptionsOf(command).Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name))
            .Where(n => n.StartsWith("--", StringComparison.Ordinal));
        return name.StartsWith("--", StringComparison.Ordinal) && Closest(name, options) is { } near
            ? $"unknown option '{name}'; did you mean '{near}'?"
            : $"unknown option '{name}'; {help}";
    }

    /// <summary>The command's options and those its parents pass down (<c>--help</c>).</summary>
    private static IEnumerable<Option> OptionsOf(Command command)
    {
        foreach (var option in command.Options)
        {
            yield return option;
        }

        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null;
            parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in parent.Options.Where(o => o.Recursive))
            {
                yield return option;
            }
        }
    }

    /// <summary>A positional value that looks like an option (<c>--bogus</c>, <c>-x</c>), unless it follows
    /// <c>--</c>.</summary>
    private static string? OptionLikeArgument(ParseResult parse)
    {
        var afterDoubleDash = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        var seen = false;
        foreach (var token in parse.Tokens)
        {
            if (seen)
            {
                afterDoubleDash.Add(token);
            }

            seen |= token.Type == TokenType.DoubleDash;
        }

        return parse.CommandResult.Children.OfType<ArgumentResult>()
            .SelectMany(a => a.Tokens)
            .FirstOrDefault(t => IsOptionLike(t.Value) && !afterDoubleDash.Contains(t))?.Value;
    }

    private static IEnumerable<string> Values(string list) =>
        list.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Trim('\''));

    [GeneratedRegex(@"^Argument '(.*)' not recognized\. Must be one of:(.*)$", RegexOptions.Singleline)]
    private static partial Regex OneOf();

    [GeneratedRegex(@"^Required argument missing for option")]
    private static partial Regex MissingValue();

    [GeneratedRegex(@"^Required argument missing for command")]
    private static partial Regex MissingArgument();

    [GeneratedRegex(@"^Option '(.+)' is required\.$")]
    private static partial Regex RequiredOption();
}
