#!/usr/bin/env bash
# bench/crash.sh -- processes killed at any moment (issue 21, item 2): each command is started KILLS times from the same
# state and SIGKILLed after a seeded random delay, then the invariants are checked, then the command is run again to
# the end and the result checked complete.
#
#   bench/crash.sh                                   KILLS=50 per command, SEED=21, every command
#   KILLS=3 COMMANDS="push install-root" bench/crash.sh
#   SPACK_SNAPSHOTS=/work/.mirror bench/crash.sh     also `spack find` (Spack 1.2) in the Spack tree after every kill
#   CRASH_SPACK_WD=/tmp/dcsp2                         Spack's work folder (default /tmp/dcsp; two runs at once need two)
#
# Commands (all on a local directory mirror, from a fresh copy of one prepared state each time):
#   push           depot push MIRROR --all (PACKAGES packages of MB_PER_PACKAGE MB) into an empty mirror
#   copy           depot copy FULL DEST into an empty destination
#   index          depot index of a mirror whose entries are there but that has no index yet
#   install-root   depot install --root ROOT of every spec (plain root)
#   install-spack  depot install --install-tree TREE of every spec (a Spack tree, .spack-db written under its lock)
#   prune          depot prune --yes --grace 0s --older-than 0h --keep HALF on a mirror holding orphan blobs and
#                  temporaries: every entry outside HALF's closures expires and goes, and the garbage with it
#   migrate        depot migrate --unsigned of a layout-v2 mirror (Spack 0.21's) into layout v3
# The kill moment: uniform between 0 and the command's uninterrupted run time (measured once first), from
# random.Random(seed) where seed = SEED * 1000 + kill number, printed with each kill; when the command finished first
# (this machine's speed varies), the state is made again and the next draw of the same generator, from half the range,
# is tried (at most 6 draws).
#
# Invariants after a kill (each failure is a violation):
#   mirror commands  `depot verify --no-verify` passes (or there is no build cache yet); `depot prune --grace 0s`
#                    dry run finds no broken entry (a manifest or spec file without its blobs); `depot list` (the
#                    index) reads; a layout that existed before is still there
#   install          no half-installed prefix visible in the root or tree (crash-check.py); for the Spack tree,
#                    .spack-db/index.json loads and records only complete prefixes, and with SPACK_SNAPSHOTS
#                    `spack find` (Spack 1.2) reads the tree
#   every command    a rerun exits 0 and completes: every spec pushed / copied / indexed / installed (and recorded) /
#                    migrated; after prune, a dry run finds nothing left and the kept specs verify
# Prints a Markdown table (command, kills, killed before the end, violations, seeds of the violating kills); exits 1
# on any violation. Logs in bench/out/data/crash/.
set -uo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kills=${KILLS:-50}; seed=${SEED:-21}; packages=${PACKAGES:-12}; mb=${MB_PER_PACKAGE:-0.5}
commands=${COMMANDS:-push copy index install-root install-spack prune migrate}
bench_depot_build
log=$BENCH_DATA/crash-$$ # per run: two runs at once must not read each other's outputs
mkdir -p "$log"
work=$(mktemp -d /tmp/depot-crash.XXXXXX)
trap 'rm -rf "$work"' EXIT
export DEPOT_HOME=$work/home
tpl=$work/templates
mkdir -p "$tpl"

echo "== crash: preparing the states ($packages packages of $mb MB)" >&2
python3 "$bench_here/make-install-tree.py" "$work/tree" "$packages" "$mb" \
    --repo "$work/repo/spack_repo/benchpkgs" > /dev/null
"$DEPOT" push "$tpl/full" --all --install-tree "$work/tree" --unsigned -j 2 > "$log/prepare.log" 2>&1 &&
    "$DEPOT" push "$tpl/noindex" --all --install-tree "$work/tree" --unsigned -j 2 --no-index >> "$log/prepare.log" 2>&1 &&
    "$DEPOT" push "$tpl/v2" --all --install-tree "$work/tree" --unsigned -j 2 --layout v2 >> "$log/prepare.log" 2>&1 ||
    { cat "$log/prepare.log" >&2; exit 1; }
