#!/usr/bin/env bash
# bench/startup.sh -- start-up of the depot binary: `depot --version` and `depot list` of an N-spec synthetic v3
# mirror, for the Native AOT build and the ReadyToRun build (what ./depot builds), against a Native AOT hello world
# (the runtime's own start, bench/Hello) published and timed in the same run; and `./depot --version` through the
# repository's script (its is-it-built check included).
#
#   bench/startup.sh                  (N=20000, SEED=1; BENCH_RUNS runs per row, each the mean of REPEAT starts)
#   REPEAT=20 (starts per run for --version rows; list rows use LIST_REPEAT=5), KEEP=1 keeps the generated mirror.
#   SHIPPED=/path/to/depot measures that binary as the shipped one instead of the Native AOT build made here.
#
# Targets (issue 17, item 10): the shipped binary starts (--version) within 1.5x of the AOT hello world; it lists
# 20,000 specs in under 0.1 s; ./depot --version answers in under 50 ms.
#
# Times come from the script's own clock (perf_counter around spawn and wait4, 1 µs resolution; GNU time's %e has
# 10 ms), peak RSS from wait4's rusage (the largest of the starts). The Native AOT builds go to bench/out/startup-aot
# with their own obj/ (--artifacts-path), so they neither touch src/*/obj nor make ./depot rebuild.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n=${N:-20000}
seed=${SEED:-1}
repeat=${REPEAT:-20}
list_repeat=${LIST_REPEAT:-5}
base=$BENCH_OUT/su-base-N$n-seed$seed
export DEPOT_HOME=$BENCH_OUT/su-home
case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) echo "startup: no Native AOT runtime identifier for $(uname -m)" >&2; exit 1 ;;
esac
load() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load)

# Native AOT builds: the hello world and depot, rebuilt when a source file changed since the last one.
aot=$BENCH_OUT/startup-aot
aot_stamp=$aot/.stamp
aot_publish() { # PROJECT OUT [PROPERTY...]
    local project=$1 out=$2
    shift 2
    if ! dotnet publish "$project" -c Release -r "$rid" --artifacts-path "$aot/artifacts" -o "$out" "$@" \
            --nologo -v quiet > "$BENCH_DATA/startup-publish.log" 2>&1; then
        cat "$BENCH_DATA/startup-publish.log" >&2
        echo "startup: Native AOT publish of $project failed" >&2
        exit 1
    fi
}
bench_generator_build
if [ ! -f "$aot_stamp" ] || [ -n "$(find "$bench_root/src" "$bench_here/Hello" "$bench_root/Directory.Build.props" \
        "$bench_root/Directory.Packages.props" -newer "$aot_stamp" -not -path '*/obj/*' -not -path '*/bin/*' \
        \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -print -quit)" ]; then
    echo "== startup: publishing the Native AOT hello world and depot ($rid; a few minutes)" >&2
    rm -f "$aot_stamp"
    aot_publish "$bench_here/Hello/Hello.csproj" "$aot/hello"
    aot_publish "$bench_root/src/Depot.Cli/Depot.Cli.csproj" "$aot/depot" -p:PublishAot=true
    touch "$aot_stamp"
fi
hello=$aot/hello/Hello
shipped=${SHIPPED:-$aot/depot/Depot.Cli}
shipped_label=${SHIPPED:+"shipped ($SHIPPED)"}
shipped_label=${shipped_label:-"Native AOT"}
bench_depot_build # the ReadyToRun build ./depot makes, copied: $DEPOT
r2r=$DEPOT

if [ ! -f "$base.done" ]; then
    echo "== startup: generating $n specs" >&2
    rm -rf "$base"
    dotnet "$BENCH_GEN" generate-v3 "$base" "$n" --seed "$seed" > /dev/null
    "$r2r" index "$base" > /dev/null
    touch "$base.done"
fi
for build in "$r2r" "$shipped"; do # untimed: checks the count and warms the local index summary and the page cache
    listed=$("$build" list "$base" | grep -cv -e '^--' -e '^$' || true)
    [ "$listed" = "$n" ] || { echo "startup: $build list shows $listed specs, expected $n" >&2; exit 1; }
