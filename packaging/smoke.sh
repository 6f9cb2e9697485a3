#!/usr/bin/env bash
# Smoke test of what Depot ships, run by ./test.sh after the unit tests: builds the release artefacts for this machine
# with packaging/build-release.sh (the self-contained single-file binary and the dotnet tool), then uses them as a
# user would: `depot --version`, `depot list` of the Spack 1.2 sample mirror, a signed push of the sample install
# tree to a new mirror and an install from it on a new root whose program runs, and the same through the dotnet tool
# installed into a temporary tool path. Everything happens in a temporary folder; nothing outside it is written.
#
# Prints one line per check, "smoke: ok NAME" or "smoke: FAILED NAME" followed by the command's last output lines,
# and exits 1 if any check failed (test.sh counts these lines). Usage: packaging/smoke.sh [--keep]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/depot-smoke.XXXXXX")
if [ "${1:-}" = "--keep" ]; then echo "smoke: working in $work (kept)"; else trap 'rm -rf "$work"' EXIT; fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The CLI reads its keyring and configuration here, never the user's ~/.depot.
export DEPOT_HOME=$work/home
tree=$here/tests/data/spack-1.2/install-tree
sample=$here/tests/data/spack-1.2/mirror-signed

passed=0 failed=0
# check NAME COMMAND...: runs the command, its output kept in $work/NAME.out.
check() {
    local name=$1
    shift
    if "$@" > "$work/$name.out" 2>&1; then
        echo "smoke: ok $name"
        passed=$((passed + 1))
    else
        echo "smoke: FAILED $name: $*"
        tail -n 25 "$work/$name.out" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}
# contains FILE TEXT: the file holds TEXT (fixed string).
contains() {
    grep -qF -- "$2" "$1" || { echo "expected '$2' in:"; cat "$1"; return 1; }
}

finish() {
    echo "smoke: $passed ok, $failed FAILED"
    [ "$failed" -eq 0 ]
    exit $?
}

start=$(date +%s)
check build-release "$here/packaging/build-release.sh" --host --out "$work/dist"
if [ "$failed" -gt 0 ]; then finish; fi
version=$(sed -n 's/^[0-9a-f]\{64\}  Depot\.Cli\.\(.*\)\.nupkg$/\1/p' "$work/dist/SHA256SUMS")

# The release tarball: sums, layout, a binary that runs without the SDK's help.
check sha256sums bash -c 'cd "$1" && sha256sum -c --strict SHA256SUMS' _ "$work/dist"
mkdir -p "$work/unpacked"
check unpack bash -c 'tar -xzf "$1"/depot-*.tar.gz -C "$2" && test -x "$2"/depot-*/bin/depot' _ "$work/dist" \
    "$work/unpacked"
depot=$(echo "$work"/unpacked/depot-*/bin/depot)
single_file() { # the tarball's bin/ holds the binary alone, and it runs with no .NET on PATH
    [ "$(ls "$(dirname "$depot")")" = depot ] || { ls -l "$(dirname "$depot")"; return 1; }
    env DOTNET_ROOT=/nonexistent-dotnet PATH=/nonexistent-bin "$depot" --version > "$work/version.txt" 2>&1 \
        || { cat "$work/version.txt"; return 1; }
    contains "$work/version.txt" "$version"
}
check single-file-version single_file

list_sample() {
    "$1" list "$sample" > "$work/list.txt" 2>&1 || { cat "$work/list.txt"; return 1; }
    contains "$work/list.txt" greet && contains "$work/list.txt" libgreet
}
check single-file-list list_sample "$depot"

# The README's main job with the shipped binary: a key of its own, a signed push, a verified install, the program runs.
round_trip() {
    local bin=$1 dir=$work/$2
    mkdir -p "$dir"
    "$bin" keys create "Depot Smoke" smoke@example.invalid --algorithm ed25519 || return 1
    "$bin" push "$dir/cache" --all --install-tree "$tree" || return 1
    "$bin" verify "$dir/cache" || return 1
    "$bin" install greet --from "$dir/cache" --root "$dir/sw" || return 1
    local program
    program=$(echo "$dir"/sw/greet-*/bin/greet)
    [ -x "$program" ] || { echo "no greet program under $dir/sw"; ls -R "$dir/sw" | head -n 40; return 1; }
    "$program"
}
check single-file-push-install round_trip "$depot" roundtrip-single-file

# The dotnet tool, from the built package only (a private NuGet folder: never a cached or remote Depot.Cli).
cat > "$work/nuget.config" << EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="dist" value="$work/dist" />
  </packageSources>
</configuration>
EOF
check tool-install env NUGET_PACKAGES="$work/nuget-packages" dotnet tool install Depot.Cli --version "$version" \
    --tool-path "$work/tool" --configfile "$work/nuget.config"
tool_version() {
    "$work/tool/depot" --version > "$work/tool-version.txt" 2>&1 || { cat "$work/tool-version.txt"; return 1; }
    contains "$work/tool-version.txt" "$version"
}
check tool-version tool_version
check tool-list list_sample "$work/tool/depot"
rm -rf "$DEPOT_HOME"
check tool-push-install round_trip "$work/tool/depot" roundtrip-tool

echo "smoke: took $(($(date +%s) - start)) s"
finish
