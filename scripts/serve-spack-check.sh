#!/usr/bin/env bash
# serve-spack-check.sh -- by hand only (tests never call it): real Spack 1.2 (layout v3) and Spack 0.21 (layout v2)
# read build caches through `depot serve`.
#
# Starts `./depot serve` (zero-config: public, read-only) on a free port over the signed v3 and v2 fixture caches,
# then, for each Spack, in a fresh workdir and a fresh Spack GPG home:
#   paths      the key and index paths Spack asks for are served (v3/manifests/key/..., build_cache/_pgp/...)
#   keys -it   `spack buildcache keys --install --trust` finds the cache's public key through the server
#   list       `spack buildcache list` shows greet from the served index
#   install    `spack install --cache-only /<greet hash>`, signatures checked with the key obtained by keys -it
#   run        the installed greet and greet-info run from the new prefix
# stops the server and prints PASS/FAIL per step; exit 0 when all pass.
#
# Needs: SPACK_SNAPSHOTS (bare repos, see $TOOLS/spack12.sh), patchelf for Spack 0.21, python3, curl.
# Knobs: DEPOT (default ./depot, run from the project root), DEPOT_SPACK_TOOLS (default /work/shared/tools: spack12.sh
# and spack021.sh), DEPOT_SPACK_FIXTURES (default /work/shared/fixtures: the full caches -- tests/data lacks the
# gcc-runtime tarball -- and the package repos Spack needs), ONLY=12|021, KEEP=1 keeps the logs and workdirs.
#
# Private caches: no case here. Neither Spack sends credentials to a plain http(s) mirror (checked by hand
# against a Basic-auth-only front, 2026-12): Spack fetches indexes, keys and manifests with urllib, whose opener has
# no auth handler; a http://user:token@host/ URL is not split by urllib (the whole user:token@host is taken for the
# host name); with config:url_fetch_method:curl only the existence checks (curl -r 0-0) carry user:token@ or a
# netrc, the reads still go through urllib and get 401; mirror access_pair / access_token_variable reach s3:// and
# oci:// only; Spack 0.21 even refuses curl arguments (`curl --netrc-file F` is not one of urllib, curl).
# So depot serve takes read URLs that carry their token, /_t/TOKEN/CACHE/: Spack 1.2 installed greet from a private
# cache that way with spack12-consume.sh (2026-12-06; the token never in the server's log).
set -uo pipefail
DEPOT=${DEPOT:-./depot}
TOOLS=${DEPOT_SPACK_TOOLS:-/work/shared/tools}
FIX=${DEPOT_SPACK_FIXTURES:-/work/shared/fixtures}
F12=$FIX/spack-1.2
F21=$FIX/spack-0.21
GREET12=ilccysmlleizqaxfvvqsb6selpnnszug
GREET21=tnhxyeebiakcjb3lvymiwx63ueuccyl6
FPR=6640D90F8A1E84DD1142614C06BD5C3F48A372CC

[ -n "${SPACK_SNAPSHOTS:-}" ] || { echo "set SPACK_SNAPSHOTS (see $TOOLS/spack12.sh)" >&2; exit 2; }
[ -x "$TOOLS/spack12.sh" ] && [ -x "$TOOLS/spack021.sh" ] || { echo "no spack12.sh/spack021.sh in $TOOLS" >&2; exit 2; }
[ -d "$F12/mirror-signed/v3" ] && [ -d "$F21/mirror-signed/build_cache" ] || { echo "no fixtures in $FIX" >&2; exit 2; }
export SPACK12_REPOS=$F12/repo/spack_repo/depotfixtures SPACK021_REPOS=$F21/repo/depotfixtures