hashes=$(python3 -c "import json, sys
print(' '.join(sorted(json.load(open(sys.argv[1]))['database']['installs'])))" "$work/tree/.spack-db/index.json")
queries=$(for h in $hashes; do printf '/%s ' "$h"; done)
# The prunable mirror: the full one plus orphan blobs and temporaries; --keep names every other spec.
cp -a "$tpl/full" "$tpl/prunable"
python3 - "$tpl/prunable" << 'PY'
import hashlib, os, random, sys
rng = random.Random(21)
for i in range(40):
    data = rng.randbytes(rng.randint(1 << 10, 256 << 10))
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(sys.argv[1], "blobs", "sha256", d[:2]), exist_ok=True)
    open(os.path.join(sys.argv[1], "blobs", "sha256", d[:2], d), "wb").write(data)
for i in range(5):
    open(os.path.join(sys.argv[1], "blobs", "sha256", f".depot-tmp-crash{i}"), "wb").write(rng.randbytes(4096))
PY
echo "$hashes" | tr ' ' '\n' | awk 'NR % 2' > "$work/keep"
touch -d '2 hours ago' "$work/stamp"
find "$tpl" -exec touch -h -d '2 hours ago' {} + # old enough for any grace period

spack=0
if [ -n "${SPACK_SNAPSHOTS:-}" ] && [ -x "$SPACK12" ]; then
    spack=1
    spack_wd=${CRASH_SPACK_WD:-/tmp/dcsp} # short: Spack's install tree is its opt/ (one per concurrent run)
    SPACK12_REPOS=$work/repo/spack_repo/benchpkgs "$SPACK12" "$spack_wd" -- --version > "$log/spack-setup.log" 2>&1 ||
        { echo "crash: Spack 1.2 did not start (see $log/spack-setup.log)" >&2; spack=0; }
fi
spack_tree() { if [ "$spack" = 1 ]; then echo "$spack_wd/opt"; else echo "$work/spack-tree"; fi; }

# --- one command: fresh state, the command line, its checks -------------------------------------------------------
state() { # COMMAND: makes the state the command starts from
    rm -rf "$work/m" "$work/dest" "$work/root"
    rm -rf "$(spack_tree)"
    case $1 in
        index) cp -a "$tpl/noindex" "$work/m" ;;
        prune) cp -a "$tpl/prunable" "$work/m" ;;
        migrate) cp -a "$tpl/v2" "$work/m" ;;
        install-spack) mkdir -p "$(spack_tree)" ;;
    esac
}
command_line() { # COMMAND
    case $1 in
        push) echo "$DEPOT push $work/m --all --install-tree $work/tree --unsigned -j 2" ;;
        copy) echo "$DEPOT copy $tpl/full $work/dest --no-verify --unsigned -j 4" ;;
        index) echo "$DEPOT index $work/m" ;;
        install-root) echo "$DEPOT install $queries --from $tpl/full --root $work/root --no-verify -j 2" ;;
        install-spack) echo "$DEPOT install $queries --from $tpl/full --install-tree $(spack_tree) --no-verify -j 2" ;;
        prune) echo "$DEPOT prune $work/m --yes --grace 0s --older-than 0h --keep $work/keep" ;;
        migrate) echo "$DEPOT migrate $work/m --unsigned" ;;
    esac
}
mirror_of() { case $1 in copy) echo "$work/dest" ;; *) echo "$work/m" ;; esac; }

