#!/usr/bin/env bash
# Times `depot list` and `depot index` (full and incremental) on synthetic Spack build caches (layout v3).
#
#   bench/list-index.sh                 # N = 1000 and 20000, seed 1
#   SIZES="1000" bench/list-index.sh    # other sizes
#   KEEP=1 bench/list-index.sh          # keep the scratch dir; the next run reuses the generated mirrors
#
# Environment: SIZES (default "1000 20000"), SEED (default 1), BENCH_DIR (scratch, default /tmp/depot-bench),
# KEEP=1 (do not delete the scratch dir at the end).
#
# What it does, per N:
#   1. generates N specs with bench/Depot.Bench (generate-v3) and indexes them once, into BENCH_DIR/base-N<n>-seed<s>
#      (reused when already there with the same N and seed);
#   2. takes a hard-linked working copy (Depot and the generator replace files by rename, never in place, so the
#      base stays pristine);
#   3. times `depot list` (index present; best of 3), `depot index --full`, then adds 10 specs with
#      `generate-v3 --start N` and times `depot index` (incremental), which should read only those 10.
# The CLI is built once through ./depot and the build output is copied into the scratch dir, so that a rebuild
# triggered by concurrent source edits cannot land in the middle of a measurement.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
scratch=${BENCH_DIR:-/tmp/depot-bench}
seed=${SEED:-1}
sizes=${SIZES:-"1000 20000"}
add=10

mkdir -p "$scratch"
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then
        echo "(scratch kept: $scratch)" >&2
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

now() { date +%s.%N; }
# timed CMD...: runs CMD with stdout to $scratch/out.txt; sets T_WALL (date +%s.%N difference), and when GNU time is
# installed T_CPU (user+sys seconds) and T_RSS (peak resident MiB).
timed() {
    local t0 t1
    T_CPU="?"; T_RSS="?"
    t0=$(now)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%U %S %M' -o "$scratch/time.txt" "$@" >"$scratch/out.txt"
    else
        "$@" >"$scratch/out.txt"
    fi
    t1=$(now)
    T_WALL=$(diff_s "$t0" "$t1")
    if [ -x /usr/bin/time ]; then
        read -r T_CPU T_RSS < <(awk 'END { printf "%.2f %d\n", $1 + $2, $3 / 1024 }' "$scratch/time.txt")
    fi
}
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min_s() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }

echo "== build" >&2
# 1. The CLI, built once by its own wrapper; then a private copy of the build output.
stale=""
t0=$(now)
if ! ./depot --help >/dev/null 2>"$scratch/depot-build.log"; then
    # Sources may be mid-edit (another engineer at work): fall back to the last good build, and say so.
    if [ -x "$repo/.depot-build/Depot.Cli" ]; then
        stale=" -- WARNING: ./depot failed to build, measured the previous build of $(date -r "$repo/.depot-build/Depot.Cli" '+%F %T')"
        echo "warning: ./depot failed to build; using the previous build in .depot-build" >&2
        tail -5 "$scratch/depot-build.log" >&2
    else
        cat "$scratch/depot-build.log" >&2
        exit 1
    fi
fi
t1=$(now)
wrapper_first=$(diff_s "$t0" "$t1")
rm -rf "$scratch/depot-bin"
cp -rp "$repo/.depot-build" "$scratch/depot-bin"
depot="$scratch/depot-bin/Depot.Cli"

# 2. The generator.
gen_dll="$repo/bench/Depot.Bench/bin/Release/net10.0/Depot.Bench.dll"
if ! dotnet build -c Release "$repo/bench/Depot.Bench" --nologo -v q >"$scratch/gen-build.log" 2>&1; then
    if [ -f "$gen_dll" ]; then
        echo "warning: building bench/Depot.Bench failed (see below); using the previous build" >&2
        tail -5 "$scratch/gen-build.log" >&2
    else
        cat "$scratch/gen-build.log" >&2
        exit 1
    fi
fi
gen() { dotnet "$gen_dll" "$@"; }

# Start-up cost alone: the wrapper (a bash script that looks for changed sources) and the bare binary (best of 3).
wrapper_help=""; binary_help=""; rebuilt=""
for _ in 1 2 3; do
    t0=$(now); ./depot --help >/dev/null 2>"$scratch/wrapper.err" || true; t1=$(now)
    if grep -q building "$scratch/wrapper.err"; then rebuilt=" (./depot rebuilt itself meanwhile: sources changed)"; continue; fi
    wrapper_help=$(min_s "$wrapper_help" "$(diff_s "$t0" "$t1")")
    t0=$(now); "$depot" --help >/dev/null; t1=$(now)
    binary_help=$(min_s "$binary_help" "$(diff_s "$t0" "$t1")")
done

