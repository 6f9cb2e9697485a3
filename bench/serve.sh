#!/usr/bin/env bash
# bench/serve.sh -- blob GETs from `depot serve` against nginx (Debian package) serving the same directory cache,
# both measured in this run by the same load tool (wrk, Debian package), then many clients pulling at once.
#
#   bench/serve.sh                              defaults below; BENCH_RUNS runs of each (server, clients) pair
#   DURATION=10 LEVELS="1 16 64" PULL_CLIENTS=200 PACKAGES=12 MB_PER_PACKAGE=3 EXTRA_BLOBS=24 bench/serve.sh
#   PULL_PER_CLIENT=n: each pulling client fetches n blobs of its own shuffled order instead of all of them
#
# Targets (issue 18): at 64 concurrent clients, depot serve's throughput at least 80 % of nginx's and its p99 latency
# under twice nginx's. And: 200 clients pulling while 4 push over HTTP, nothing lost (PUSHERS=4, PUSH_PACKAGES=6:
# each pusher's specs, 1 MB each).
#
# The cache is a real directory cache -- `depot push` of a generated install tree (PACKAGES x MB_PER_PACKAGE: gzip'd
# tarballs of real ELF/text content, ~1-3 MB, and their spec blobs, ~0.3-4 KB) -- plus EXTRA_BLOBS synthetic
# tarball-sized blobs (random bytes, as incompressible as gzip output, named by their sha256) with sizes
# log-uniform in 64 KiB..8 MiB, so that the mix spans small libraries to large packages without making the run long.
# wrk rotates over every blob of it (spec blob and tarball alike: per package `spack install` GETs both). Each wrk run
# lasts DURATION seconds after an untimed warm-up (page cache, .NET tiered JIT); runs alternate which server goes
# first. wrk, the server and the rest of the machine share its cores (2 here): the load average is printed.
# nginx runs with its own configuration in a temporary folder (127.0.0.1, a free port, sendfile and tcp_nopush on,
# worker_processes auto, access log off), depot serve with `depot serve DIR --listen 127.0.0.1:PORT`; both stop on exit.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration=${DURATION:-10}; levels=${LEVELS:-1 16 64}; pull_clients=${PULL_CLIENTS:-200}
pull_per_client=${PULL_PER_CLIENT:-}
packages=${PACKAGES:-12}; mb=${MB_PER_PACKAGE:-3}; extra=${EXTRA_BLOBS:-24}

missing=()
command -v wrk > /dev/null || missing+=(wrk)
command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== serve: installing ${missing[*]} (Debian packages)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null \
        || { echo "serve: could not install ${missing[*]}" >&2; exit 1; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
bench_depot_build

load() { cut -d' ' -f1-3 /proc/loadavg; }
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
work=$(mktemp -d /tmp/depot-serve-bench.XXXXXX)
name=benchcache # the served name is the folder's last segment
cache=$work/$name
nginx_pid= depot_pid=
stop() {
    [ -z "$nginx_pid" ] || kill "$nginx_pid" 2> /dev/null || true
    [ -z "$depot_pid" ] || kill "$depot_pid" 2> /dev/null || true
    wait 2> /dev/null || true
    rm -rf "$work"
}
trap stop EXIT

echo "== serve: generating the cache ($packages packages of $mb MB pushed, $extra synthetic blobs)" >&2
python3 "$bench_here/make-install-tree.py" "$work/tree" "$packages" "$mb" > /dev/null
DEPOT_HOME=$work/home "$DEPOT" push "$cache" --all --unsigned -j 2 --install-tree "$work/tree" \
    > "$BENCH_DATA/serve-push.log" 2>&1 || { cat "$BENCH_DATA/serve-push.log" >&2; exit 1; }
rm -rf "$work/tree"
python3 - "$cache" "$extra" << 'PY'
import hashlib, math, os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(18)
for _ in range(count):
    data = rng.randbytes(int(math.exp(rng.uniform(math.log(64 << 10), math.log(8 << 20)))))
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(root, "blobs", "sha256", digest[:2]), exist_ok=True)
    with open(os.path.join(root, "blobs", "sha256", digest[:2], digest), "wb") as f:
        f.write(data)
