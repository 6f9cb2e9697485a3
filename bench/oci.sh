#!/usr/bin/env bash
# bench/oci.sh -- push and pull of a synthetic install tree to a local OCI registry (distribution 2.8), at
# parallelism 1 and 8.
#
#   PACKAGES=50 MB_PER_PACKAGE=4 LEVELS="1 8" bench/oci.sh      (BENCH_RUNS runs of each)
# push: `depot push oci+http://… --all -j N` (tar, gzip, upload, images, index) into an emptied registry;
# pull: `depot copy oci+http://… DIR -j N` (every layer downloaded, digest-checked and its sha256 checked against the
# spec, written to a directory cache). No target and no baseline were set for this one (issue 9): the table shows
# what parallelism gains. Starts docker-registry (installed by ./test.sh) on a free port, stops it afterwards.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v docker-registry >/dev/null \
    || { echo "docker-registry is not installed: run ./test.sh once (it installs it)" >&2; exit 1; }
packages=${PACKAGES:-50}; mb=${MB_PER_PACKAGE:-4}; levels=${LEVELS:-1 8}
tree=$BENCH_OUT/oci-tree
bench_depot_build
python3 "$bench_here/make-install-tree.py" "$tree" "$packages" "$mb" > /dev/null
content=$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1)

reg=$(mktemp -d)
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
cat > "$reg/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $reg/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
YAML
server=
start_registry() {
    [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
    rm -rf "$reg/data"
    docker-registry serve "$reg/config.yml" > "$reg/log" 2>&1 &
    server=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
}
export DEPOT_HOME=$reg/home
trap 'kill $server 2>/dev/null; rm -rf "$reg" "$tree" "$BENCH_OUT"/oci-pull' EXIT
pulled=$BENCH_OUT/oci-pull
clear_pull() { rm -rf "$pulled"; }
for j in $levels; do
    mirror=oci+http://127.0.0.1:$port/bench
    echo "== oci: push -j $j" >&2
    BENCH_BEFORE=start_registry
    bench_measure "oci-push-$j" -- "$DEPOT" push "$mirror" --all --unsigned -j "$j" --install-tree "$tree"
    echo "== oci: pull -j $j" >&2
    BENCH_BEFORE=clear_pull
    bench_measure "oci-pull-$j" -- "$DEPOT" copy "$mirror" "$pulled" --no-verify --unsigned --no-index -j "$j"
    tarballs=$(du -sb --apparent-size "$pulled/blobs" | cut -f1)
done
BENCH_BEFORE=
first=${levels%% *}
bench_table_start \
    "OCI registry (distribution 2.8 on 127.0.0.1): $packages packages, $(bench_calc "$content / 1e6" 0) MB" \
    "Push: prefix content archived and uploaded with images and index. Pull: $(bench_calc "$tarballs / 1e6" 0) MB of
tarballs downloaded and checked. No target was set; the ratio is against the $first-way run."
for op in push pull; do
    for j in $levels; do
        ratio=$(bench_calc "$(bench_stat "oci-$op-$first" median) / $(bench_stat "oci-$op-$j" median)" 1)
        bench_row "depot ${op/pull/copy (pull)} -j $j" "oci-$op-$j" "${ratio}x the $first-way" "—" "—"
    done
done
