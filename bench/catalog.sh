#!/usr/bin/env bash
# bench/catalog.sh -- the web catalog (issue 19) on a synthetic Spack 1.x build cache (layout v3) of N specs:
# search answered by `depot serve` (the server's own time, from its Server-Timing header) over a few hundred varied
# searches, the cache page loaded in Chromium (Debian's chromium, driven by Playwright: navigation start to the load
# event and to the first result in the page), and the static export `depot catalog` writing every page.
#
#   N=20000 bench/catalog.sh        (defaults: N=20000, SEED=1, QUERIES=400, LOADS=20; BENCH_RUNS exports)
#   KEEP=1 keeps the generated mirror in bench/out; the next run with the same N and SEED reuses it.
#
# Targets (issue 19), for N = 20,000 on this 2-core machine: search p95 under 50 ms at the server, the cache page
# rendered in under 300 ms (p95 of the loads, to the load event and to the first result), the export under 10 s.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n=${N:-20000}; seed=${SEED:-1}; queries=${QUERIES:-400}; loads=${LOADS:-20}
base=$BENCH_OUT/cat-base-N$n-seed$seed
name=cat-base-N$n-seed$seed # depot serve names a cache after its folder
work=$(mktemp -d /tmp/depot-catalog-bench.XXXXXX)
export DEPOT_HOME=$work/home
[ -x /usr/bin/chromium ] || { echo "catalog: /usr/bin/chromium missing (apt-get install chromium)" >&2; exit 1; }
bench_generator_build
bench_depot_build
gen() { dotnet "$BENCH_GEN" "$@"; }
depot_pid=
stop() {
    [ -z "$depot_pid" ] || kill "$depot_pid" 2> /dev/null || true
    wait 2> /dev/null || true
    rm -rf "$work"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$base" "$base.done"
}
trap stop EXIT

if [ ! -f "$base.done" ]; then
    echo "== catalog: generating $n specs" >&2
    rm -rf "$base"
    gen generate-v3 "$base" "$n" --seed "$seed" > /dev/null
    "$DEPOT" index "$base" > /dev/null
    touch "$base.done"
fi

echo "== catalog: depot catalog (static export), $BENCH_RUNS runs" >&2
site=$work/site
clear_site() { rm -rf "$site"; }
BENCH_BEFORE=clear_site
bench_measure cat-export -- "$DEPOT" catalog "$base" --out "$site" --name "$name"
BENCH_BEFORE=
pages=$(find "$site/$name/spec" -name index.html | wc -l)
[ "$pages" = "$n" ] || { echo "catalog: the export wrote $pages spec pages, expected $n" >&2; exit 1; }

port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
echo "== catalog: depot serve on 127.0.0.1:$port" >&2
"$DEPOT" serve "$base" --listen "127.0.0.1:$port" > "$BENCH_DATA/cat-serve.log" 2>&1 &
depot_pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 300); do curl -sf -o /dev/null "$url/api/v1/caches" && break; sleep 0.1; done
total=$(curl -sf "$url/api/v1/caches/$name/search?limit=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['total'])")
[ "$total" = "$n" ] || { echo "catalog: the server's search finds $total specs, expected $n" >&2; exit 1; }

echo "== catalog: $queries searches" >&2
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
gen catalog-search "$url" "$name" "$queries" --seed "$seed" > "$BENCH_DATA/cat-search.txt"
echo "== catalog: the cache page loaded $loads times in Chromium" >&2
gen catalog-page "$url" "$name" "$loads" --seed "$seed" > "$BENCH_DATA/cat-page.txt"
serve_rss=$(awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$depot_pid/status")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

at_target_size() { [ "$n" = 20000 ]; }
verdict() { # VALUE LIMIT UNIT
    if at_target_size; then bench_verdict_below "$1" "$2" "$3"; else echo "n/a (target is for N = 20,000)"; fi
}
field() { awk -v k="$2" -v f="$3" '$1 == k { print $f }' "$BENCH_DATA/$1"; } # FILE KEY COLUMN
row() { # LABEL FILE KEY TARGET LIMIT_MS
    local p95
    p95=$(field "$2" "$3" 3)
    echo "| $1 | $(field "$2" "$3" 2) | $p95 | $(field "$2" "$3" 4) | $(field "$2" "$3" 5) |" \
        "${4:-—} | $([ -n "${5:-}" ] && verdict "$p95" "$5" ms || echo —) |"
}

echo
echo "### catalog: web catalog of a synthetic v3 cache of $n specs (seed $seed)"
echo
echo "depot serve (peak RSS $serve_rss MiB) answers the searches and pages; the browser is Debian's chromium" \
    "$(/usr/bin/chromium --version 2>/dev/null | awk '{ print $2 }'), headless, driven by Playwright." \
    "Load averages (1, 5, 15 min) before the searches $load_start, after the page loads $load_end."
echo
echo "| measure | median (ms) | p95 (ms) | max (ms) | samples | target | verdict |"
echo "|---|---:|---:|---:|---:|---|---|"
row "search, at the server (Server-Timing), $queries varied searches" cat-search.txt search-server "p95 < 50 ms" 50
row "search, round trip seen by the client (same searches)" cat-search.txt search-client
row "cache page: navigation start → load event" cat-page.txt page-load "p95 < 300 ms" 300
row "cache page: navigation start → first result in the page" cat-page.txt page-first-result "p95 < 300 ms" 300
row "typing a search → results replaced (includes the 150 ms debounce)" cat-page.txt page-typing
echo
echo "$(awk '$1 == "search-with-results" { print $2 " of " $3 }' "$BENCH_DATA/cat-search.txt") searches found" \
    "something (name prefixes, whole names, name@version, /hash prefixes, variants, name + variant, arch and" \
    "compiler filters, the empty search)."
bench_table_start "catalog: static export of $n specs" \
    "\`depot catalog MIRROR --out DIR\`: every page ($pages spec pages), search.json and the assets."
ex=$(bench_stat cat-export median)
bench_row "depot catalog (export)" cat-export "—" "< 10 s at 20,000" "$(verdict "$ex" 10 s)"