PY
chmod -R a+rX "$work" # nginx's workers run as nobody when started by root
paths=$work/paths
find "$cache/blobs" -type f | sort | sed "s|^$work||" > "$paths"
read -r nblobs total smallest median largest < <(find "$cache/blobs" -type f -printf '%s\n' | sort -n | awk '
    { s[NR] = $1; t += $1 } END { printf "%d %d %d %d %d\n", NR, t, s[1], s[int((NR + 1) / 2)], s[NR] }')
cat "$cache"/blobs/sha256/*/* > /dev/null # page cache warm for both servers

nport=$(free_port)
mkdir -p "$work/ngx/tmp"
cat > "$work/ngx/nginx.conf" << EOF
worker_processes auto;
pid $work/ngx/nginx.pid;
error_log $work/ngx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    default_type application/octet-stream;
    client_body_temp_path $work/ngx/tmp/body;
    proxy_temp_path $work/ngx/tmp/proxy;
    fastcgi_temp_path $work/ngx/tmp/fastcgi;
    uwsgi_temp_path $work/ngx/tmp/uwsgi;
    scgi_temp_path $work/ngx/tmp/scgi;
    server {
        listen 127.0.0.1:$nport;
        root $work;
        location /$name/ { }
    }
}
EOF
echo "== serve: starting nginx on 127.0.0.1:$nport and depot serve" >&2
"$NGINX" -p "$work/ngx" -c "$work/ngx/nginx.conf" -g 'daemon off;' > "$BENCH_DATA/serve-nginx.log" 2>&1 &
nginx_pid=$!
dport=$(free_port)
# One writable cache (pushes over HTTP with a push token, unsigned allowed), public for reads like the zero-config
# server: the GET runs are the same requests either way.
cat > "$work/serve.yaml" << EOF
listen: "127.0.0.1:$dport"
caches:
  $name: {mirror: $cache, public: true, read_only: false, allow_unsigned: true}
EOF
push_token=$(DEPOT_HOME=$work/home "$DEPOT" serve token create --config "$work/serve.yaml" --cache "$name" \
    --scope push --name bench-pushers)
DEPOT_HOME=$work/home "$DEPOT" serve --config "$work/serve.yaml" --quiet > "$BENCH_DATA/serve-depot.log" 2>&1 &
depot_pid=$!
first=$(head -1 "$paths")
for url in "http://127.0.0.1:$nport$first" "http://127.0.0.1:$dport$first"; do
    for _ in $(seq 300); do curl -sf -o /dev/null "$url" && continue 2; sleep 0.1; done
    echo "serve: no answer from $url; logs:" >&2
    tail -20 "$BENCH_DATA/serve-nginx.log" "$BENCH_DATA/serve-depot.log" "$work/ngx/error.log" >&2
    exit 1
done
# Both serve the same bytes: every blob read once from each and checked against its name.
for port in "$nport" "$dport"; do
    while read -r p; do
        got=$(curl -sf "http://127.0.0.1:$port$p" | sha256sum | cut -d' ' -f1)
        [ "$got" = "${p##*/}" ] || { echo "serve: port $port: $p read back as sha256 $got" >&2; exit 1; }
    done < "$paths"
done

cpu_ticks() { # PID: user + system clock ticks of the process and its children (nginx's workers)
    local pids
    pids="$1 $(cat /proc/"$1"/task/*/children 2> /dev/null)"
    # shellcheck disable=SC2086
    for p in $pids; do cut -d' ' -f14,15 "/proc/$p/stat" 2> /dev/null || true; done |
        awk '{ t += $1 + $2 } END { print t + 0 }'
}
wrk_run() { # SERVER PORT CLIENTS SECONDS -> one JSON line (wrk's totals + the server's CPU seconds)
    local threads=2 before after out
    [ "$3" -ge 2 ] || threads=1
    before=$(cpu_ticks "$([ "$1" = nginx ] && echo "$nginx_pid" || echo "$depot_pid")")
    out=$(SERVE_PATHS=$paths wrk -t"$threads" -c"$3" -d"$4"s --timeout 10s --latency -s "$bench_here/serve-wrk.lua" \
        "http://127.0.0.1:$2")
    after=$(cpu_ticks "$([ "$1" = nginx ] && echo "$nginx_pid" || echo "$depot_pid")")
    echo "$out" >> "$BENCH_DATA/serve-wrk.log"
    echo "$out" | sed -n 's/^WRKJSON //p' | python3 -c "import json, sys
d = json.load(sys.stdin); d['cpu_s'] = ($after - $before) / $(getconf CLK_TCK); print(json.dumps(d))"
}

load_start=$(load)
: > "$BENCH_DATA/serve-wrk.log"
echo "== serve: warm-up (untimed, 3 s at 16 clients each)" >&2
wrk_run nginx "$nport" 16 3 > /dev/null
wrk_run depot "$dport" 16 3 > /dev/null
for c in $levels; do : > "$BENCH_DATA/serve-nginx-$c.jsonl"; : > "$BENCH_DATA/serve-depot-$c.jsonl"; done
for ((run = 1; run <= BENCH_RUNS; run++)); do
    for c in $levels; do
        order="nginx depot"
        [ $((run % 2)) = 1 ] || order="depot nginx"
        for server in $order; do
            port=$nport
            [ "$server" = nginx ] || port=$dport
            wrk_run "$server" "$port" "$c" "$duration" >> "$BENCH_DATA/serve-$server-$c.jsonl"
            echo "  $server, $c clients, run $run/$BENCH_RUNS: $(tail -1 "$BENCH_DATA/serve-$server-$c.jsonl" |
                python3 -c "import json, sys; d = json.load(sys.stdin)
