namespace Depot.Relocation;

/// <summary>
/// Installs an <c>sbang</c> for trees that lack one. Spack rewrites scripts whose shebang is too long for the kernel
/// to start with <c>#!/bin/sh ROOT/bin/sbang</c> and keep the real shebang on line 2; this script (written for Depot,
/// POSIX sh) runs line 2's interpreter on the script, as Spack's does.
/// </summary>
public static class Sbang
{
    private const string Script = """
        #!/bin/sh
        # sbang (installed by Depot): run a script whose real shebang is on its second line.
        # Line 2 is "#!interpreter [arg]", or "--!..." (Lua), "//!..." (Node), "<?php #!... ?>" (PHP) where "#" is not
        # a comment.
        script=$1
        if [ -z "$script" ] || [ ! -r "$script" ]; then
            echo "sbang: cannot read script '$script'" >&2
            exit 1
        fi
        line=$(sed -n 2p "$script")
        case "$line" in
            "#!"*) interpreter=${line#??} ;;
            "--!"*|"//!"*) interpreter=${line#???} ;;
            "<?php #!"*) interpreter=${line#"<?php #!"}; interpreter=${interpreter%" ?>"} ;;
            *) echo "sbang: line 2 of $script is not a shebang" >&2; exit 1 ;;
        esac
        # Perl and Ruby read line 1's shebang themselves (and would start sbang again): -x makes them skip to the line
        # that names them. "/usr/bin/env perl" counts as perl.
        program=${interpreter%% *}
        case "$interpreter" in
            */env\ *) program=${interpreter#*/env }; program=${program%% *} ;;
        esac
        case "${program##*/}" in
            perl|ruby)
                # shellcheck disable=SC2086 # the interpreter line holds the command and one optional argument
                exec $interpreter -x "$@" ;;
        esac
        # shellcheck disable=SC2086
        exec $interpreter "$@"
        """;

    /// <summary>Writes the script at <paramref name="path"/> (mode 0755) unless something is there already.</summary>
    public static async Task InstallAsync(string path, CancellationToken cancellationToken = default)
    {
        if (File.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + $".depot-tmp-{Guid.NewGuid():N}";
        await File.WriteAllTextAsync(temp, Script.ReplaceLineEndings("\n") + "\n", cancellationToken)
            .ConfigureAwait(false);
        File.SetUnixFileMode(temp, (UnixFileMode)0x1ed);
        File.Move(temp, path, overwrite: false);
    }
}
