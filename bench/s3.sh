#!/usr/bin/env bash
# bench/s3.sh -- push and pull 500 objects of 1 MB through Depot's S3 store to s3rver, at parallelism 1, 8 and 32.
#   COUNT=500 SIZE_KB=1024 LEVELS="1 8 32" RTTS="0 20 50" bench/s3.sh
# RTTS: round trips (ms) to measure at; 0 is s3rver direct (bound by its one Node process on this machine's cores),
# others put a latency relay in front of it, as a bucket a network away is (bound by round trips, like real S3).
# Starts s3rver (installed into .test-services/ by ./test.sh) on a free 127.0.0.1 port, stops it afterwards.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$root/.test-services/node_modules/.bin/s3rver
[ -x "$bin" ] || { echo "s3rver is not installed: run ./test.sh once (it installs the test services)" >&2; exit 1; }
data=$(mktemp -d)
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
"$bin" -d "$data" -a 127.0.0.1 -p "$port" --configure-bucket bench --silent &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
dotnet build -c Release "$here/Depot.Bench" --nologo -v quiet > /dev/null
for rtt in ${RTTS:-0 20 50}; do
    delay=(); [ "$rtt" = 0 ] || delay=(--rtt "$rtt")
    AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
        dotnet "$here/Depot.Bench/bin/Release/net10.0/Depot.Bench.dll" store-transfer s3://bench "${COUNT:-500}" "${SIZE_KB:-1024}" "${delay[@]}" ${LEVELS:-1 8 32}
done