print(f\"{d['requests'] / d['duration_us'] * 1e6:.0f} req/s, {d['bytes'] / d['duration_us']:.0f} MB/s,\",
      f\"p99 {d['p99_us'] / 1000:.1f} ms, CPU {d['cpu_s']:.1f} s\")")" >&2
        done
    done
done
load_wrk=$(load)

# ---------------------------------------------------------------------------------------------------------------
# 200 clients pulling while 4 push: each pusher its own generated install tree (distinct package names, so no two
# share a spec), pushed over HTTP with a push token while the pullers run; afterwards every pusher exited 0, the
# served index lists every spec they pushed, and `depot verify` of the served cache (checksums of every entry, read
# back through the server) passes.
pushers=${PUSHERS:-4}; push_packages=${PUSH_PACKAGES:-6}
for ((i = 1; i <= pushers; i++)); do
    python3 "$bench_here/make-install-tree.py" "$work/push-tree$i" "$push_packages" 1 --prefix "w$i" > /dev/null
    DEPOT_HOME=$work/push-home$i "$DEPOT" mirror add served "http://127.0.0.1:$dport/$name/" \
        --token-variable DEPOT_BENCH_TOKEN > /dev/null
done
DEPOT_HOME=$work/check-home "$DEPOT" mirror add served "http://127.0.0.1:$dport/$name/" > /dev/null
push_pids=()
start_pushers() {
    for ((i = 1; i <= pushers; i++)); do
        DEPOT_BENCH_TOKEN=$push_token DEPOT_HOME=$work/push-home$i "$DEPOT" push served --all --unsigned -j 2 \
            --install-tree "$work/push-tree$i" > "$BENCH_DATA/serve-pusher-$i.log" 2>&1 &
        push_pids+=($!)
    done
}
pushed_ok=yes
check_pushed() {
    local i want
    for ((i = 1; i <= pushers; i++)); do
        wait "${push_pids[$((i - 1))]}" || pushed_ok="pusher $i failed: $(tail -1 "$BENCH_DATA/serve-pusher-$i.log")"
    done
    DEPOT_HOME=$work/check-home "$DEPOT" list served --json > "$BENCH_DATA/serve-pushed-list.json" 2>&1 \
        || pushed_ok="depot list of the served cache failed"
    for ((i = 1; i <= pushers; i++)); do
        want=$(python3 -c "import json, sys
d = json.load(open(sys.argv[1])); print(' '.join(d['database']['installs']))" "$work/push-tree$i/.spack-db/index.json")
        python3 -c "import json, sys
listed = {s['hash'] for s in json.load(open(sys.argv[1]))}
missing = [h for h in sys.argv[2].split() if h not in listed]
sys.exit(f'pusher {sys.argv[3]}: {len(missing)} pushed specs missing from the index' if missing else 0)" \
            "$BENCH_DATA/serve-pushed-list.json" "$want" "$i" 2>> "$BENCH_DATA/serve-pushed-check.log" \
            || pushed_ok="$(tail -1 "$BENCH_DATA/serve-pushed-check.log")"
    done
    DEPOT_HOME=$work/check-home "$DEPOT" verify served --no-verify > "$BENCH_DATA/serve-pushed-verify.log" 2>&1 \
        || pushed_ok="depot verify of the served cache failed: $(tail -1 "$BENCH_DATA/serve-pushed-verify.log")"
    echo "  pushers: $pushers x $push_packages specs, $pushed_ok" >&2
}
# ---------------------------------------------------------------------------------------------------------------
echo "== serve: $pull_clients clients each pulling ${pull_per_client:-all} of the $nblobs blobs through depot serve" >&2
start_pushers
before=$(cpu_ticks "$depot_pid")
python3 "$bench_here/serve-pull.py" "http://127.0.0.1:$dport" "$paths" "$pull_clients" 4 \
    "$pull_per_client" > "$BENCH_DATA/serve-pull.json"
after=$(cpu_ticks "$depot_pid")
check_pushed
pull_cpu=$(bench_calc "($after - $before) / $(getconf CLK_TCK)" 1)
depot_rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$depot_pid/status")
load_end=$(load)

echo
echo "### serve: blob GETs from a local directory cache, depot serve vs nginx $("$NGINX" -v 2>&1 | sed 's|.*/||')"
echo
echo "$nblobs blobs, $(bench_calc "$total / 1e6" 0) MB (sizes $smallest B to" \
    "$(bench_calc "$largest / 1048576" 1) MiB," \
    "median $(bench_calc "$median / 1024" 0) KiB): $packages packages pushed by depot (tarballs and spec blobs) and" \
    "$extra synthetic tarball-sized blobs (64 KiB..8 MiB, log-uniform). wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2)" \
    "rotates over every blob, ${duration} s per run (1 thread at 1 client, else 2), median of $BENCH_RUNS runs;" \
    "nginx with sendfile, access log off. wrk and both servers share this machine's $(nproc) cores. Load average" \
    "(1, 5, 15 min): at start $load_start, after the wrk runs $load_wrk, at end $load_end. depot serve peak RSS:" \
    "$depot_rss MiB. Server CPU s per GB: user + system time of the server's processes over the bytes served."
echo
python3 - "$BENCH_DATA" "$levels" "$nblobs" "$pull_cpu" "$pushers" "$push_packages" "$pushed_ok" << 'PY'
import json, statistics, sys
data, levels, nblobs, pull_cpu, pushers = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5]
push_packages, pushed_ok = sys.argv[6], sys.argv[7]