mirror_checks() { # COMMAND WHEN(kill|rerun): prints violations
    local m
    m=$(mirror_of "$1")
    if ! "$DEPOT" verify "$m" --no-verify > "$log/verify.out" 2>&1; then
        grep -q 'no build cache here' "$log/verify.out" && [ "$2" = kill ] ||
            echo "verify: $(grep -v '^ *ok ' "$log/verify.out" | head -2 | tr '\n' ' ')"
    fi
    if [ -d "$m" ]; then
        "$DEPOT" prune "$m" --grace 0s --json > "$log/prune.json" 2> "$log/prune.err"
        python3 -c "import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print('prune dry run did not answer: ' + open(sys.argv[2]).read().strip()[:200]); sys.exit()
if 'error' in d:  # a --json error document
    if not (sys.argv[3] == 'kill' and 'no build cache here' in d['error']['message']):
        print('prune dry run failed: ' + d['error']['message'])
    sys.exit()
broken = [i['name'] for i in d['items'] if i['reason'] == 'broken-entry']
if broken:
    print(f'{len(broken)} broken entries (manifest without its blobs), e.g. {broken[0]}')
def replaced_index(item):  # the index blob the prune's own re-index replaced: the next prune's to collect
    try:
        return item['reason'] == 'orphan-blob' and b'\"database\"' in open(item['location'], 'rb').read(64)
    except OSError:
        return False
left = [i for i in d['items'] if not replaced_index(i)]
if sys.argv[3] == 'rerun' and sys.argv[4] == 'prune' and left:
    print(f\"after the rerun prune still finds {len(left)} items, e.g. {left[0]['reason']} {left[0]['name']}\")" \
            "$log/prune.json" "$log/prune.err" "$2" "$1"
        if ! "$DEPOT" list "$m" --json > "$log/list.json" 2> "$log/list.err"; then
            grep -q 'no build cache here' "$log/list.err" "$log/list.json" && [ "$2" = kill ] ||
                echo "list (the index) fails: $(head -c 300 "$log/list.err" "$log/list.json" | tr '\n' ' ')"
        fi
    fi
    case $1 in
        migrate) [ -d "$m/build_cache" ] || echo "the v2 layout is gone" ;;
        index | prune) [ -d "$m/v3" ] || echo "the v3 layout is gone" ;;
    esac
    if [ "$2" = rerun ]; then
        python3 -c "import json, sys
listed = json.load(open(sys.argv[1]))
want = set(sys.argv[2].split())
if sys.argv[3] == 'prune':
    keep = set(open(sys.argv[4]).read().split())
    have = {s['hash'] for s in listed}
    if not keep <= have:
        print(f'prune lost {len(keep - have)} kept specs')
else:
    have = {s['hash'] for s in listed if s.get('layout', 3) == 3}
    if want - have:
        print(f'after the rerun the index lacks {len(want - have)} of {len(want)} specs (in layout v3)')" \
            "$log/list.json" "$hashes" "$1" "$work/keep" 2>&1
    fi
}
install_checks() { # COMMAND WHEN
    local kind=root target=$work/root
    [ "$1" = install-root ] || { kind=spack; target=$(spack_tree); }
    python3 "$bench_here/crash-check.py" "$kind" "$target" "$work/tree" "$([ "$2" = rerun ] && echo all)"
    if [ "$kind" = spack ] && [ "$spack" = 1 ] && [ -f "$target/.spack-db/index.json" ]; then
        SPACK12_REPOS=$work/repo/spack_repo/benchpkgs "$SPACK12" "$spack_wd" -- find --format '{hash}' \
            > "$log/spack-find.out" 2>&1 || echo "spack find fails: $(tail -1 "$log/spack-find.out")"
        if [ "$2" = rerun ]; then
            local n
            n=$(grep -cE '^[a-z0-9]{32}$' "$log/spack-find.out")
            [ "$n" = "$packages" ] || echo "spack find lists $n of $packages specs after the rerun"
        fi
    fi
}
checks() { case $1 in install-*) install_checks "$@" ;; *) mirror_checks "$@" ;; esac; }

