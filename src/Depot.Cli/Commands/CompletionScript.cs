using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.Text;

namespace Depot.Cli.Commands;

/// <summary>
/// Writes the completion scripts of <c>depot completion bash|zsh|fish</c> from the command tree itself: per command,
/// its subcommands, its options, the values an option takes (fixed choices, mirror names, paths) and what its
/// positional arguments are. The scripts are static (no process per key press) except where a mirror is wanted: then
/// they ask <c>depot completion --mirror-names</c> for the configured names, and offer paths too.
/// </summary>
internal static class CompletionScript
{
    /// <summary>Stands for the configured mirror names in a list of candidates.</summary>
    private const string Mirrors = "@mirrors";

    /// <summary>Stands for file and directory names.</summary>
    private const string Files = "@files";

    private static readonly HashSet<string> MirrorArguments =
        new(["mirror", "source", "destination", "target"], StringComparer.Ordinal);

    /// <summary>Options whose value is a path (or, for --url, may be one); other free-text values get no
    /// candidates.</summary>
    private static readonly HashSet<string> PathOptions = new(["--install-tree", "--root", "--output", "--gpg-home",
        "--spack-prefix", "--ca-cert", "--gcs-key-file", "--url"], StringComparer.Ordinal);

    public static string For(string shell, Command root) => shell switch
    {
        "fish" => Fish(Nodes(root)),
        "zsh" => Posix(Nodes(root), "zsh", ZshGlue),
        _ => Posix(Nodes(root), "bash", BashGlue),
    };

    /// <summary>One command of the tree: where it is (names after <c>depot</c>) and what may follow it.</summary>
    private sealed record Node(string Path, IReadOnlyList<string> Subcommands, IReadOnlyList<string> Options,
        IReadOnlyList<ValueOption> ValueOptions, IReadOnlyList<string> Positional);

    /// <summary>An option that takes a value: its names, and the candidates for the value.</summary>
    private sealed record ValueOption(IReadOnlyList<string> Names, IReadOnlyList<string> Values);

    private static List<Node> Nodes(Command root)
    {
        var nodes = new List<Node>();
        void Walk(Command command, string path, IReadOnlyList<Option> inherited)
        {
            var options = command.Options.Concat(inherited).Where(o => !o.Hidden).ToList();
            var valueOptions = options.Where(TakesValue).Select(o => new ValueOption(Names(o), ValuesOf(o))).ToList();
            var positional = command.Arguments.Where(a => !a.Hidden).SelectMany(a => ValuesOf(a)).Distinct().ToList();
            var subcommands = command.Subcommands.Where(c => !c.Hidden).ToList();
            nodes.Add(new Node(path, subcommands.SelectMany(c => c.Aliases.Prepend(c.Name)).ToList(),
                options.SelectMany(o => Names(o)).ToList(), valueOptions, positional));
            var passedDown = inherited.Concat(command.Options.Where(o => o.Recursive)).ToList();
            foreach (var sub in subcommands)
            {
                Walk(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name, passedDown);
                foreach (var alias in sub.Aliases)
                {
                    Walk(sub, path.Length == 0 ? alias : path + " " + alias, passedDown);
                }
            }
        }

        Walk(root, "", []);
        return nodes;
    }

    private static bool TakesValue(Option option) =>
        option is not (HelpOption or VersionOption) && option.ValueType != typeof(bool)
            && option.Arity.MaximumNumberOfValues > 0;

