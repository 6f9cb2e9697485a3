#!/usr/bin/env bash
# bench/push.sh -- push throughput of `depot push` on a synthetic install tree, against single-core `gzip -6`.
#
#   PACKAGES=50 MB_PER_PACKAGE=20 bench/push.sh      (defaults: 50 packages, about 1 GB)
#   KEEP=1 keeps bench/out/push-tree between runs (it is regenerated when absent).
#   BENCH_SPACK="<spack command using this tree as its install tree>" adds a column for
#     `$BENCH_SPACK buildcache push -j 2 --unsigned <mirror> <every spec>`; without it the column is not printed.
#
# Prints one table: wall time and MB/s of prefix content for -j 1 and -j 2, gzip -6 over the same bytes (a tar of all
# prefixes, timed alone), and per-core throughput as a fraction of gzip's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/out
tree=$out/push-tree
packages=${PACKAGES:-50}
mb=${MB_PER_PACKAGE:-20}
mkdir -p "$out"
"$root/depot" --help > /dev/null # build first, outside the timings

if [ "${KEEP:-0}" != 1 ] || [ ! -f "$tree/.spack-db/index.json" ]; then
    python3 "$here/make-install-tree.py" "$tree" "$packages" "$mb" > /dev/null
fi
content=$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1)
content_mb=$(python3 -c "print(f'{$content / 1e6:.0f}')")

seconds() { python3 -c "import time; print(time.monotonic())"; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
rate() { python3 -c "print(f'{$content / 1e6 / $1:.1f}')"; }

# gzip -6 on the same bytes: tar the prefixes into page cache first, then time gzip alone.
tar -C "$tree" -cf "$out/push-tree.tar" linux-x86_64
cat "$out/push-tree.tar" > /dev/null
t0=$(seconds); gzip -6 -c "$out/push-tree.tar" > /dev/null; t1=$(seconds)
gzip_s=$(elapsed "$t0" "$t1"); rm -f "$out/push-tree.tar"

run_push() { # jobs -> seconds
    local mirror=$out/push-mirror-j$1
    rm -rf "$mirror"
    local a b
    a=$(seconds)
    "$root/depot" push "$mirror" --all --unsigned --no-index -j "$1" --install-tree "$tree" > "$out/push-j$1.log"
    b=$(seconds)
    rm -rf "$mirror"
    elapsed "$a" "$b"
}
cat "$tree"/linux-x86_64/*/lib/* > /dev/null 2>&1 || true # warm the page cache like gzip's input
j1=$(run_push 1)
j2=$(run_push 2)

spack_col=""
if [ -n "${BENCH_SPACK:-}" ]; then
    m=$out/push-mirror-spack; rm -rf "$m"
    a=$(seconds)
    $BENCH_SPACK buildcache push -j 2 --unsigned "$m" $(python3 -c "import json;print(' '.join('/'+h for h in json.load(open('$tree/.spack-db/index.json'))['database']['installs']))") > "$out/push-spack.log" 2>&1
    b=$(seconds); spack_col=$(elapsed "$a" "$b"); rm -rf "$m"
fi

echo "push: $packages packages, $content_mb MB of prefix content ($(nproc) cores)"
printf "%-28s %10s %10s %18s\n" "run" "seconds" "MB/s" "per core vs gzip"
printf "%-28s %10s %10s %18s\n" "gzip -6 (1 core, same bytes)" "$gzip_s" "$(rate "$gzip_s")" "100 %"
printf "%-28s %10s %10s %18s\n" "depot push -j 1" "$j1" "$(rate "$j1")" "$(python3 -c "print(f'{$gzip_s / $j1 * 100:.0f} %')")"
printf "%-28s %10s %10s %18s\n" "depot push -j 2" "$j2" "$(rate "$j2")" "$(python3 -c "print(f'{$gzip_s / $j2 / 2 * 100:.0f} %')")"
if [ -n "$spack_col" ]; then
    printf "%-28s %10s %10s %18s\n" "spack buildcache push -j 2" "$spack_col" "$(rate "$spack_col")" "depot is $(python3 -c "print(f'{$spack_col / $j2:.1f}x')") faster"
fi
[ "${KEEP:-0}" = 1 ] || rm -rf "$tree"
