#!/usr/bin/env bash
# Builds Depot's release artefacts into dist/ (or --out DIR):
#   depot-<version>-<rid>.tar.gz   a self-contained single-file `depot` per runtime identifier, no .NET needed where it
#                                  runs: depot-<version>-<rid>/bin/depot, README.md, and the shell completions when
#                                  the host can run one of the binaries (share/{bash-completion,zsh,fish}/...)
#   Depot.Cli.<version>.nupkg      the dotnet tool (`dotnet tool install --add-source dist Depot.Cli`)
#   SHA256SUMS                     `sha256sum -c` format, over every artefact in the folder
# Tarballs are reproducible for the same sources and SDK: sorted members, owner 0, times from the last commit.
#
# Usage: packaging/build-release.sh [--rid RID]... [--host] [--out DIR] [--mode r2r|plain|aot] [--no-tool]
#                                   [--no-binaries] [--runtime-version V] [-- EXTRA dotnet publish ARGS]
#   --rid RID        a .NET runtime identifier; repeatable (default: linux-x64 and linux-arm64)
#   --host           only this machine's RID (as `dotnet --info` names it)
#   --mode           r2r (default): single file, ReadyToRun-compiled (fast start, works for every store SDK);
#                    plain: single file, IL only (smaller, slower start);
#                    aot: Native AOT (needs the target's native toolchain, so in practice only the host RID)
#   --runtime-version V   the .NET runtime packed into the binaries (default: the SDK's own, the newest it knows)
#   Environment: DOTNET (the dotnet to use), SOURCE_DATE_EPOCH (tarball times).
# No trimming: the cloud SDKs (AWS, Google, Azure) read their types by reflection, which the trimmer would cut.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dotnet=${DOTNET:-dotnet}
project=$here/src/Depot.Cli/Depot.Cli.csproj

rids=() out=$here/dist mode=r2r tool=1 binaries=1 host=0 runtime_version= extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --rid) rids+=("${2:?--rid needs a runtime identifier, e.g. linux-arm64}"); shift 2 ;;
        --host) host=1; shift ;;
        --out) out=${2:?--out needs a folder}; shift 2 ;;
        --mode) mode=${2:?--mode needs r2r, plain or aot}; shift 2 ;;
        --no-tool) tool=0; shift ;;
        --no-binaries) binaries=0; shift ;;
        --runtime-version) runtime_version=${2:?--runtime-version needs a version, e.g. 10.0.12}; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-release.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $mode in
    r2r) publish_mode=(-p:PublishSingleFile=true -p:PublishReadyToRun=true) ;;
    plain) publish_mode=(-p:PublishSingleFile=true -p:PublishReadyToRun=false) ;;
    aot) publish_mode=(-p:PublishAot=true) ;;
    *) echo "build-release.sh: error: --mode must be r2r, plain or aot, not '$mode'" >&2; exit 2 ;;
esac
command -v "$dotnet" > /dev/null 2>&1 \
    || { echo "build-release.sh: error: the .NET 10 SDK ('$dotnet') is not on PATH; install it first" >&2; exit 1; }
if [ "$host" = 1 ]; then
    rid=$("$dotnet" --info 2> /dev/null | sed -n 's/^ *RID: *//p' | head -n 1)
    [ -n "$rid" ] || { echo "build-release.sh: error: 'dotnet --info' names no RID for this machine" >&2; exit 1; }
    rids=("$rid")
fi
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64)
runtime=()
[ -z "$runtime_version" ] || runtime=(-p:RuntimeFrameworkVersion="$runtime_version")

mkdir -p "$out"
out=$(cd "$out" && pwd)
version=$("$dotnet" msbuild "$project" -getProperty:Version -nologo 2> /dev/null | tr -d '[:space:]')
[ -n "$version" ] || { echo "build-release.sh: error: could not read Version from $project" >&2; exit 1; }
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2> /dev/null || echo 0)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

run() { # <log name> <command...>: quiet unless it fails
    local log=$work/$1.log
    shift
    if ! "$@" > "$log" 2>&1; then
        grep -E ' error |error [A-Z]+[0-9]+|: error' "$log" | sort -u | head -n 40 >&2 || true
        echo "build-release.sh: error: '$*' failed (full log above or in $log)" >&2
        tail -n 20 "$log" >&2
        trap - EXIT
        exit 1
    fi
}

completions=
if [ "$binaries" = 1 ]; then
    for rid in "${rids[@]}"; do
        name=depot-$version-$rid
        stage=$work/$name
        echo "build-release.sh: $name.tar.gz ($mode)"
        run "publish-$rid" "$dotnet" publish "$project" -c Release -r "$rid" --self-contained true \
            "${publish_mode[@]}" "${runtime[@]}" -p:DebugType=none -p:PublishReferencesDocumentationFiles=false \
            -o "$work/publish-$rid" --nologo "${extra[@]}"
        mkdir -p "$stage/bin"
        if [ -f "$work/publish-$rid/Depot.Cli" ]; then
            cp "$work/publish-$rid/Depot.Cli" "$stage/bin/depot"
        else
            echo "build-release.sh: error: the publish for $rid made no Depot.Cli binary" >&2; exit 1
        fi
        # A single file means a single file: anything else the publish left next to it would be missing at run time.
        others=$(find "$work/publish-$rid" -type f ! -name Depot.Cli ! -name '*.pdb' ! -name '*.dbg' ! -name '*.xml' \
            -printf '%f ')
        if [ -n "$others" ]; then
            echo "build-release.sh: error: the $rid publish needs files beside the binary: $others" >&2; exit 1
        fi
        cp "$here/README.md" "$stage/README.md"
        # Completions come from a binary this machine can run (the host's); the scripts are the same for every RID.
        if [ -z "$completions" ] && "$stage/bin/depot" --version > /dev/null 2>&1 \
                && "$stage/bin/depot" completion bash > /dev/null 2>&1; then
            completions=$work/completions
            mkdir -p "$completions/share/bash-completion/completions" "$completions/share/zsh/site-functions" \
                "$completions/share/fish/vendor_completions.d"
            "$stage/bin/depot" completion bash > "$completions/share/bash-completion/completions/depot"
            "$stage/bin/depot" completion zsh > "$completions/share/zsh/site-functions/_depot"
            "$stage/bin/depot" completion fish > "$completions/share/fish/vendor_completions.d/depot.fish"
        fi
    done
    for rid in "${rids[@]}"; do
        name=depot-$version-$rid
        [ -z "$completions" ] || cp -r "$completions/share" "$work/$name/"
        find "$work/$name" -exec touch -h -d "@$epoch" {} +
        tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode='u+w,go-w' \
            -C "$work" -cf - "$name" | gzip -n -9 > "$out/$name.tar.gz.tmp"
        mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
    done
fi

if [ "$tool" = 1 ]; then
    echo "build-release.sh: Depot.Cli.$version.nupkg (dotnet tool)"
    run pack "$dotnet" pack "$project" -c Release -o "$work/pack" --nologo -p:DebugType=none
    cp "$work/pack/Depot.Cli.$version.nupkg" "$out/"
fi

# Sums of every artefact in the folder (earlier runs' too), so one file checks a whole dist/.
(
    cd "$out"
    shopt -s nullglob
    files=(depot-*.tar.gz *.nupkg)
    if [ ${#files[@]} -gt 0 ]; then sha256sum "${files[@]}" > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS; fi
)
echo "build-release.sh: done: $out"
(cd "$out" && cat SHA256SUMS)