    /// <summary>The names a user types for an option (no Windows-style <c>/h</c>, no <c>-?</c>).</summary>
    private static List<string> Names(Option option) =>
        option.Aliases.Prepend(option.Name)
            .Where(n => n.StartsWith('-') && n.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            .Distinct().ToList();

    private static List<string> ValuesOf(Option option)
    {
        if (option.Name == "--from")
        {
            return [Mirrors, Files];
        }

        var fixedValues = option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
        return fixedValues.Count > 0 ? fixedValues : PathOptions.Contains(option.Name) ? [Files] : [];
    }

    private static List<string> ValuesOf(Argument argument)
    {
        if (MirrorArguments.Contains(argument.Name))
        {
            return [Mirrors, Files];
        }

        var fixedValues = argument.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
        return fixedValues.Count > 0 ? fixedValues : argument.Name is "file" or "url" ? [Files] : [];
    }

    /// <summary>bash and zsh share the candidate logic (POSIX shell); each adds its own glue.</summary>
    private static string Posix(List<Node> nodes, string shell, string glue)
    {
        var s = new StringBuilder();
        s.Append($"""
            # depot completion for {shell}, generated by 'depot completion {shell}'. Load it from the shell's
            # startup file with:   source <(depot completion {shell})

            """);
        Case(s, "_depot_subs", nodes.Where(n => n.Subcommands.Count > 0).Select(n => (n.Path, n.Subcommands)));
        Case(s, "_depot_opts", nodes.Select(n => (n.Path, n.Options)));
        s.Append("# Prints what option $2 of command $1 takes; fails for an option that takes no value.\n");
        s.Append("_depot_values() {\n    case \"$1|$2\" in\n");
        foreach (var node in nodes)
        {
            foreach (var (names, values) in node.ValueOptions)
            {
                var patterns = string.Join('|', names.Select(n => Quote(node.Path + "|" + n)));
                s.Append($"        {patterns}) {PrintLine} {Quote(string.Join(' ', values))} ;;\n");
            }
        }

        s.Append("        *) return 1 ;;\n    esac\n}\n\n");
        Case(s, "_depot_positional", nodes.Where(n => n.Positional.Count > 0).Select(n => (n.Path, n.Positional)));
        s.Append(PosixCandidates);
        s.Append(glue);
        return s.ToString();
    }

    private static void Case(StringBuilder s, string function,
        IEnumerable<(string Path, IReadOnlyList<string> Words)> rows)
    {
        s.Append($"{function}() {{\n    case \"$1\" in\n");
        foreach (var (path, words) in rows)
        {
            s.Append($"        {Quote(path)}) {PrintLine} {Quote(string.Join(' ', words))} ;;\n");
        }

        s.Append("    esac\n}\n\n");
    }

    private static string Fish(List<Node> nodes)
    {
        var s = new StringBuilder();
        s.Append("""
            # depot completion for fish, generated by 'depot completion fish'. Load it with
            #   depot completion fish | source
            # or save it as ~/.config/fish/completions/depot.fish

            """);
        FishSwitch(s, "__depot_subs", nodes.Where(n => n.Subcommands.Count > 0).Select(n => (n.Path, n.Subcommands)));
        FishSwitch(s, "__depot_opts", nodes.Select(n => (n.Path, n.Options)));
        s.Append("function __depot_values\n    switch \"$argv[1]|$argv[2]\"\n");
        foreach (var node in nodes)
        {
            foreach (var (names, values) in node.ValueOptions)
            {
                s.Append($"        case {string.Join(' ', names.Select(n => Quote(node.Path + "|" + n)))}\n");
                if (values.Count > 0)
                {
                    s.Append($"            {PrintLine} {string.Join(' ', values)}\n");
                }

                s.Append("            return 0\n");
            }
        }

        s.Append("        case '*'\n            return 1\n    end\nend\n\n");
        FishSwitch(s, "__depot_positional",
            nodes.Where(n => n.Positional.Count > 0).Select(n => (n.Path, n.Positional)));
        s.Append(FishCandidates);
        return s.ToString();
    }

    private static void FishSwitch(StringBuilder s, string function,
        IEnumerable<(string Path, IReadOnlyList<string> Words)> rows)
    {
        s.Append($"function {function}\n    switch \"$argv[1]\"\n");
        foreach (var (path, words) in rows)
        {
            s.Append($"        case {Quote(path)}\n            {PrintLine} {string.Join(' ', words)}\n");
        }

        s.Append("    end\nend\n\n");
    }

    /// <summary>Prints each argument on a line (never <c>echo</c>, which may take a word for its option).</summary>
    private const string PrintLine = "printf '%s\\n'";

    /// <summary>Single-quoted for sh and fish (the words are option names and plain values: no quotes
    /// inside).</summary>
    private static string Quote(string word) => "'" + word.Replace("'", "", StringComparison.Ordinal) + "'";

    /// <summary>
    /// <c>_depot_candidates WORD... CURRENT</c>: the words after <c>depot</c>, the last being the one completed;
    /// prints the candidates that start with it, one a line (<c>@files</c>: offer paths too). Walks the words to the
    /// command they name, skipping options and the values of those that take one.
    /// </summary>
    private const string PosixCandidates = """
        _depot_has() {
            local _dw
            for _dw in $(printf '%s\n' "$1"); do [ "$_dw" = "$2" ] && return 0; done
            return 1
        }

        _depot_candidates() {
            local _dp="" _dprev="" _dskip="" _dstop="" _dvals="" _dc
            while [ $# -gt 1 ]; do
                if [ -n "$_dskip" ]; then
                    _dskip=""
                else
                    case "$1" in
                        -*) _depot_values "$_dp" "$1" >/dev/null && _dskip=1 ;;
                        *)
                            if [ -z "$_dstop" ] && _depot_has "$(_depot_subs "$_dp")" "$1"; then
                                _dp="${_dp:+$_dp }$1"
                            else
                                _dstop=1
                            fi ;;
                    esac
                fi
                _dprev=$1
                shift
            done
            if [ -n "$_dskip" ]; then
                _dvals=$(_depot_values "$_dp" "$_dprev")
            else
                case "$1" in
                    -*) _dvals=$(_depot_opts "$_dp") ;;
                    *) _dvals="$(_depot_subs "$_dp") $(_depot_positional "$_dp")" ;;
                esac
            fi
            for _dc in $(printf '%s\n' "$_dvals"); do
                case "$_dc" in
                    @files) printf '%s\n' "@files" ;;
                    @mirrors)
                        depot completion --mirror-names 2>/dev/null | while IFS= read -r _dc; do
                            case "$_dc" in "$1"*) printf '%s\n' "$_dc" ;; esac
                        done ;;
                    "$1"*) printf '%s\n' "$_dc" ;;
                esac
            done
        }


        """;

    private const string BashGlue = """
        _depot() {
            local _dline _dfiles=""
            COMPREPLY=()
            while IFS= read -r _dline; do
                if [ "$_dline" = "@files" ]; then _dfiles=1; elif [ -n "$_dline" ]; then COMPREPLY+=("$_dline"); fi
            done < <(_depot_candidates "${COMP_WORDS[@]:1:COMP_CWORD}")
            if [ -n "$_dfiles" ]; then
                compopt -o filenames 2>/dev/null
                while IFS= read -r _dline; do COMPREPLY+=("$_dline"); done \
                    < <(compgen -f -- "${COMP_WORDS[COMP_CWORD]}")
            fi
        }
        complete -F _depot depot

        """;

    private const string ZshGlue = """
        _depot() {
            local -a _dcands
            local _dline _dfiles=0
            for _dline in "${(@f)$(_depot_candidates "${(@)words[2,CURRENT]}")}"; do
                if [[ $_dline == @files ]]; then _dfiles=1; elif [[ -n $_dline ]]; then _dcands+=("$_dline"); fi
            done
            (( ${#_dcands} )) && compadd -- "${_dcands[@]}"
            (( _dfiles )) && _files
            return 0
        }
        if (( $+functions[compdef] )); then compdef _depot depot; fi

        """;

    /// <summary>fish: the same walk, on <c>commandline</c>'s tokens; fish itself keeps the candidates that
    /// fit.</summary>
    private const string FishCandidates = """
        function __depot_candidates
            set -l words (commandline -opc)
            set -e words[1]
            set -l cur (commandline -ct)
            set -l dp ''
            set -l prev ''
            set -l skip 0
            set -l stop 0
            for w in $words
                if test $skip = 1
                    set skip 0
                else if string match -q -- '-*' $w
                    if __depot_values "$dp" $w >/dev/null
                        set skip 1
                    end
                else if test $stop = 0; and contains -- $w (__depot_subs "$dp")
                    set dp (string trim -- "$dp $w")
                else
                    set stop 1
                end
                set prev $w
            end
            set -l vals
            if test $skip = 1
                set vals (__depot_values "$dp" $prev)
            else if string match -q -- '-*' "$cur"
                set vals (__depot_opts "$dp")
            else
                set vals (__depot_subs "$dp") (__depot_positional "$dp")
            end
            for v in $vals
                switch $v
                    case '@files'
                        __fish_complete_path "$cur"
                    case '@mirrors'
                        depot completion --mirror-names 2>/dev/null
                    case '*'
                        printf '%s\n' $v
                end
            end
        end

        complete -c depot -f -a '(__depot_candidates)'

        """;
}
