#!/usr/bin/env bash
# bench/prune.sh -- `depot prune` on a synthetic Spack 1.x build cache (layout v3) of N specs with M planted orphans:
# orphan blobs (70 %), entries whose tarball is missing (20 %: manifest + its own spec blob), writers' temporaries
# (10 %), all two hours old. Rows: the dry run (plan only), `--yes` (plan, delete, re-check, incremental index), and a
# retention plan (`--keep-last 1`: the index and the link/run graph on top).
#
#   N=20000 ORPHANS=1000 bench/prune.sh      (the defaults; SEED=1)
#   BENCH_RUNS=5; KEEP=1 keeps the generated mirror in bench/out, reused by the next run with the same N and SEED.
#
# Target (issue 20), for N = 20,000 and 1,000 orphans on this 2-core machine: the whole prune (--yes) under 10 s.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n=${N:-20000}
orphans=${ORPHANS:-1000}
seed=${SEED:-1}
base=$BENCH_OUT/pr-base-N$n-seed$seed
work=$BENCH_OUT/pr-work
export DEPOT_HOME=$BENCH_OUT/pr-home
bench_generator_build
bench_depot_build

if [ ! -f "$base.done" ]; then
    echo "== prune: generating $n specs" >&2
    rm -rf "$base"
    dotnet "$BENCH_GEN" generate-v3 "$base" "$n" --seed "$seed" > /dev/null
    "$DEPOT" index "$base" > /dev/null
    # What indexing replaced is an orphan too; the base starts clean so that the count below is exact.
    find "$base" -type f -exec touch -d '3 hours ago' {} +
    "$DEPOT" prune "$base" --yes > /dev/null
    touch "$base.done"
fi

# A fresh copy (hard links: prune removes names, never edits in place) with the orphans planted.
fresh_work() {
    rm -rf "$work"
    cp -al "$base" "$work"
    python3 - "$work" "$orphans" <<'PY'
import hashlib, json, os, random, sys, time
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(20)
old = time.time() - 7200
def put(key, data):
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (old, old))
def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    put(f"blobs/sha256/{digest[:2]}/{digest}", data)
    return digest
broken, temporaries = count * 2 // 10, count // 10
for i in range(count - broken - temporaries):
    blob(rng.randbytes(2048 + rng.randrange(8192)))
alphabet = "abcdefghijklmnopqrstuvwxyz234567"
for i in range(broken):
    spec = blob(b'{"spec": "orphan %d %f"}' % (i, rng.random()))
    missing = hashlib.sha256(b"never written %d" % i).hexdigest()
    dag = "".join(rng.choice(alphabet) for _ in range(32))
    manifest = {"version": 3, "data": [
        {"contentLength": 10, "mediaType": "application/vnd.spack.install.v2.tar+gzip", "compression": "gzip",
         "checksumAlgorithm": "sha256", "checksum": missing},
        {"contentLength": 30, "mediaType": "application/vnd.spack.spec.v5+json", "compression": "gzip",
         "checksumAlgorithm": "sha256", "checksum": spec}]}
    put(f"v3/manifests/spec/orphan/orphan-1.0-{dag}.spec.manifest.json", json.dumps(manifest).encode())
for i in range(temporaries):
    put(f"blobs/sha256/{i % 256:02x}/.depot-tmp-{rng.getrandbits(64):016x}-staged", b"half written")
PY
}
fresh_work
planned=$("$DEPOT" prune "$work" | tail -1)
case "$planned" in
    *": $orphans items "*) ;;
    *) echo "the dry run planned '$planned', expected $orphans items" >&2; exit 1 ;;
esac

echo "== prune: depot prune (dry run)" >&2
bench_measure pr-dry -- "$DEPOT" prune "$work"
echo "== prune: depot prune --keep-last 1 (dry run, retention)" >&2
bench_measure pr-retention -- "$DEPOT" prune "$work" --keep-last 1
echo "== prune: depot prune --yes" >&2
BENCH_BEFORE=fresh_work
DEPOT_TIMINGS=1 bench_measure pr-yes -- "$DEPOT" prune "$work" --yes
BENCH_BEFORE=
removed=$(grep -c '^removed ' "$BENCH_DATA/pr-yes.log" || true)
[ "$removed" = $((orphans * BENCH_RUNS)) ] || [ -n "${BENCH_RUNS_OVERRIDE:-}" ] \
    || { echo "prune --yes removed $removed items over $BENCH_RUNS runs, expected $orphans each" >&2; exit 1; }
"$DEPOT" verify "$work" --no-verify > /dev/null || { echo "the pruned mirror does not verify" >&2; exit 1; }
retention=$(tail -1 "$BENCH_DATA/pr-retention.log" | sed -n 's/^[^:]*: \([0-9]*\) items.*/\1/p')
rm -rf "$work"

at_target() { [ "$n" = 20000 ] && [ "$orphans" = 1000 ]; }
verdict() { if at_target; then bench_verdict_below "$1" "$2" s; else echo "n/a (target is for 20,000 + 1,000)"; fi; }
bench_table_start "prune: synthetic v3 mirror of $n specs with $orphans orphans (seed $seed)" \
    "Orphans: $((orphans * 7 / 10)) blobs, $((orphans * 2 / 10)) broken entries, $((orphans / 10)) temporaries;
--yes also re-checks each item, deletes and updates the index incrementally. The pruned mirror verifies."
bench_row "depot prune (dry run)" pr-dry "—" "—" "—"
bench_row "depot prune --keep-last 1 (dry run: $retention items)" pr-retention "—" "—" "—"
bench_row "depot prune --yes" pr-yes "—" "< 10 s at 20,000 + 1,000" "$(verdict "$(bench_stat pr-yes median)" 10)"
[ "${KEEP:-0}" = 1 ] || rm -rf "$base" "$base.done"
