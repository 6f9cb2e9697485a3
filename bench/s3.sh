#!/usr/bin/env bash
# bench/s3.sh -- push and pull COUNT objects of SIZE_KB through Depot's S3 store to s3rver, at parallelism 1, 8, 32.
#
#   COUNT=500 SIZE_KB=1024 LEVELS="1 8 32" RTTS="0 50" bench/s3.sh        (BENCH_RUNS runs of each)
# RTTS: round trips (ms); 0 is s3rver direct (bound by its one Node process on this machine's cores), others put
# Depot.Bench's latency relay in front of it, as a bucket a network away is (bound by round trips, like real S3).
# Each level is timed inside one `Depot.Bench store-transfer` process after an untimed warm-up; peak RSS is that
# process's.
#
# Target (issue 8): 32-way at least 8x faster than 1-way. Starts s3rver (installed into .test-services/ by
# ./test.sh) on a free 127.0.0.1 port and stops it afterwards.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=$bench_root/.test-services/node_modules/.bin/s3rver
[ -x "$bin" ] || { echo "s3rver is not installed: run ./test.sh once (it installs the test services)" >&2; exit 1; }
count=${COUNT:-500}; size=${SIZE_KB:-1024}; levels=${LEVELS:-1 8 32}; rtts=${RTTS:-0 50}
data=$(mktemp -d)
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
"$bin" -d "$data" -a 127.0.0.1 -p "$port" --configure-bucket bench --silent > "$BENCH_DATA/s3rver.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
bench_generator_build
for rtt in $rtts; do
    delay=(); [ "$rtt" = 0 ] || delay=(--rtt "$rtt")
    for op in push pull; do for j in $levels; do : > "$BENCH_DATA/s3-$rtt-$op-$j.runs"; done; done
    for ((i = 1; i <= BENCH_RUNS; i++)); do
        # shellcheck disable=SC2086 # one argument per level
        AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
            AWS_REGION=us-east-1 /usr/bin/time -f '%e %M' -o "$BENCH_DATA/s3.time" \
            dotnet "$BENCH_GEN" store-transfer s3://bench "$count" \
            "$size" "${delay[@]}" $levels > "$BENCH_DATA/s3.out"
        rss=$(awk 'END { print $2 }' "$BENCH_DATA/s3.time")
        # "LEVEL PUSH_S PUSH_MBS PULL_S PULL_MBS (...)"
        while read -r level push _ pull _; do
            bench_record "s3-$rtt-push-$level" "$push" "$rss"
            bench_record "s3-$rtt-pull-$level" "$pull" "$rss"
        done < <(grep -E '^[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+' "$BENCH_DATA/s3.out")
        echo "  s3 RTT $rtt ms run $i/$BENCH_RUNS done" >&2
    done
    where=$([ "$rtt" = 0 ] && echo "s3rver direct" || echo "s3rver behind a $rtt ms round-trip relay")
    bench_table_start "S3 store: $count objects of $size KiB, $where" \
        "Times of one level inside one process; peak RSS is the process's (all levels)."
    for op in push pull; do
        first=$(bench_stat "s3-$rtt-$op-${levels%% *}" median)
        for j in $levels; do
            ratio=$(bench_calc "$first / $(bench_stat "s3-$rtt-$op-$j" median)" 1)
            if [ "$j" = 32 ]; then
                bench_row "$op, $j-way" "s3-$rtt-$op-$j" "${ratio}x the 1-way" "≥ 8x the 1-way" \
                    "$(bench_verdict_atleast "$ratio" 8 x)"
            else
                bench_row "$op, $j-way" "s3-$rtt-$op-$j" "${ratio}x the 1-way" "—" "—"
            fi
        done
    done
done
