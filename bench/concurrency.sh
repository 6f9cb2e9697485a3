#!/usr/bin/env bash
# bench/concurrency.sh -- many writers at once (issue 21, item 1): PROCS `depot push` processes, each pushing its own
# SPECS specs (disjoint slices of one generated install tree whose specs all depend on SHARED shared libraries, so
# every pusher also pushes the same dependencies at the same moment), into one mirror, while `depot index` and
# `depot copy` (to a second mirror, a local directory) run in loops against the same mirror until the pushers are done.
#
#   bench/concurrency.sh                          PROCS=4 SPECS=100 SHARED=20, every store
#   STORES="directory s3" PROCS=3 SPECS=5 bench/concurrency.sh
#
# Stores: directory, s3 (s3rver), azure (Azurite), oci (docker-registry, distribution 2.8), serve (`depot serve` of a
# directory, pushed to over HTTP with a push token; the racing `depot index` runs on the served directory itself).
# The servers come from ./test.sh's installs (.test-services/, the docker-registry Debian package).
#
# After each run, with no further index run, every check must hold:
#   pushers      every pusher exited 0
#   index        the mirror's index (`depot list`) holds every pushed spec: PROCS x SPECS + the shared ones
#   entries      every entry is there (`depot list --rescan`) and `depot verify --no-verify` passes (checksums of
#                every spec and tarball; the pushes are unsigned)
#   leftovers    `depot prune --grace 0s` finds nothing: no orphan blob (a duplicate tarball of one spec written by two
#                pushers, an index blob left behind), no broken entry, no temporary; on the registry (where prune
#                is refused, and blobs are content-addressed by the registry) no upload session is left in its storage
#   copy         every racing copy and index run exited 0; the copy's destination verifies, its index holds exactly
#                its entries, and a last copy after the race brings it every spec
# Prints one Markdown table, a row per store; exits 1 if any check failed. Logs in bench/out/data/concurrency-*.
set -uo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
procs=${PROCS:-4}; specs=${SPECS:-100}; shared=${SHARED:-20}; mb=${MB_PER_PACKAGE:-0.01}
stores=${STORES:-directory s3 azure oci serve}
bench_depot_build