done
"$bench_root/depot" --version > /dev/null

# startup_measure KEY STARTS CMD...: BENCH_RUNS runs of STARTS starts each; records each run's mean per start.
startup_measure() {
    local key=$1 starts=$2 i
    shift 2
    : > "$BENCH_DATA/$key.runs"
    : > "$BENCH_DATA/$key.log"
    for ((i = 1; i <= BENCH_RUNS; i++)); do
        python3 - "$BENCH_DATA/$key.log" "$starts" "$@" >> "$BENCH_DATA/$key.runs" <<'PY' || return 1
import os, sys, time
log, starts, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with open(log, "ab") as out:
    total, rss = 0.0, 0
    for _ in range(starts):
        t0 = time.perf_counter()
        pid = os.posix_spawnp(cmd[0], cmd, os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                            (os.POSIX_SPAWN_DUP2, out.fileno(), 2)])
        _, status, usage = os.wait4(pid, 0)
        total += time.perf_counter() - t0
        rss = max(rss, usage.ru_maxrss)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: {' '.join(cmd)} exited {os.waitstatus_to_exitcode(status)}")
print(f"{total / starts:.6f} {rss}")
PY
        echo "  $key run $i/$BENCH_RUNS:" \
            "$(tail -1 "$BENCH_DATA/$key.runs" | awk '{ printf "%.1f ms a start, %d MiB", $1 * 1000, $2 / 1024 }')" \
            >&2
    done
}

echo "== startup: --version ($repeat starts per run)" >&2
startup_measure su-hello "$repeat" "$hello"
startup_measure su-shipped-version "$repeat" "$shipped" --version
startup_measure su-r2r-version "$repeat" "$r2r" --version
startup_measure su-script-version "$repeat" "$bench_root/depot" --version
echo "== startup: list of $n specs ($list_repeat starts per run)" >&2
startup_measure su-shipped-list "$list_repeat" "$shipped" list "$base"
startup_measure su-r2r-list "$list_repeat" "$r2r" list "$base"

med() { bench_stat "$1" median; }
hello_s=$(med su-hello)
times_hello() { echo "$(bench_calc "$(med "$1") / $hello_s" 2)x hello"; }
limit=$(bench_calc "1.5 * $hello_s" 4)
at_target_size() { [ "$n" = 20000 ]; }
list_verdict() { # VALUE
    if at_target_size; then bench_verdict_below "$1" 0.1 s; else echo "n/a (target is for N = 20,000)"; fi
}
about="Each run is the mean of $repeat starts ($list_repeat for list); load average (1, 5, 15 min) at start"
bench_table_start "start-up: depot --version and list of $n specs (seed $seed)" "$about $load_start, at end $(load)."
bench_row "Native AOT hello world (bench/Hello)" su-hello "baseline" "—" "—"
bench_row "depot --version, $shipped_label" su-shipped-version "$(times_hello su-shipped-version)" \
    "≤ 1.5x hello" "$(bench_verdict_below "$(med su-shipped-version)" "$limit" s)"
bench_row "depot --version, ReadyToRun (./depot's build)" su-r2r-version "$(times_hello su-r2r-version)" "—" "—"
bench_row "./depot --version (the repository's script)" su-script-version "$(times_hello su-script-version)" \
    "< 0.05 s" "$(bench_verdict_below "$(med su-script-version)" 0.05 s)"
bench_row "depot list, $shipped_label" su-shipped-list "$(times_hello su-shipped-list)" "< 0.1 s at 20,000" \
    "$(list_verdict "$(med su-shipped-list)")"
bench_row "depot list, ReadyToRun" su-r2r-list "$(times_hello su-r2r-list)" "—" "—"
echo
echo "Binary sizes: $shipped_label $(du -sh "$(dirname "$shipped")" | cut -f1) (folder)," \
    "ReadyToRun $(du -sh "$(dirname "$r2r")" | cut -f1) (folder, needs the .NET runtime)."
[ "${KEEP:-0}" = 1 ] || rm -rf "$base" "$base.done"