# Short paths: Spack relocates the fixtures' binaries only into install roots no longer than the original ones.
T=$(mktemp -d /tmp/ssk.XXXXXX)
fails=0
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2> /dev/null && wait "$SERVER" 2> /dev/null
    for g in "$T"/*/gpg; do gpgconf --homedir "$g" --kill all > /dev/null 2>&1; done
    if [ "${KEEP:-0}" = 1 ] || [ "$fails" -ne 0 ]; then echo "logs kept in $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
step() { # <label> <log> <command...>: PASS/FAIL by exit code, output to the log
    local label=$1 log=$2; shift 2
    if "$@" >> "$log" 2>&1; then pass "$label"; else fail "$label (see $log)"; return 1; fi
}

# Served names are the last path segment: link the two caches (both folders are named mirror-signed) under
# names that say which layout they hold.
ln -s "$F12/mirror-signed" "$T/spack12"
ln -s "$F21/mirror-signed" "$T/spack021"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
"$DEPOT" serve "$T/spack12" "$T/spack021" --listen "127.0.0.1:$PORT" > "$T/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do
    curl -sf "$BASE/healthz" > /dev/null 2>&1 && break
    kill -0 "$SERVER" 2> /dev/null || break
    sleep 0.5
done
if curl -sf "$BASE/healthz" > /dev/null 2>&1; then pass "depot serve on $BASE"; else
    fail "depot serve did not start: $(tail -3 "$T/serve.log")"; exit 1
fi

served() { # <url>...: every URL answers 200
    local u; for u in "$@"; do curl -sf -o /dev/null "$u" || { echo "not served: $u"; return 1; }; done
}

consume() { # <12|021> <cache url> <greet hash> <key paths...>
    local v=$1 url=$2 hash=$3; shift 3
    local wd=$T/s$v log=$T/s$v.log sp=$TOOLS/spack$v.sh
    local label="spack $([ "$v" = 12 ] && echo 1.2 || echo 0.21)"
    mkdir -p "$wd"
    step "$label: key paths served ($*)" "$log" served "${@/#/$url}" || return
    local signed=(); [ "$v" = 12 ] && signed=(--signed)
    step "$label: mirror add $url" "$log" "$sp" "$wd" -- mirror add "${signed[@]}" depot "$url" || return
    step "$label: buildcache keys -it" "$log" "$sp" "$wd" -- buildcache keys --install --trust || return
    if "$sp" "$wd" -- gpg list 2>&1 | tr -d ' ' | grep -q "$FPR"; then pass "$label: key $FPR trusted"
    else fail "$label: key $FPR not in the Spack GPG home after keys -it"; return; fi
    if "$sp" "$wd" -- buildcache list -a -L > "$T/list$v.out" 2>> "$log" && grep -q "^$hash greet@" "$T/list$v.out"
    then pass "$label: buildcache list shows greet /$hash"; else fail "$label: buildcache list (see $T/list$v.out)"; fi
    step "$label: install --cache-only /$hash" "$log" "$sp" "$wd" -- install --cache-only "/$hash" || return
    local prefix info; prefix=$("$sp" "$wd" -- location -i "/$hash" 2>> "$log")
    # (greet-info's output is kept first: grep -q would close the pipe early and pipefail count that as a failure)
    if [ -n "$prefix" ] && "$prefix/bin/greet" >> "$log" 2>&1 && info=$("$prefix/bin/greet-info" 2>&1) \
        && echo "$info" | tee -a "$log" | grep -q "$wd"
    then pass "$label: greet and greet-info run from $prefix"; else fail "$label: run greet (see $log)"; fi
}

if [ "${ONLY:-12}" = 12 ] || [ -z "${ONLY:-}" ]; then
    consume 12 "$BASE/spack12/" "$GREET12" v3/layout.json v3/manifests/key/keys.manifest.json \
        "v3/manifests/key/$FPR.key.manifest.json" v3/manifests/index/index.manifest.json
fi
if [ "${ONLY:-021}" = 021 ] || [ -z "${ONLY:-}" ]; then
    consume 021 "$BASE/spack021/" "$GREET21" build_cache/_pgp/index.json "build_cache/_pgp/$FPR.pub" \
        build_cache/index.json build_cache/index.json.hash
fi

kill "$SERVER" 2> /dev/null && wait "$SERVER" 2> /dev/null
SERVER=
pass "depot serve stopped"
echo "$fails step(s) failed"
[ "$fails" -eq 0 ]