def runs(server, c):
    return [json.loads(line) for line in open(f"{data}/serve-{server}-{c}.jsonl") if line.strip()]

def summary(server, c):
    rs = runs(server, c)
    rps = [r["requests"] / r["duration_us"] * 1e6 for r in rs]
    med = lambda f: statistics.median(f(r) for r in rs)
    return {"rps": statistics.median(rps), "lo": min(rps), "hi": max(rps), "n": len(rs),
            "mbs": med(lambda r: r["bytes"] / r["duration_us"]), "p50": med(lambda r: r["p50_us"] / 1000),
            "p99": med(lambda r: r["p99_us"] / 1000),
            "cpu_gb": med(lambda r: r["cpu_s"] / (r["bytes"] / 1e9) if r["bytes"] else 0),
            "errors": sum(r[k] for r in rs for k in ("connect", "read", "write", "status", "timeout"))}

def atleast(v, need):
    return "met" if v >= need else f"missed: {v:.2f}x where {need:g}x is needed ({(need - v) / need * 100:.0f} % short)"

def below(v, limit):
    return "met" if v < limit else f"missed: {v:.2f}x, under {limit:g}x needed ({(v - limit) / limit * 100:.0f} % over)"

print("| clients | server | req/s: median (min–max) | MB/s | p50 (ms) | p99 (ms) | server CPU s per GB | errors |"
      " throughput vs nginx | p99 vs nginx | target | verdict |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---|---|---|---|")
for c in levels:
    n, d = summary("nginx", c), summary("depot", c)
    for label, s in (("nginx", n), ("depot serve", d)):
        runs_text = f"{s['n']} run{'s' if s['n'] != 1 else ''}"
        row = [c, label, f"{s['rps']:.0f} ({s['lo']:.0f}–{s['hi']:.0f}, {runs_text})", f"{s['mbs']:.0f}",
               f"{s['p50']:.1f}", f"{s['p99']:.1f}", f"{s['cpu_gb']:.2f}", s["errors"]]
        if s is n:
            row += ["baseline", "baseline", "—", "—"]
        else:
            tr, pr = d["rps"] / n["rps"], d["p99"] / n["p99"]
            row += [f"{tr:.2f}x", f"{pr:.2f}x"]
            if c == "64":
                row += ["≥ 0.8x nginx req/s; p99 < 2x nginx",
                        f"throughput {atleast(tr, 0.8)}; p99 {below(pr, 2)}"]
            else:
                row += ["—", "—"]
        print("| " + " | ".join(str(x) for x in row) + " |")

p = json.load(open(f"{data}/serve-pull.json"))
lost = p["losses"] != 0 or p["fetches"] != p["expected_fetches"]
ok = not lost and pushed_ok == "yes"
print()
print("| pull test | clients | fetches (checked / expected) | GB | seconds | MB/s | p50 (ms) | p99 (ms) |"
      " depot CPU s | pushers | target | verdict |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
what = "every blob" if p["per_client"] >= int(nblobs) else f"{p['per_client']} of the {nblobs} blobs"
verdict = "met" if ok else "missed: " + (f"{p['losses']} lost: " + "; ".join(p["first_losses"])
                                        if lost else pushed_ok)
print(f"| {what}, each client, sha256 checked | {p['clients']} | {p['fetches']} / {p['expected_fetches']} |"
      f" {p['bytes'] / 1e9:.2f} | {p['seconds']} | {p['bytes'] / 1e6 / p['seconds']:.0f} | {p['p50_ms']} |"
      f" {p['p99_ms']} | {pull_cpu} | {pushers} × {push_packages} specs over HTTP (indexed and verified:"
      f" {pushed_ok}) | nothing lost |"
      f" {verdict} |")
PY
