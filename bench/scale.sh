#!/usr/bin/env bash
# bench/scale.sh -- Depot at scale (issue 21, item 5): `depot index` (full, and incremental after +10 specs) on a
# synthetic v3 mirror of 20,000 specs; `depot list`, `depot index --full` and incremental `depot index` on one of
# 200,000 specs; `depot install` of a 500-package DAG from a signed local mirror into an empty Spack install tree;
# `depot push` of 10,000 small packages (per-entry overhead, not bandwidth); `depot sign` of N entries with an RSA 4096
# key (ms per entry; start-up spread over 5,000 entries, as push spreads it over 10,000). Each row: median, min–max,
# peak RSS, target and a computed verdict.
#
#   bench/scale.sh                     (defaults below; about 25 min here with the 200k mirror already generated)
#   N_SMALL=20000 N_LARGE=200000 DAG=500 PUSH=10000 SIGN=5000 SIGN_DISK=1000 SIGN_DIR=/dev/shm SEED=1 BENCH_RUNS=3
#   DAG_MB=0.02 (content per package of the install DAG), PUSH_MB=0 (the pushed packages hold only their metadata,
#   a pkg-config file and a script)
#   KEEP=1 keeps the generated mirrors (bench/out/scale-base-N*-seed*, generating 200,000 specs takes ~5 min on two
#   idle cores) and the generated install trees for the next run with the same sizes; without it they are removed.
#   ROWS="small large install push sign" (a subset)
#
# Targets (issue 21, 2-core machine): at 20,000 specs full index < 2.7 s and incremental < 0.3 s; at 200,000 list < 1 s,
# full index < 30 s, incremental < 2 s, peak RSS < 1 GB each; signing < 3 ms per entry (RSA 4096). Install and push
# have no numeric target: they are reported per package with peak memory. Load matters on a shared machine: the
# header of bench/results-scale.md (written by `ONLY=scale RESULTS=bench/results-scale.md bench/all.sh`) records it.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n_small=${N_SMALL:-20000}
n_large=${N_LARGE:-200000}
dag=${DAG:-500}
push_count=${PUSH:-10000}
sign_count=${SIGN:-5000}
sign_disk_count=${SIGN_DISK:-1000}
sign_dir=${SIGN_DIR:-/dev/shm} # tmpfs: see the sign rows
seed=${SEED:-1}
rows=${ROWS:-small large install push sign}
add=10
export DEPOT_HOME=$BENCH_OUT/scale-home
bench_generator_build
bench_depot_build
gen() { dotnet "$BENCH_GEN" "$@"; }
want() { case " $rows " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# A generated mirror with its index, reused while its .done marker is there (KEEP=1).
base_mirror() { # N -> path
    local base=$BENCH_OUT/scale-base-N$1-seed$seed
    if [ ! -f "$base.done" ]; then
        echo "== scale: generating $1 specs (once; KEEP=1 keeps them)" >&2
        rm -rf "$base"
        gen generate-v3 "$base" "$1" --seed "$seed" > /dev/null
        "$DEPOT" index "$base" > /dev/null
        touch "$base.done"
    fi
    echo "$base"
}
work=$BENCH_OUT/scale-work
fresh_work() { rm -rf "$work"; cp -al "$base" "$work"; } # Depot and the generator replace files, never edit in place
add_specs() { fresh_work; gen generate-v3 "$work" "$add" --seed $((seed + 1000)) --start "$n" > /dev/null; }
check_incremental() { # KEY: every incremental run read exactly the added spec files
    local read_count
    read_count=$(sed -n 's/.*: \([0-9][0-9]*\) read, .*/\1/p' "$BENCH_DATA/$1.log" | sort -u | tr '\n' ' ')
    [ "$read_count" = "$add " ] || { echo "incremental index read '$read_count' spec files, expected $add" >&2; exit 1; }
}
mib() { bench_calc "$1 / 1024" 0; }
# Verdict on time and peak RSS together: "met", or what was missed.
verdict_time_rss() { # KEY LIMIT_S LIMIT_MIB
    local t r vt vr
    t=$(bench_stat "$1" median); r=$(bench_stat "$1" rss)
    vt=$(bench_verdict_below "$t" "$2" s); vr=$(bench_verdict_below "$r" "$3" MiB)
    if [ "$vt" = met ] && [ "$vr" = met ]; then echo met
    elif [ "$vt" = met ]; then echo "time met; RSS $vr"
    elif [ "$vr" = met ]; then echo "time $vt; RSS met"
    else echo "time $vt; RSS $vr"; fi
}
at_size() { [ "$1" = "$2" ] || { echo "n/a (target is for N = $2)"; return 1; }; }

table=$(mktemp)
trap 'rm -f "$table"' EXIT
row() { bench_row "$@" >> "$table"; }

if want small; then
    n=$n_small; base=$(base_mirror "$n")
    fresh_work
    echo "== scale: $n specs, depot index --full" >&2
    bench_measure sc-small-full -- "$DEPOT" index --full "$work"
    echo "== scale: $n specs, depot index after +$add" >&2
    BENCH_BEFORE=add_specs bench_measure sc-small-incr -- "$DEPOT" index "$work"
    check_incremental sc-small-incr
    v=$(at_size "$n" 20000 && bench_verdict_below "$(bench_stat sc-small-full median)" 2.7 s) || true
    row "depot index --full, $n specs" sc-small-full "—" "< 2.7 s at 20,000" "$v"
    v=$(at_size "$n" 20000 && bench_verdict_below "$(bench_stat sc-small-incr median)" 0.3 s) || true
    row "depot index, $n specs + $add" sc-small-incr "—" "< 0.3 s at 20,000" "$v"
    rm -rf "$work"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$base" "$base.done"
fi

if want large; then
    n=$n_large; base=$(base_mirror "$n")
    fresh_work
    # Untimed: the first list of a mirror at a new path parses the whole index and keeps a summary of it in
    # DEPOT_HOME (as `depot index` does); the timed runs are the ones a user sees every day after that.
    "$DEPOT" list "$work" > /dev/null
    echo "== scale: $n specs, depot list" >&2
    bench_measure sc-large-list -- "$DEPOT" list "$work"
    listed=$(grep -cv -e '^--' -e '^$' "$BENCH_DATA/sc-large-list.log" || true)
    [ "$listed" = "$((n * BENCH_RUNS))" ] || [ -n "${BENCH_RUNS_OVERRIDE:-}" ] \
        || { echo "depot list showed $listed lines over $BENCH_RUNS runs, expected $n each" >&2; exit 1; }
    echo "== scale: $n specs, depot index --full" >&2
    bench_measure sc-large-full -- "$DEPOT" index --full "$work"
    echo "== scale: $n specs, depot index after +$add" >&2
    BENCH_BEFORE=add_specs bench_measure sc-large-incr -- "$DEPOT" index "$work"
    check_incremental sc-large-incr
    index_mb=$(bench_calc "$(find "$work/blobs" -name '*' -type f -size +10M -printf '%s\n' | sort -n | tail -1) / 1e6" 0)
    for k in list:1 full:30 incr:2; do
        v=$(at_size "$n" 200000 && verdict_time_rss "sc-large-${k%%:*}" "${k#*:}" 1024) || true
        eval "v_${k%%:*}=\$v"
    done
    row "depot list, $n specs" sc-large-list "—" "< 1 s, RSS < 1 GB at 200,000" "$v_list"
    row "depot index --full, $n specs" sc-large-full "—" "< 30 s, RSS < 1 GB at 200,000" "$v_full"
    row "depot index, $n specs + $add ($index_mb MB index)" sc-large-incr "—" "< 2 s, RSS < 1 GB at 200,000" \
        "$v_incr"
    rm -rf "$work"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$base" "$base.done"
fi

# Install trees from make-install-tree.py (a Spack 1.x tree and database; packages depend on 0-3 earlier ones).
make_tree() { # DIR PACKAGES MB
    if [ ! -f "$1.done" ]; then
        echo "== scale: generating an install tree of $2 packages ($3 MB each)" >&2
        rm -rf "$1"
        python3 "$bench_here/make-install-tree.py" "$1" "$2" "$3" > /dev/null
        touch "$1.done"
    fi
}
have_key() { "$DEPOT" keys list 2> /dev/null | grep -q "Scale Bench"; }

if want install; then
    tree=$BENCH_OUT/scale-dag-tree-$dag
    mirror=$BENCH_OUT/scale-dag-mirror
    target=$BENCH_OUT/scale-dag-root
    make_tree "$tree" "$dag" "${DAG_MB:-0.02}"
    have_key || "$DEPOT" keys create "Scale Bench" scale@example.invalid --algorithm rsa4096 > /dev/null
    rm -rf "$mirror"
    echo "== scale: pushing the $dag-package DAG signed (setup)" >&2
    "$DEPOT" push "$mirror" --all --install-tree "$tree" -j 2 > "$BENCH_DATA/sc-install-push.log"
    specs=$(bench_tree_specs "$tree")
    empty_target() { rm -rf "$target"; mkdir -p "$target"; sync; }
    echo "== scale: depot install of $dag packages" >&2
    # shellcheck disable=SC2086 # one argument per spec
    BENCH_BEFORE=empty_target bench_measure sc-install -- "$DEPOT" install $specs --from "$mirror" \
        --install-tree "$target" -j 2
    got=$(find "$target/linux-x86_64" -mindepth 1 -maxdepth 1 -type d | wc -l)
    [ "$got" = "$dag" ] || { echo "install: $got of $dag prefixes" >&2; exit 1; }
    content_mb=$(bench_calc "$(du -sb --apparent-size "$tree/linux-x86_64" | cut -f1) / 1e6" 0)
    per=$(bench_calc "$(bench_stat sc-install median) * 1000 / $dag" 1)
    row "depot install -j 2, $dag-package DAG ($content_mb MB), signed mirror → empty Spack tree" sc-install \
        "$per ms per package" "measured (no numeric target)" "—"
    rm -rf "$target" "$mirror"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$tree" "$tree.done"
fi

if want push; then
    tree=$BENCH_OUT/scale-push-tree-$push_count
    mirror=$BENCH_OUT/scale-push-mirror
    make_tree "$tree" "$push_count" "${PUSH_MB:-0}"
    clear_mirror() { rm -rf "$mirror"; sync; }
    echo "== scale: depot push of $push_count small packages" >&2
    BENCH_BEFORE=clear_mirror bench_measure sc-push -- "$DEPOT" push "$mirror" --all --unsigned -j 2 \
        --install-tree "$tree"
    pushed=$(find "$mirror/v3/manifests/spec" -name '*.spec.manifest.json' | wc -l)
    [ "$pushed" = "$push_count" ] || { echo "push: $pushed of $push_count entries" >&2; exit 1; }
    per=$(bench_calc "$(bench_stat sc-push median) * 1000 / $push_count" 2)
    row "depot push -j 2 --unsigned, $push_count small packages (index updated)" sc-push "$per ms per package" \
        "measured (no numeric target)" "—"
    rm -rf "$mirror"
    [ "${KEEP:-0}" = 1 ] || rm -rf "$tree" "$tree.done"
fi

if want sign; then
    have_key || "$DEPOT" keys create "Scale Bench" scale@example.invalid --algorithm rsa4096 > /dev/null
    sign_base() { # N -> an unsigned generated mirror of N entries (kept with KEEP=1)
        local base=$BENCH_OUT/scale-sign-base-$1
        if [ ! -f "$base.done" ]; then
            rm -rf "$base"
            gen generate-v3 "$base" "$1" --seed "$seed" > /dev/null || exit 1 # (a $(...) does not inherit set -e)
            touch "$base.done"
        fi
        echo "$base"
    }
    # The timed mirror is on tmpfs: this machine's root file system is ext4 without a journal, where creating a file
    # scans past every inode freed in the last 1-6 minutes (ext4's recently_deleted check, made only without a
    # journal), so each run paid for the files the previous one deleted -- 0.3-0.6 s of kernel time here, growing
    # from run to run. The second row signs on that file system anyway, for the record.
    sign_row() { # KEY N DIR LABEL TARGET?
        local base swork per target verdict
        base=$(sign_base "$2") || exit 1
        swork=$3/depot-scale-sign-work
        unsigned_copy() { rm -rf "$swork"; cp -a "$base" "$swork"; }
        echo "== scale: depot sign of $2 entries (RSA 4096) in $3" >&2
        BENCH_BEFORE=unsigned_copy bench_measure "$1" -- "$DEPOT" sign "$swork"
        grep -q "signed $2 " "$BENCH_DATA/$1.log" \
            || { tail -3 "$BENCH_DATA/$1.log" >&2; echo "sign did not sign $2 entries" >&2; exit 1; }
        rm -rf "$swork"
        [ "${KEEP:-0}" = 1 ] || rm -rf "$base" "$base.done"
        per=$(bench_calc "$(bench_stat "$1" median) * 1000 / $2" 2)
        target="—" verdict="—"
        [ "${5:-}" = target ] && target="< 3 ms per entry" verdict=$(bench_verdict_below "$per" 3 ms)
        row "$4" "$1" "$per ms per entry; $(bench_calc "$per / $floor" 2)x the floor" "$target" "$verdict"
    }
    # The floor: OpenSSL's own RSA 4096 signing on every core at once (what Depot's signing calls), as the time
    # $sign_count signatures take at the rate `openssl speed` reports.
    echo "== scale: openssl speed rsa4096 on $(nproc) cores (the floor for signing)" >&2
    : > "$BENCH_DATA/sc-sign-openssl.runs"
    for ((i = 1; i <= BENCH_RUNS; i++)); do
        rate=$(openssl speed -seconds 3 -multi "$(nproc)" rsa4096 2> /dev/null | awk '/^rsa 4096 bits/ { print $(NF-1) }')
        [ -n "$rate" ] || { echo "openssl speed gave no rsa4096 rate" >&2; exit 1; }
        bench_record sc-sign-openssl "$(bench_calc "$sign_count / $rate" 3)"
    done
    floor=$(bench_calc "$(bench_stat sc-sign-openssl median) * 1000 / $sign_count" 2)
    row "openssl speed rsa4096 on $(nproc) cores: $sign_count signatures (the floor)" sc-sign-openssl \
        "baseline: $floor ms per signature" "—" "—"
    sign_row sc-sign "$sign_count" "$sign_dir" "depot sign, $sign_count entries (RSA 4096), mirror on tmpfs" target
    sign_row sc-sign-disk "$sign_disk_count" "$BENCH_OUT" \
        "depot sign, $sign_disk_count entries (RSA 4096), mirror on this machine's ext4 (no journal)"
fi

bench_table_start "scale: index, list, install, push and sign at size (issue 21)" \
    "Synthetic v3 mirrors (seed $seed) with their index; incremental runs follow adding $add specs and read $add spec \
files. Wall time per command, process start included (whole CLI runs); peak RSS of the largest process."
cat "$table"
[ "${KEEP:-0}" = 1 ] || rm -rf "$DEPOT_HOME"