work=$(mktemp -d /tmp/depot-concurrency.XXXXXX)
server_pids=()
cleanup() {
    local p
    for p in "${server_pids[@]}"; do kill "$p" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
wait_port() { for _ in $(seq 300); do (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; return 1; }
services=$bench_root/.test-services/node_modules/.bin
log=$BENCH_DATA/concurrency
mkdir -p "$log"

total=$((shared + procs * specs))
echo "== concurrency: generating $total specs ($shared shared, then $procs x $specs depending on them)" >&2
python3 "$bench_here/make-install-tree.py" "$work/tree" "$total" "$mb" --shared "$shared" > /dev/null
# Pusher i's slice: the specs numbered shared + (i-1)*specs .. shared + i*specs - 1, as /hash queries.
python3 - "$work/tree/.spack-db/index.json" "$shared" "$specs" "$procs" "$work" << 'PY'
import json, sys
installs = json.load(open(sys.argv[1]))["database"]["installs"]
shared, specs, procs = (int(a) for a in sys.argv[2:5])
work = sys.argv[5]
by_number = sorted(installs, key=lambda h: int(installs[h]["spec"]["name"][3:].split("-")[0]))
for i in range(procs):
    with open(f"{work}/slice{i + 1}", "w") as f:
        f.write(" ".join("/" + h for h in by_number[shared + i * specs: shared + (i + 1) * specs]))
with open(f"{work}/all-hashes", "w") as f:
    f.write("\n".join(by_number) + "\n")
PY

# The blobs of every entry, pushed once alone: tarballs and spec blobs are deterministic, so an orphan blob among
# these after the race is an entry's content no manifest names (a violation); any other orphan is an index blob a
# later index write replaced (kept for readers that fetched the old index manifest; prune collects it after its
# grace period).
echo "== concurrency: reference push of the whole tree (alone)" >&2
DEPOT_HOME=$work/home-reference "$DEPOT" push "$work/reference" --all --install-tree "$work/tree" --unsigned \
    --no-index > "$log/reference-push.log" 2>&1 || { cat "$log/reference-push.log" >&2; exit 1; }
(cd "$work/reference/blobs/sha256" && find . -type f -printf '%f\n') > "$work/entry-blobs"
rm -rf "$work/reference"

# --- stores -------------------------------------------------------------------------------------------------------
# Each setup sets MIRROR (what the pushers push to), CHECK (the same mirror as the checks reach it), INDEX_MIRROR
# (what the racing `depot index` indexes), and ENVS (variables every depot command of this store needs).
setup_directory() { MIRROR=$work/directory/mirror; CHECK=$MIRROR; INDEX_MIRROR=$MIRROR; ENVS=(); }
setup_s3() {
    [ -x "$services/s3rver" ] || { echo "s3rver is not installed: run ./test.sh once" >&2; return 1; }
    local port; port=$(free_port)
    mkdir -p "$work/s3/data"
    "$services/s3rver" -d "$work/s3/data" -a 127.0.0.1 -p "$port" --configure-bucket bench --silent \
        > "$log/s3rver.log" 2>&1 &
    server_pids+=($!)
    wait_port "$port" || return 1
    MIRROR=s3://bench/cache; CHECK=$MIRROR; INDEX_MIRROR=$MIRROR
    ENVS=(AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
        AWS_REGION=us-east-1)
}
setup_azure() {
    [ -x "$services/azurite-blob" ] || { echo "azurite-blob is not installed: run ./test.sh once" >&2; return 1; }
    local port key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
    port=$(free_port)
    "$services/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --disableTelemetry \
        --skipApiVersionCheck --loose --extentMemoryLimit 512 --silent > "$log/azurite.log" 2>&1 &
    server_pids+=($!)
    wait_port "$port" || return 1
    MIRROR=azure://devstoreaccount1/bench/cache; CHECK=$MIRROR; INDEX_MIRROR=$MIRROR
    ENVS=("AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$key;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;")
}
setup_oci() {
    command -v docker-registry > /dev/null || { echo "docker-registry is not installed: run ./test.sh" >&2; return 1; }
    local port; port=$(free_port)
    mkdir -p "$work/oci"
    cat > "$work/oci/config.yml" << YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/oci/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port, secret: bench}
YAML
    docker-registry serve "$work/oci/config.yml" > "$log/registry.log" 2>&1 &
    server_pids+=($!)
    wait_port "$port" || return 1
    MIRROR=oci+http://127.0.0.1:$port/bench; CHECK=$MIRROR; INDEX_MIRROR=$MIRROR; ENVS=()
}
setup_serve() {
    local port token
    port=$(free_port)
    mkdir -p "$work/serve/cache"
    cat > "$work/serve/serve.yaml" << EOF
listen: "127.0.0.1:$port"
caches:
  cache: {mirror: $work/serve/cache, public: true, read_only: false, allow_unsigned: true}
EOF
    token=$(DEPOT_HOME=$work/serve/home "$DEPOT" serve token create --config "$work/serve/serve.yaml" --cache cache \
        --scope push --name concurrency) || return 1
    DEPOT_HOME=$work/serve/home "$DEPOT" serve --config "$work/serve/serve.yaml" --quiet > "$log/serve.log" 2>&1 &
    server_pids+=($!)
    wait_port "$port" || return 1
    for ((i = 1; i <= procs; i++)); do
        DEPOT_HOME=$work/home-serve-$i "$DEPOT" mirror add served "http://127.0.0.1:$port/cache/" \
            --token-variable DEPOT_CONCURRENCY_TOKEN > /dev/null || return 1
    done
    MIRROR=served; CHECK=$work/serve/cache; INDEX_MIRROR=$CHECK; ENVS=("DEPOT_CONCURRENCY_TOKEN=$token")
}

depot_env() { env "${ENVS[@]}" DEPOT_HOME="$work/home-$store-${1}" "${@:2}"; } # HOME_SUFFIX CMD...

not_yet='no build cache here|has no repository .* \(nothing was ever pushed there\)'
# Loops CMD... until $work/stop exists; appends each run's exit code to FILE.
race_loop() { # FILE CMD...
    local file=$1
    shift
    local code
    while [ ! -e "$work/stop" ]; do
        "$@" > "$file.out" 2>&1
        code=$?
        cat "$file.out" >> "$file.log"
        # Before the first pusher created the mirror there is nothing to index or copy yet: not a failure.
        if [ "$code" != 0 ] && grep -qE "$not_yet" "$file.out"; then code=early; fi
        # A one-line refusal after 10 attempts while entries keep arriving (stores without times: the registry):
        # counted apart; it loses nothing (each pusher's own index update settles its specs).
        if [ "$code" = 7 ] && grep -q 'kept changing while it was updated' "$file.out"; then code=gave-up; fi
        echo "$code" >> "$file"
    done
}

rows=()
failed=0
for store in $stores; do
    echo "== concurrency: $store ($procs pushers x $specs specs, index and copy racing)" >&2
    rm -f "$work/stop"
    if ! "setup_$store"; then
        rows+=("| $store | could not start the store (see $log) | | | | | | | |")
        failed=1
        continue
    fi
    dest=$work/$store-copy
    t0=$(date +%s.%N)
    pids=()
    for ((i = 1; i <= procs; i++)); do
        # shellcheck disable=SC2046 # one /hash argument per spec
        depot_env "$i" "$DEPOT" push "$MIRROR" $(cat "$work/slice$i") --install-tree "$work/tree" --unsigned -j 2 \
            > "$log/$store-push-$i.log" 2>&1 &
        pids+=($!)
    done
    : > "$log/$store-index"; : > "$log/$store-copy"
    race_loop "$log/$store-index" depot_env index "$DEPOT" index "$INDEX_MIRROR" &
    index_loop=$!
    race_loop "$log/$store-copy" depot_env copy "$DEPOT" copy "$CHECK" "$dest" --no-verify --unsigned &
    copy_loop=$!
    push_failed=0
    for p in "${pids[@]}"; do wait "$p" || push_failed=$((push_failed + 1)); done
    t1=$(date +%s.%N)
    touch "$work/stop"
    wait "$index_loop" "$copy_loop"

    # Checks: nothing below writes to the mirror except the last copy, which writes only its destination.
    depot_env check "$DEPOT" list "$CHECK" --json > "$log/$store-list.json" 2> "$log/$store-list.err"
    depot_env check "$DEPOT" list "$CHECK" --json --rescan > "$log/$store-rescan.json" 2> "$log/$store-rescan.err"
    depot_env check "$DEPOT" verify "$CHECK" --no-verify > "$log/$store-verify.log" 2>&1
    verify=$?
    if [ "$store" = oci ]; then
        uploads=$(find "$work/oci/data" -path '*/_uploads/*' -mindepth 1 -maxdepth 8 -type d 2> /dev/null |
            grep -c '/_uploads/[^/]*$')
        leftovers="$uploads upload sessions"
    else
        depot_env check "$DEPOT" prune "$CHECK" --grace 0s --json > "$log/$store-prune.json" 2> "$log/$store-prune.err"
        leftovers=$(python3 -c "import json, sys, collections
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print('prune failed'); sys.exit()
entry_blobs = set(open(sys.argv[2]).read().split())
c = collections.Counter('replaced-index' if i['reason'] == 'orphan-blob' and i['name'].split('/')[-1] not in entry_blobs
                        else i['reason'] for i in d['items'])
print(', '.join(f'{n} {r}' for r, n in sorted(c.items())) or 'none')" "$log/$store-prune.json" "$work/entry-blobs")
    fi
    temporaries=0
    [ "$store" != directory ] && [ "$store" != serve ] \
        || temporaries=$(find "$CHECK" -name '.depot-tmp*' | wc -l)
    depot_env check "$DEPOT" verify "$dest" --no-verify > "$log/$store-copy-verify.log" 2>&1
    copy_verify=$?
    depot_env check "$DEPOT" list "$dest" --json > "$log/$store-copy-list.json" 2>&1
    depot_env check "$DEPOT" list "$dest" --json --rescan > "$log/$store-copy-rescan.json" 2>&1
    depot_env check "$DEPOT" copy "$CHECK" "$dest" --no-verify --unsigned > "$log/$store-copy-last.log" 2>&1
    copy_last=$?
    depot_env check "$DEPOT" list "$dest" --json > "$log/$store-copy-final.json" 2>&1
    row=$(python3 - "$log" "$store" "$work/all-hashes" "$push_failed" "$procs" "$verify" "$leftovers" \
        "$temporaries" "$copy_verify" "$copy_last" "$(bench_calc "$t1 - $t0" 1)" << 'PY'
import json, sys
log, store, all_file, push_failed, procs, verify, leftovers, temporaries, copy_verify, copy_last, seconds = sys.argv[1:]
want = set(open(all_file).read().split())
def hashes(name):
    try:
        return {s["hash"] for s in json.load(open(f"{log}/{store}-{name}.json"))}
    except Exception:
        return None
def runs(name):
    codes = [c for c in open(f"{log}/{store}-{name}").read().split() if c != "early"]
    return len(codes), sum(1 for c in codes if c not in ("0", "gave-up")), codes.count("gave-up")
indexed, entries = hashes("list"), hashes("rescan")
copy_index, copy_entries, copy_final = hashes("copy-list"), hashes("copy-rescan"), hashes("copy-final")
index_runs, index_failed, index_gave_up = runs("index")
copy_runs, copy_failed, _ = runs("copy")
problems = []
if int(push_failed):
    problems.append(f"{push_failed} pushers failed")
def count(found, what):
    if found is None:
        problems.append(f"{what}: could not be listed")
        return "?"
    if want - found:
        problems.append(f"{what}: {len(want - found)} missing")
    return str(len(found & want))
in_index, in_entries = count(indexed, "index"), count(entries, "entries")
if verify != "0":
    problems.append("verify failed")
import re
if re.sub(r"(, )?\d+ replaced-index", "", leftovers) not in ("", "none", "0 upload sessions"):
    problems.append(f"leftovers: {leftovers}")
if temporaries != "0":
    problems.append(f"{temporaries} temporaries")
if index_failed or copy_failed:
    problems.append(f"{index_failed} index and {copy_failed} copy runs failed")
copy_ok = copy_verify == "0" and copy_index is not None and copy_index == copy_entries
if not copy_ok:
    problems.append("copy destination: verify failed or its index differs from its entries")
if copy_last != "0" or copy_final is None or want - copy_final:
    problems.append("last copy incomplete")
gave_up = f", {index_gave_up} gave up" if index_gave_up else ""
verdict = "ok" if not problems else "FAILED: " + "; ".join(problems)
print(f"| {store} | {int(procs) - int(push_failed)}/{procs} | {len(want)} | {in_index} | {in_entries} |"
      f" {'passed' if verify == '0' else 'FAILED'} | {leftovers}{'' if temporaries == '0' else f', {temporaries} temporaries'} |"
      f" {index_runs} ({index_failed} failed{gave_up}) | {copy_runs} ({copy_failed} failed); destination"
      f" {len(copy_entries or ())} verified, index {'= entries' if copy_ok else 'WRONG'}, then"
      f" {len((copy_final or set()) & want)} | {seconds} | {verdict} |")
PY
)
    rows+=("$row")
    echo "  $row" >&2
    case "$row" in *"| ok |") ;; *) failed=1 ;; esac
    for p in "${server_pids[@]}"; do kill "$p" 2> /dev/null || true; done
    wait "${server_pids[@]}" 2> /dev/null
    server_pids=()
