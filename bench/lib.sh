# bench/lib.sh -- helpers shared by the bench scripts (source it; it defines functions and a few variables).
#
# Measuring:  bench_measure KEY -- CMD...     runs CMD $BENCH_RUNS times (default 5), each under
#             `/usr/bin/time -f '%e %M'`, and records wall seconds and peak RSS (KiB, of the largest process) in
#             $BENCH_DATA/KEY.runs. CMD's output goes to $BENCH_DATA/KEY.log. A shell function named in
#             BENCH_BEFORE (if set) runs, untimed, before every run (e.g. to remove the previous run's output).
#             BENCH_RUNS_OVERRIDE=n for one call: `BENCH_RUNS_OVERRIDE=3 bench_measure ...`.
# Reading:    bench_stat KEY median|min|max|rss   (seconds; rss in MiB)
# Tables:     bench_table_start "title" "what was measured"; bench_row LABEL KEY RATIO TARGET VERDICT;
#             rows print Markdown with median, min–max, peak RSS.
# Verdicts:   bench_verdict_below VALUE LIMIT UNIT     -> "met" | "missed by X UNIT (Y %)"
#             bench_verdict_atleast VALUE NEED UNIT    -> "met" | "missed: VALUE UNIT, NEED UNIT needed (Y % short)"
# Spack 1.2:  bench_spack_enabled (true when SPACK_SNAPSHOTS is set, else prints why the rows are skipped);
#             bench_spack ARGS... runs `$SPACK12 $BENCH_SPACK_WD -- ARGS...`.
# shellcheck shell=bash

bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_root=$(cd "$bench_here/.." && pwd)
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_OUT=${BENCH_OUT:-$bench_here/out}
BENCH_DATA=${BENCH_DATA:-$BENCH_OUT/data}
# Spack 1.2, run isolated by the shared helper; its work dir is kept short (a Spack install tree path must not be
# longer than the one a cache was pushed from) and shared by the scripts so that its package-repository cache is warm.
SPACK12=${SPACK12:-$bench_root/../shared/tools/spack12.sh}
BENCH_SPACK_WD=${BENCH_SPACK_WD:-/tmp/dbsp}
mkdir -p "$BENCH_OUT" "$BENCH_DATA"

# GNU time gives peak RSS; install it when missing (Debian package "time").
if [ ! -x /usr/bin/time ]; then
    echo "bench: installing GNU time (/usr/bin/time)" >&2
    if [ "$(id -u)" -eq 0 ]; then bench_sudo=""; else bench_sudo="sudo"; fi
    $bench_sudo apt-get update -qq && $bench_sudo apt-get install -y -qq --no-install-recommends time >/dev/null \
        || { echo "bench: could not install GNU time" >&2; exit 1; }
fi

bench_measure() { # KEY -- CMD...
    # (names prefixed: BENCH_BEFORE hooks run inside this function and see its locals)
    local _bm_key=$1 _bm_runs=${BENCH_RUNS_OVERRIDE:-$BENCH_RUNS} _bm_i
    shift
    [ "$1" = "--" ] && shift
    : > "$BENCH_DATA/$_bm_key.runs"
    : > "$BENCH_DATA/$_bm_key.log"
    for ((_bm_i = 1; _bm_i <= _bm_runs; _bm_i++)); do
        if [ -n "${BENCH_BEFORE:-}" ]; then "$BENCH_BEFORE"; fi
        if ! /usr/bin/time -f '%e %M' -o "$BENCH_DATA/$_bm_key.time" "$@" >> "$BENCH_DATA/$_bm_key.log" 2>&1; then
            echo "bench: '$_bm_key' run $_bm_i failed: $*" >&2
            tail -20 "$BENCH_DATA/$_bm_key.log" >&2
            return 1
        fi
        tail -1 "$BENCH_DATA/$_bm_key.time" >> "$BENCH_DATA/$_bm_key.runs"
        echo "  $_bm_key run $_bm_i/$_bm_runs:" \
            "$(tail -1 "$BENCH_DATA/$_bm_key.time" | awk '{ printf "%s s, %d MiB", $1, $2 / 1024 }')" >&2
    done
}

# bench_record KEY SECONDS [RSS_KIB]: adds a run measured some other way (e.g. timed inside a process).
bench_record() { echo "$2 ${3:-0}" >> "$BENCH_DATA/$1.runs"; }

