#!/usr/bin/env bash
# bench/all.sh -- runs every comparison and writes bench/results.md (the tables the README shows).
#
#   SPACK_SNAPSHOTS=/work/.mirror bench/all.sh        full run: about 25–30 minutes on this 2-core machine, idle
#   BENCH_SMALL=1 BENCH_RUNS=2 bench/all.sh            small sizes, to check that everything runs end to end
#   BENCH_RUNS=3 (runs per row), BENCH_SPACK_INDEX_RUNS=2 (Spack's update-index at N specs),
#   ONLY="push install" (a subset of: push install list-index startup verify s3 oci serve prune catalog, and
#   concurrency crash, which are not in the default run: ONLY=concurrency / ONLY=crash),
#   ONLY=fuzz runs bench/fuzz.sh (not in the default set either: FUZZ_MINUTES per parser, default 5),
#   RESULTS=path (default bench/results.md). Each script also runs alone; the sizes below are their env knobs.
#   ONLY=scale RESULTS=bench/results-scale.md bench/all.sh runs scale.sh (20,000 and 200,000 specs, a 500-package
#   install, a 10,000-package push, signing), which is not in the default set: it takes ~30 min more (KEEP=1, the
#   default for it here, keeps its generated mirrors in bench/out for the next run).
#
# Without SPACK_SNAPSHOTS the Spack rows are skipped and the results say so. Every baseline (Spack 1.2, gzip on the
# same bytes) is measured in the same run as Depot. Progress and every command's log go to bench/out/.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# Three runs per row (median, min–max) and two of Spack's update-index (minutes each at 20,000 specs) keep the full
# run within 30 minutes here.
export BENCH_RUNS=${BENCH_RUNS:-3}
export BENCH_SPACK_INDEX_RUNS=${BENCH_SPACK_INDEX_RUNS:-2}
results=${RESULTS:-$here/results.md}
only=${ONLY:-push install list-index startup verify s3 oci serve prune catalog}
mkdir -p "$here/out"
rm -rf "$here"/out/depot-bin*   # copies of earlier builds (lib.sh's bench_depot_build)

# Sizes: full run, and BENCH_SMALL=1 for a quick end-to-end check.
if [ "${BENCH_SMALL:-0}" = 1 ]; then
    push_env=(PACKAGES=8 MB_PER_PACKAGE=2); install_env=(PACKAGES=6 MB_PER_PACKAGE=2)
    li_env=(N=1000); verify_env=(N=200); s3_env=(COUNT=50 RTTS="0 20"); oci_env=(PACKAGES=10 MB_PER_PACKAGE=1)
    serve_env=(DURATION=3 PULL_CLIENTS=50 PACKAGES=4 EXTRA_BLOBS=8); prune_env=(N=1000 ORPHANS=100)
    catalog_env=(N=1000 QUERIES=100 LOADS=5)
    concurrency_env=(PROCS=3 SPECS=5 SHARED=4); crash_env=(KILLS=3)
    scale_env=(N_SMALL=1000 N_LARGE=5000 DAG=20 PUSH=100 SIGN=50 SIGN_DISK=50 "KEEP=${KEEP:-1}")
else
    push_env=(PACKAGES=40 MB_PER_PACKAGE=10); install_env=(PACKAGES=20 MB_PER_PACKAGE=25)
    li_env=(N=20000); verify_env=(N=1000); s3_env=(COUNT=100 RTTS="0 50"); oci_env=(PACKAGES=50 MB_PER_PACKAGE=4)
    serve_env=(DURATION=10 PULL_CLIENTS=200); prune_env=(N=20000 ORPHANS=1000)
    catalog_env=(N=20000 QUERIES=400 LOADS=20)
    concurrency_env=(PROCS=4 SPECS=100 SHARED=20); crash_env=(KILLS=50)
    scale_env=(N_SMALL=20000 N_LARGE=200000 DAG=500 PUSH=10000 SIGN=5000 SIGN_DISK=1000 "KEEP=${KEEP:-1}")
fi

# Build once, outside every measurement: Depot.Bench first (its build rewrites obj/ files under src/, which makes
# ./depot rebuild), then the CLI.
echo "== all: building bench/Depot.Bench and the CLI" >&2
dotnet build -c Release "$here/Depot.Bench" --nologo -v q > "$here/out/generator-build.log" 2>&1 \
    || { cat "$here/out/generator-build.log" >&2; exit 1; }
export BENCH_GEN_READY=1
"$root/depot" --help > /dev/null || exit 1

load() { cut -d' ' -f1-3 /proc/loadavg; }
commit=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD -- src bench 2>/dev/null || commit="$commit (+ uncommitted changes in src/ or bench/)"
start=$(date +%s)
load_start=$(load)
body=$(mktemp)
trap 'rm -f "$body"' EXIT
: > "$here/out/all.log"

run() { # NAME SCRIPT ENV...
    local name=$1 script=$2 t0 t1 status
    shift 2
    case " $only " in *" $name "*) ;; *) return 0 ;; esac
    echo "== all: $name ($*)" | tee -a "$here/out/all.log" >&2
    t0=$(date +%s)
    env "$@" "$here/$script" > "$here/out/$name.md" 2> >(tee -a "$here/out/all.log" >&2)
    status=$?
    t1=$(date +%s)
    cat "$here/out/$name.md" >> "$body"
    if [ "$status" -ne 0 ]; then
        printf '\n**%s FAILED** (exit %s; see bench/out/all.log)\n' "$script" "$status" >> "$body"
    fi
    printf '\n_%s: %s s wall for the whole script (settings: %s)._\n' "$script" "$((t1 - t0))" "${*:-defaults}" >> "$body"
}

run push push.sh "${push_env[@]}"
run install install.sh "${install_env[@]}"
run list-index list-index.sh "${li_env[@]}"
run startup startup.sh "N=$([ "${BENCH_SMALL:-0}" = 1 ] && echo 1000 || echo 20000)"
run verify verify.sh "${verify_env[@]}"
run s3 s3.sh "${s3_env[@]}"
run oci oci.sh "${oci_env[@]}"
run serve serve.sh "${serve_env[@]}"
run prune prune.sh "${prune_env[@]}"
run catalog catalog.sh "${catalog_env[@]}"
run concurrency concurrency.sh "${concurrency_env[@]}"
run crash crash.sh "${crash_env[@]}"

run scale scale.sh "${scale_env[@]}"
run fuzz fuzz.sh "FUZZ_MINUTES=${FUZZ_MINUTES:-5}"

end=$(date +%s)
{
    echo "## Benchmark results (bench/all.sh)"
    echo
    echo "- date: $(date -u -d "@$start" '+%Y-%m-%d %H:%M UTC'), $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s"
    echo "- commit: $commit"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
        "load averages (1, 5, 15 min) at start $load_start, at end $(load)"
    echo "- runs per row: $BENCH_RUNS (median, min–max over them; peak RSS is the largest of any run)$(
        [ "${BENCH_SMALL:-0}" = 1 ] && echo "; **BENCH_SMALL=1: reduced sizes, targets do not apply**")"
    if [ -n "${SPACK_SNAPSHOTS:-}" ]; then
        echo "- baseline Spack: Spack 1.2 (shared/tools/spack12.sh, SPACK_SNAPSHOTS=$SPACK_SNAPSHOTS), run in the same run"
    else
        echo "- baseline Spack: **skipped** (SPACK_SNAPSHOTS not set; set it to the folder of the fetched bare repos)"
    fi
    cat "$body"
} > "$results"
echo "wrote $results ($(( (end - start) / 60 )) min $(( (end - start) % 60 )) s)" >&2
