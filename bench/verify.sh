#!/usr/bin/env bash
# bench/verify.sh -- `depot verify` of a signed synthetic v3 mirror (default 1,000 specs, RSA 4096 as
# `spack gpg create` makes): signature, spec blob checksum and streamed tarball sha256 of every entry.
#
#   N=1000 ALGORITHM=rsa4096 bench/verify.sh     (ALGORITHM: rsa4096 or ed25519; SEED=1)
#   BENCH_RUNS=5 runs of verify; signing is timed once (it is the setup, shown for information).
#
# Target (issue 5): verify under 2 ms per entry on this machine, for 1,000 entries (at another N: n/a).
# No baseline: Spack has no command that verifies a whole mirror.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n=${N:-1000}; seed=${SEED:-1}; alg=${ALGORITHM:-rsa4096}
m=$BENCH_OUT/verify-mirror
export DEPOT_HOME=$BENCH_OUT/verify-home
bench_generator_build
bench_depot_build
rm -rf "$m" "$DEPOT_HOME"
echo "== verify: generating $n specs, signing them ($alg)" >&2
dotnet "$BENCH_GEN" generate-v3 "$m" "$n" --seed "$seed" > /dev/null
"$DEPOT" keys create "Bench Signer" bench@example.invalid --algorithm "$alg" > /dev/null
BENCH_RUNS_OVERRIDE=1 bench_measure verify-sign -- "$DEPOT" sign "$m"
echo "== verify: depot verify" >&2
bench_measure verify-depot -- "$DEPOT" verify "$m"
grep -q "$n entries checked, $n ok, 0 failed ($n signatures good" "$BENCH_DATA/verify-depot.log" \
    || { tail -5 "$BENCH_DATA/verify-depot.log" >&2; echo "verify did not pass" >&2; exit 1; }
per=$(bench_calc "$(bench_stat verify-depot median) * 1000 / $n" 3)
bench_table_start "verify: $n signed specs ($alg)" \
    "Median per entry: $per ms. Signing (one run) is the setup of the mirror, shown for information."
bench_row "depot sign (setup)" verify-sign "—" "—" "—"
if [ "$n" = 1000 ]; then v=$(bench_verdict_below "$per" 2 ms); else v="n/a (target is for N = 1,000)"; fi
bench_row "depot verify" verify-depot "$per ms per entry" "< 2 ms per entry at 1,000" "$v"
[ "${KEEP:-0}" = 1 ] || rm -rf "$m" "$DEPOT_HOME"