done

echo
echo "### concurrency: $procs pushers x $specs specs at once, with \`depot index\` and \`depot copy\` racing them"
echo
echo "One generated install tree of $total specs: $shared shared libraries and $((procs * specs)) packages depending" \
    "on one to three of them. Pusher i pushes its own $specs (\`depot push MIRROR /hash... -j 2 --unsigned\`), and" \
    "with them the shared libraries, all $procs at once; \`depot index\` and \`depot copy\` (to a local directory) run" \
    "in loops against the same mirror until the last pusher exits. Then, with no further index run: specs the index" \
    "holds (\`depot list\`), entries present (\`list --rescan\`), \`depot verify --no-verify\`, leftovers" \
    "(\`depot prune --grace 0s\` dry run: orphan or duplicate blobs, broken entries, temporaries; on the registry," \
    "upload sessions left in its storage), the racing runs' exit codes ('gave up': \`depot index\` refused with" \
    "exit 7, 'the index kept changing while it was updated (10 attempts); try again'), the copy's destination (verified, index =" \
    "entries; then the specs it holds after one more copy). $(nproc) cores, load at end $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| store | pushers ok | specs | in index | entries | verify | leftovers | index runs | copy runs | push s | verdict |"
echo "|---|---:|---:|---:|---:|---|---|---:|---|---:|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