# --- the runs -----------------------------------------------------------------------------------------------------
rows=()
total_violations=0
for cmd in $commands; do
    state "$cmd"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2046
    $(command_line "$cmd") > "$log/$cmd-calibrate.log" 2>&1 || { echo "crash: $cmd failed uninterrupted" >&2;
        cat "$log/$cmd-calibrate.log" >&2; exit 1; }
    full=$(bench_calc "$(date +%s.%N) - $t0" 3)
    problems=$(checks "$cmd" rerun)
    [ -z "$problems" ] || { echo "crash: $cmd uninterrupted already fails its checks: $problems" >&2; exit 1; }
    echo "== crash: $cmd ($full s uninterrupted), $kills kills" >&2
    killed=0 violations=0 bad_seeds=()
    : > "$log/$cmd.log"
    for ((k = 1; k <= kills; k++)); do
        s=$((seed * 1000 + k))
        # Delays drawn one after the other from random.Random(seed): uniform in 0..bound, the bound halved each time
        # the command finished before its kill (the machine's speed varies), at most 6 draws.
        read -r -a delays <<< "$(python3 -c "import random
r, b = random.Random($s), $full
print(' '.join(f'{r.uniform(0, b * 0.5 ** i):.3f}' for i in range(6)))")"
        for delay in "${delays[@]}"; do
            state "$cmd"
            # shellcheck disable=SC2046
            $(command_line "$cmd") > "$log/run.out" 2>&1 &
            pid=$!
            sleep "$delay"
            if kill -9 "$pid" 2> /dev/null; then what=killed; else what="finished first"; fi
            wait "$pid" 2> /dev/null
            [ "$what" = "finished first" ] || break
        done
        [ "$what" != killed ] || killed=$((killed + 1))
        problems=$(checks "$cmd" kill)
        # shellcheck disable=SC2046
        if ! $(command_line "$cmd") > "$log/rerun.out" 2>&1; then
            problems+=$'\n'"rerun failed: $(tail -1 "$log/rerun.out")"
        fi
        problems+=$'\n'$(checks "$cmd" rerun)
        problems=$(echo "$problems" | sed '/^$/d')
        if [ -n "$problems" ]; then
            violations=$((violations + 1))
            bad_seeds+=("$s")
            cp "$log/run.out" "$log/$cmd-seed$s-run.out"; cp "$log/rerun.out" "$log/$cmd-seed$s-rerun.out"
        fi
        line="  $cmd kill $k/$kills: seed $s, delay $delay s, $what; ${problems:-invariants hold}"
        echo "$line" | head -3 >&2
        echo "$line" >> "$log/$cmd.log"
    done
    total_violations=$((total_violations + violations))
    seeds_text="${bad_seeds[*]:-—}"
    rows+=("| $cmd | $kills | $killed | $violations | $((seed * 1000 + 1))–$((seed * 1000 + kills)) | ${seeds_text// /, } | $full |")
done

echo
echo "### crash: commands killed (SIGKILL) at seeded random moments, then checked and rerun"
echo
echo "Directory mirror; $packages packages of $mb MB (bench/make-install-tree.py). Each kill starts from a fresh copy" \
    "of the command's state and comes after a delay uniform in 0..the uninterrupted run time, from" \
    "random.Random(seed) (when the command finished first, the next draw from half the range, up to 6 draws);" \
    "'killed' counts the runs still going at their kill (the others finished every draw first and were checked" \
    "all the same). Invariants after each kill: \`depot verify\` passes, no manifest without its blobs" \
    "(prune's broken-entry), the index reads; for installs no half-installed prefix visible, the Spack tree's" \
    ".spack-db loads and records only complete prefixes$([ "$spack" = 1 ] && echo " and \`spack find\` (Spack 1.2) reads it");" \
    "then a rerun completes and everything is there. $(nproc) cores, load at end $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| command | kills | killed before the end | violations | seeds | violating seeds | uninterrupted s |"
echo "|---|---:|---:|---:|---|---|---:|"
printf '%s\n' "${rows[@]}"
[ "$total_violations" = 0 ]
