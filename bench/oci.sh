#!/usr/bin/env bash
# bench/oci.sh -- push and pull of a synthetic install tree to a local OCI registry, at parallelism 1 and 8.
#   PACKAGES=50 MB_PER_PACKAGE=4 LEVELS="1 8" bench/oci.sh
# Starts docker-registry (Debian package, installed by ./test.sh) on a free 127.0.0.1 port, stops it afterwards.
# push: `depot push oci+http://… --all -j N` (tar, gzip, upload, images, index); pull: `depot copy oci+http://… DIR -j N`
# (every layer downloaded, digest-checked and its sha256 checked against the spec, written to a directory cache).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
command -v docker-registry >/dev/null || { echo "docker-registry is not installed: run ./test.sh once (it installs it)" >&2; exit 1; }
out=$here/out
tree=$out/oci-tree
packages=${PACKAGES:-50}
mb=${MB_PER_PACKAGE:-4}
mkdir -p "$out"
"$root/depot" --help > /dev/null # build first, outside the timings
if [ "${KEEP:-0}" != 1 ] || [ ! -f "$tree/.spack-db/index.json" ]; then
    python3 "$here/make-install-tree.py" "$tree" "$packages" "$mb" > /dev/null
fi
content=$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1)

reg=$(mktemp -d)
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
cat > "$reg/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $reg/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
YAML
docker-registry serve "$reg/config.yml" > "$reg/log" 2>&1 &
server=$!
export DEPOT_HOME=$reg/home
trap 'kill $server 2>/dev/null; rm -rf "$reg" "$out"/oci-pull-*' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

seconds() { python3 -c "import time; print(time.monotonic())"; }
echo "OCI registry (distribution 2.8 on 127.0.0.1): $packages packages, $(python3 -c "print(f'{$content / 1e6:.0f}')") MB of prefix content ($(nproc) cores)"
printf "%-12s %8s %10s %8s %10s\n" "parallelism" "push s" "push MB/s" "pull s" "pull MB/s"
for j in ${LEVELS:-1 8}; do
    mirror=oci+http://127.0.0.1:$port/bench-j$j
    a=$(seconds); "$root/depot" push "$mirror" --all --unsigned -j "$j" --install-tree "$tree" > "$out/oci-push-j$j.log"; b=$(seconds)
    pulled=$out/oci-pull-j$j; rm -rf "$pulled"
    c=$(seconds); "$root/depot" copy "$mirror" "$pulled" --no-verify --unsigned --no-index -j "$j" > "$out/oci-pull-j$j.log"; d=$(seconds)
    tarballs=$(du -sb --apparent-size "$pulled/blobs" | cut -f1)
    python3 -c "p=$b-$a; q=$d-$c; print(f'{$j:<12} {p:8.2f} {$content/1e6/p:10.1f} {q:8.2f} {$tarballs/1e6/q:10.1f}')"
done
echo "push MB/s: prefix content archived and uploaded; pull MB/s: compressed tarballs downloaded and checked"
