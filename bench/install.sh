#!/usr/bin/env bash
# bench/install.sh -- `depot install` of a synthetic 20-package DAG (about 500 MB) from a local, signed mirror.
#
#   PACKAGES=20 MB_PER_PACKAGE=25 bench/install.sh
#   KEEP=1 keeps bench/out/install-tree and its mirror between runs.
#   BENCH_SPACK_INSTALL="<command>" adds a row: it is run as-is and timed (e.g. a script that runs
#     `spack install --cache-only` of the same specs from the same mirror into a fresh Spack); without it, no row.
#
# Prints one table: wall time of the whole install, and the per-phase times summed over packages (verify: entry and
# signature; fetch: tarball copy with sha256; extract: safe unpacking; relocate: text, ELF and string rewriting).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out
tree=$out/install-tree
mirror=$out/install-mirror
# A new root per run: ext4 creates files slowly for minutes after many were deleted (recently_deleted() in inode
# allocation), so deleting the previous run's root just before this one would measure the file system, not Depot.
target=$out/install-root-$(date +%s)
packages=${PACKAGES:-20}
mb=${MB_PER_PACKAGE:-25}
export DEPOT_HOME=$out/install-home
mkdir -p "$out"
"$root/depot" --help > /dev/null # build first, outside the timings

if [ "${KEEP:-0}" != 1 ] || [ ! -d "$mirror/v3" ]; then
    rm -rf "$tree" "$mirror" "$DEPOT_HOME"
    python3 "$here/make-install-tree.py" "$tree" "$packages" "$mb" > /dev/null
    "$root/depot" keys create "Bench Key" bench@example.invalid --algorithm rsa2048 > /dev/null
    "$root/depot" push "$mirror" --all --install-tree "$tree" -j 2 > "$out/install-push.log"
fi
specs=$(python3 -c "import json;print(' '.join('/'+h for h in json.load(open('$tree/.spack-db/index.json'))['database']['installs']))")
content=$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1)

sync
start=$(python3 -c "import time; print(time.monotonic())")
# shellcheck disable=SC2086 # one argument per spec
"$root/depot" install $specs --from "$mirror" --root "$target" --json > "$out/install.json"
end=$(python3 -c "import time; print(time.monotonic())")

python3 - "$out/install.json" "$start" "$end" "$content" "$packages" <<'PY'
import json, sys
result = json.load(open(sys.argv[1])); wall = float(sys.argv[3]) - float(sys.argv[2])
content, packages = int(sys.argv[4]), sys.argv[5]
installed = [s for s in result["specs"] if s["status"] == "installed"]
phase = lambda p: sum(s["seconds"][p] for s in installed)
print(f"install: {len(installed)} of {packages} packages, {content / 1e6:.0f} MB of prefix content, from a signed local mirror")
print(f"{'run':<34} {'seconds':>8}")
print(f"{'depot install (wall, -j default)':<34} {wall:>8.2f}")
for p in ("verify", "fetch", "extract", "relocate"):
    print(f"{'  ' + p + ' (summed over packages)':<34} {phase(p):>8.2f}")
PY
if [ -n "${BENCH_SPACK_INSTALL:-}" ]; then
    a=$(python3 -c "import time; print(time.monotonic())")
    $BENCH_SPACK_INSTALL > "$out/install-spack.log" 2>&1
    b=$(python3 -c "import time; print(time.monotonic())")
    printf "%-34s %8.2f\n" "spack install --cache-only" "$(python3 -c "print($b - $a)")"
fi
rm -rf "$target"
[ "${KEEP:-0}" = 1 ] || rm -rf "$tree" "$mirror"