bench_stat() { # KEY median|min|max|rss
    python3 - "$BENCH_DATA/$1.runs" "$2" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
walls = [float(r[0]) for r in rows]
what = sys.argv[2]
if what == "rss":
    print(f"{max(int(r[1]) for r in rows) / 1024:.0f}")
else:
    v = {"median": statistics.median, "min": min, "max": max}[what](walls)
    print(f"{v:.3f}" if v < 10 else f"{v:.2f}")
PY
}

bench_calc() { python3 -c "print(f'{$1:.${2:-2}f}')"; } # EXPR [DIGITS]

bench_verdict_below() { # VALUE LIMIT UNIT
    python3 - "$@" <<'PY'
import sys
v, limit, unit = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print("met" if v < limit else f"missed by {v - limit:.2f} {unit} ({(v - limit) / limit * 100:.0f} % over)")
PY
}

bench_verdict_atleast() { # VALUE NEED UNIT
    python3 - "$@" <<'PY'
import sys
v, need, unit = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
short = (need - v) / need * 100
print("met" if v >= need else f"missed: {v:.2f}{unit} where {need:g}{unit} is needed ({short:.0f} % short)")
PY
}

bench_table_start() { # TITLE [DESCRIPTION]
    echo
    echo "### $1"
    echo
    [ -z "${2:-}" ] || { echo "$2"; echo; }
    echo "| run | median (s) | min–max (s) | peak RSS (MiB) | ratio vs baseline | target | verdict |"
    echo "|---|---:|---:|---:|---|---|---|"
}

bench_row() { # LABEL KEY RATIO TARGET VERDICT
    local n plural=s
    n=$(wc -l < "$BENCH_DATA/$2.runs")
    [ "$n" != 1 ] || plural=
    echo "| $1 | $(bench_stat "$2" median) | $(bench_stat "$2" min)–$(bench_stat "$2" max) ($n run$plural) |" \
        "$(bench_stat "$2" rss) | $3 | $4 | $5 |"
}

bench_note() { echo "$*"; }

bench_spack_enabled() {
    if [ -z "${SPACK_SNAPSHOTS:-}" ]; then
        echo
        echo "Spack baseline skipped: SPACK_SNAPSHOTS is not set (it names the folder of bare repos that"
        echo "\`shared/tools/spack12.sh\` extracts Spack 1.2 from; here: SPACK_SNAPSHOTS=/work/.mirror)."
        return 1
    fi
    [ -x "$SPACK12" ] || { echo; echo "Spack baseline skipped: $SPACK12 not found (set SPACK12)."; return 1; }
    return 0
}

bench_spack() { "$SPACK12" "$BENCH_SPACK_WD" -- "$@"; }

# The DAG hashes of an install tree's database, as /hash arguments.
bench_tree_specs() {
    python3 -c "import json, sys
print(' '.join('/' + h for h in json.load(open(sys.argv[1]))['database']['installs']))" "$1/.spack-db/index.json"
}

# The CLI is built once by ./depot (into .depot-build/$HOSTTYPE/app); scripts run it through a copy named after that
# build's time, so that a rebuild (when a source under src/ changed) cannot land inside a measurement or remove a
# binary another script is running.
bench_depot_build() {
    "$bench_root/depot" --help > /dev/null
    local built app=$bench_root/.depot-build/${HOSTTYPE:-$(uname -m)}/app
    built=$(stat -c %Y "$app/Depot.Cli")
    if [ ! -x "$BENCH_OUT/depot-bin-$built/Depot.Cli" ]; then
        rm -rf "$BENCH_OUT/depot-bin-$built.tmp"
        cp -rp "$app" "$BENCH_OUT/depot-bin-$built.tmp"
        mv "$BENCH_OUT/depot-bin-$built.tmp" "$BENCH_OUT/depot-bin-$built"
    fi
    DEPOT=$BENCH_OUT/depot-bin-$built/Depot.Cli
}

# Depot.Bench (the generator and store driver). Build it before bench_depot_build: it rewrites obj/ files under src/.
bench_generator_build() {
    BENCH_GEN=$bench_here/Depot.Bench/bin/Release/net10.0/Depot.Bench.dll
    [ "${BENCH_GEN_READY:-0}" = 1 ] && [ -f "$BENCH_GEN" ] && return 0 # all.sh built it once
    dotnet build -c Release "$bench_here/Depot.Bench" --nologo -v q > "$BENCH_DATA/generator-build.log" 2>&1 \
        || { cat "$BENCH_DATA/generator-build.log" >&2; exit 1; }
}