rows=()
cpu_rows=()
notes=()
declare -A list_s full_s incr_s

for n in $sizes; do
    base="$scratch/base-N$n-seed$seed"
    if [ -f "$base.done" ]; then
        echo "== N=$n: reusing $base" >&2
    else
        echo "== N=$n: generating $base" >&2
        rm -rf "$base" "$base.done"
        t0=$(now)
        gen generate-v3 "$base" "$n" --seed "$seed" >&2
        t1=$(now)
        "$depot" index "$base" >&2
        echo "$(diff_s "$t0" "$t1")" >"$base.done"
    fi
    gen_time=$(cat "$base.done")

    work="$scratch/work-N$n"
    rm -rf "$work"
    cp -al "$base" "$work"

    listed=$("$depot" list "$work" | grep -cv -e '^--' -e '^$' || true)
    if [ "$listed" != "$n" ]; then
        echo "error: depot list shows $listed specs, expected $n" >&2
        exit 1
    fi

    echo "== N=$n: depot list (best of 3)" >&2
    best=""; list_cpu=""; list_rss=""
    for _ in 1 2 3; do
        timed "$depot" list "$work"
        if [ -z "$best" ] || awk -v a="$T_WALL" -v b="$best" 'BEGIN { exit !(a + 0 < b + 0) }'; then
            best=$T_WALL; list_cpu=$T_CPU; list_rss=$T_RSS
        fi
    done
    list_s[$n]=$best

    echo "== N=$n: depot index --full" >&2
    timed "$depot" index --full "$work"
    full_s[$n]=$T_WALL; full_cpu=$T_CPU; full_rss=$T_RSS
    cat "$scratch/out.txt" >&2

    echo "== N=$n: +$add specs, depot index" >&2
    gen generate-v3 "$work" "$add" --seed $((seed + 1000)) --start "$n" >&2
    timed "$depot" index "$work"
    incr_s[$n]=$T_WALL; incr_cpu=$T_CPU; incr_rss=$T_RSS
    incr_out=$(cat "$scratch/out.txt")
    echo "$incr_out" >&2

    # "layout v3: indexed S specs (R records) in KEY: X read, Y reused, Z removed, ..."
    read_count=$(sed -n 's/.*: \([0-9][0-9]*\) read, \([0-9][0-9]*\) reused.*/\1/p' <<<"$incr_out" | head -1)
    reused_count=$(sed -n 's/.*: \([0-9][0-9]*\) read, \([0-9][0-9]*\) reused.*/\2/p' <<<"$incr_out" | head -1)
    indexed=$(sed -n 's/.*indexed \([0-9][0-9]*\) specs.*/\1/p' <<<"$incr_out" | head -1)
    verdict=$([ "$read_count" = "$add" ] && echo "OK: only the new ones" || echo "UNEXPECTED (should be $add)")
    notes+=("N=$n: incremental index read ${read_count:-?} spec files, reused ${reused_count:-?}, indexed ${indexed:-?} specs (expected $((n + add))) -- $verdict; mirror generated in ${gen_time} s")
    rows+=("| $n | ${list_s[$n]} | ${full_s[$n]} | ${incr_s[$n]} |")
    cpu_rows+=("| $n | $list_cpu / $list_rss | $full_cpu / $full_rss | $incr_cpu / $incr_rss |")
    rm -rf "$work"
done

echo
echo "| N | list (s) | full index (s) | incremental index after +$add (s) |"
echo "|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "Targets: list 20k < 0.3 s, full index 20k < 5 s, incremental < 1 s."
if [ -n "${list_s[20000]:-}" ]; then
    pf() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 < t + 0) ? "PASS" : "FAIL" }'; }
    echo "At 20k: list $(pf "${list_s[20000]}" 0.3) (${list_s[20000]} s), full index $(pf "${full_s[20000]}" 5) (${full_s[20000]} s), incremental $(pf "${incr_s[20000]}" 1) (${incr_s[20000]} s)."
fi
echo
echo "CPU time (user+sys, s) / peak RSS (MiB) of the same runs (less sensitive to other load on the machine):"
echo
echo "| N | list | full index | incremental index |"
echo "|---:|---:|---:|---:|"
printf '%s\n' "${cpu_rows[@]}"
echo
printf -- '- %s\n' "${notes[@]}"
echo "- start-up (best of 3): \`./depot --help\` ${wrapper_help:-?} s (bash wrapper + binary), bare \`Depot.Cli --help\` ${binary_help:-?} s; first \`./depot --help\` of this run (incl. any build) ${wrapper_first} s${rebuilt}"
echo "- Depot measured: HEAD $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src 2>/dev/null || echo " + uncommitted changes in src/"), CLI build of $(date -r "$depot" '+%F %T')${stale}"
echo "- machine: $(nproc) cores, load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
