#!/usr/bin/env bash
# bench/install.sh -- `depot install` of a synthetic DAG from a signed local mirror into an empty Spack install tree,
# against `spack install --cache-only` (Spack 1.2) of the same specs from the same mirror, measured in this run.
#
#   PACKAGES=20 MB_PER_PACKAGE=25 bench/install.sh    (defaults: 20 packages, about 500 MB)
#   BENCH_RUNS=5, SPACK_SNAPSHOTS=/work/.mirror (enables the Spack row; without it the script says it is skipped).
#
# Target (issue 7): depot install at least 5x faster than spack install --cache-only of the same DAG.
# Both verify the signatures (Spack trusts the Depot key published in the mirror) and install into an empty install
# tree of the same path length, registering in its database. Every run gets a new tree: the previous one is moved
# aside and deleted only at the end (ext4 creates files slowly for minutes after many were deleted).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
packages=${PACKAGES:-20}
mb=${MB_PER_PACKAGE:-25}
wd=$BENCH_SPACK_WD
tree=$wd/opt
repo=$wd/repo/spack_repo/benchpkgs
mirror=$BENCH_OUT/install-mirror
trash=$wd/trash
export DEPOT_HOME=$BENCH_OUT/install-home
bench_depot_build

echo "== install: generating $packages packages of $mb MB, pushing them signed" >&2
rm -rf "$mirror" "$DEPOT_HOME" "$trash"
mkdir -p "$trash"
python3 "$bench_here/make-install-tree.py" "$tree" "$packages" "$mb" --repo "$repo" > /dev/null
content=$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1)
specs=$(bench_tree_specs "$tree")
"$DEPOT" keys create "Bench Key" bench@example.invalid --algorithm rsa2048 > /dev/null
"$DEPOT" push "$mirror" --all --install-tree "$tree" -j 2 > "$BENCH_DATA/install-push.log"
mv "$tree" "$trash/source-tree"

moved=0
aside() { # DIR: move a previous run's tree out of the way, make a new empty one
    moved=$((moved + 1))
    [ ! -e "$1" ] || mv "$1" "$trash/$(basename "$1")-$moved"
    mkdir -p "$1"
    sync
}
new_depot_tree() { aside "$wd/dpt"; } # same path length as $wd/opt
check_installed() { # TREE
    local n
    n=$(find "$1/linux-x86_64" -mindepth 1 -maxdepth 1 -type d | wc -l)
    [ "$n" = "$packages" ] || { echo "install: $n of $packages prefixes in $1" >&2; exit 1; }
}

echo "== install: depot install" >&2
BENCH_BEFORE=new_depot_tree
# shellcheck disable=SC2086 # one argument per spec
bench_measure install-depot -- "$DEPOT" install $specs --from "$mirror" --install-tree "$wd/dpt" -j 2
check_installed "$wd/dpt"

spack=0
spack_note=$(bench_spack_enabled) && spack=1
if [ "$spack" = 1 ]; then
    export SPACK12_REPOS=$repo
    new_spack_tree() { aside "$tree"; }
    echo "== install: spack install --cache-only (untimed warm-up: one spec)" >&2
    mkdir -p "$tree"
    bench_spack mirror remove bench > /dev/null 2>&1 || true
    bench_spack mirror add --signed bench "file://$mirror" > /dev/null
    bench_spack buildcache keys --install --trust > "$BENCH_DATA/install-spack-keys.log" 2>&1
    bench_spack install --cache-only "${specs%% *}" > "$BENCH_DATA/install-spack-warm.log" 2>&1
    BENCH_BEFORE=new_spack_tree
    # shellcheck disable=SC2086 # one argument per spec
    bench_measure install-spack -- "$SPACK12" "$wd" -- install --cache-only $specs
    check_installed "$tree"
    bench_spack mirror remove bench > /dev/null 2>&1 || true
fi
BENCH_BEFORE=

d=$(bench_stat install-depot median)
bench_table_start "install: $packages packages, $(bench_calc "$content / 1e6" 0) MB of prefix content" \
    "From a signed local mirror (signatures verified) into an empty Spack install tree, registered in its database."
bench_row "depot install -j 2" install-depot "baseline of the Spack row" "—" "—"
if [ "$spack" = 1 ]; then
    ratio=$(bench_calc "$(bench_stat install-spack median) / $d")
    bench_row "spack install --cache-only (Spack 1.2, same specs and mirror)" install-spack \
        "depot is ${ratio}x faster" "depot ≥ 5x faster" "$(bench_verdict_atleast "$ratio" 5 x)"
else
    echo "$spack_note"
fi
rm -rf "$trash" "$wd/dpt" "$tree"
[ "${KEEP:-0}" = 1 ] || rm -rf "$mirror"
