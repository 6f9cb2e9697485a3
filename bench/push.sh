#!/usr/bin/env bash
# bench/push.sh -- `depot push` of a synthetic Spack install tree, against `gzip -6` on the same bytes and
# `spack buildcache push -j 2` (Spack 1.2) of the same tree, all measured in this run.
#
#   PACKAGES=50 MB_PER_PACKAGE=10 bench/push.sh      (defaults: 50 packages of 10 MB, about 500 MB)
#   BENCH_RUNS=5 (runs per row), SPACK_SNAPSHOTS=/work/.mirror (enables the Spack row; without it the row is skipped
#   and the script says so).
#
# Targets (issue 6): per-core throughput of depot push at least 80 % of single-core gzip -6 on the same bytes, and
# depot push -j 2 at least 3x faster than spack buildcache push -j 2 on the same tree.
# The tree is generated as Spack's install tree ($BENCH_SPACK_WD/opt, with stub recipes in a `benchpkgs` repo), so
# Depot and Spack read the very same prefixes and database.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
packages=${PACKAGES:-50}
mb=${MB_PER_PACKAGE:-10}
tree=$BENCH_SPACK_WD/opt
repo=$BENCH_SPACK_WD/repo/spack_repo/benchpkgs
bench_depot_build

echo "== push: generating $packages packages of $mb MB in $tree" >&2
python3 "$bench_here/make-install-tree.py" "$tree" "$packages" "$mb" --repo "$repo" > /dev/null
content=$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1)
content_mb=$(bench_calc "$content / 1e6" 0)
specs=$(bench_tree_specs "$tree")

# gzip -6 on the same bytes: a tar of all prefixes, in page cache, compressed alone.
tarball=$BENCH_OUT/push-tree.tar
tar -C "$tree" -cf "$tarball" linux-x86_64
cat "$tarball" > /dev/null
echo "== push: gzip -6" >&2
bench_measure push-gzip -- sh -c 'gzip -6 -c "$0" > /dev/null' "$tarball"
rm -f "$tarball"

mirror=$BENCH_OUT/push-mirror
clear_mirror() { rm -rf "$mirror"; sync; }
BENCH_BEFORE=clear_mirror
for j in 1 2; do
    echo "== push: depot push -j $j" >&2
    bench_measure "push-depot-j$j" -- "$DEPOT" push "$mirror" --all --unsigned --no-index -j "$j" --install-tree "$tree"
done

spack=0
spack_note=$(bench_spack_enabled) && spack=1
if [ "$spack" = 1 ]; then
    export SPACK12_REPOS=$repo
    echo "== push: spack buildcache push -j 2 (untimed warm-up with one spec first)" >&2
    rm -rf "$BENCH_OUT/push-mirror-warm"
    bench_spack buildcache push --unsigned "$BENCH_OUT/push-mirror-warm" "${specs%% *}" \
        > "$BENCH_DATA/push-spack-warm.log" 2>&1
    rm -rf "$BENCH_OUT/push-mirror-warm"
    # shellcheck disable=SC2086 # one argument per spec
    bench_measure push-spack -- "$SPACK12" "$BENCH_SPACK_WD" -- buildcache push -j 2 --unsigned "$mirror" $specs
    pushed=$(find "$mirror/v3/manifests/spec" -name '*.spec.manifest.json' | wc -l)
    [ "$pushed" = "$packages" ] || { echo "spack pushed $pushed of $packages specs" >&2; exit 1; }
fi
BENCH_BEFORE=
clear_mirror

gz=$(bench_stat push-gzip median)
j1=$(bench_stat push-depot-j1 median)
j2=$(bench_stat push-depot-j2 median)
pc1=$(bench_calc "$gz / $j1")
pc2=$(bench_calc "$gz / $j2 / 2")
bench_table_start "push: $packages packages, $content_mb MB of prefix content" \
    "Unsigned, no index. gzip -6 compresses a tar of the same prefixes (page cache warm). MB/s of the medians:
depot -j 1 $(bench_calc "$content / 1e6 / $j1" 1), -j 2 $(bench_calc "$content / 1e6 / $j2" 1);\
 gzip $(bench_calc "$content / 1e6 / $gz" 1)."
bench_row "gzip -6 (1 core, same bytes)" push-gzip "baseline" "—" "—"
bench_row "depot push -j 1" push-depot-j1 "per core ${pc1}x gzip" "≥ 0.8x gzip per core" \
    "$(bench_verdict_atleast "$pc1" 0.8 x)"
bench_row "depot push -j 2" push-depot-j2 "per core ${pc2}x gzip" "≥ 0.8x gzip per core" \
    "$(bench_verdict_atleast "$pc2" 0.8 x)"
if [ "$spack" = 1 ]; then
    sp=$(bench_stat push-spack median)
    ratio=$(bench_calc "$sp / $j2")
    bench_row "spack buildcache push -j 2 (Spack 1.2, same tree)" push-spack "depot -j 2 is ${ratio}x faster" \
        "depot -j 2 ≥ 3x faster" "$(bench_verdict_atleast "$ratio" 3 x)"
else
    echo "$spack_note"
fi
[ "${KEEP:-0}" = 1 ] || rm -rf "$tree"
