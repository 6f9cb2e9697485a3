#!/usr/bin/env bash
# bench/fuzz.sh -- the long run of the parsers' fuzz tests (tests/Depot.Tests/**/*FuzzTests.cs, FuzzLoop.cs).
#
#   FUZZ_MINUTES=10 bench/fuzz.sh           every parser fuzzed for 10 minutes (wall clock) each
#   FUZZ_SECONDS=30                         instead of FUZZ_MINUTES (a quick check that the harness runs)
#   FUZZ_SEED=12345                         the generator's seed (default: a new one, printed, to repeat a run)
#   FUZZ_CLASSES="Depot.Tests.Specs.SpecFileFuzzTests ..."   a subset (default: every fuzz test class)
#   FUZZ_THREADS=4                          properties run at once (default: all of them, 16)
#   FUZZ_NO_BUILD=1                         use the test binaries as built (default: build Release first)
#
# Each fuzz property (the tests with trait Category=Fuzz, one per parser) runs in its own test process, so properties
# of one class run side by side (xunit runs a class's tests one after another) and a run of M minutes gives each parser
# M minutes of wall clock. On a 2-core machine 16 at once share the cores: the iteration counts say how much each did.
# The test binaries are copied to bench/out/fuzz-bin-PID first, so rebuilding the tree meanwhile does not disturb the run.
# Prints one row per parser (iterations, seconds, seed, failures) and appends one line for the run to
# bench/results-fuzz.md, whose "Cumulative" table (time and iterations per parser over every recorded run) is then
# recomputed. Inputs that broke the invariant are saved under bench/out/fuzz-crashes/<parser>/: each is a bug; add it
# to tests/data/fuzz/<parser>/ once fixed. Exits non-zero when any input failed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
seconds=${FUZZ_SECONDS:-$(( ${FUZZ_MINUTES:-5} * 60 ))}
seed=${FUZZ_SEED:-$(( $(date +%s) % 1000000007 ))}
classes=${FUZZ_CLASSES:-"Depot.Tests.Specs.SpecFileFuzzTests Depot.Tests.Layout.BuildCacheFuzzTests
    Depot.Tests.Formats.FormatsFuzzTests Depot.Tests.Signing.SigningFuzzTests Depot.Tests.Archive.SafeExtractorFuzzTests
    Depot.Tests.Relocation.ElfFuzzTests Depot.Tests.Storage.OciFuzzTests Depot.Tests.Configuration.ConfigYamlFuzzTests"}
threads=${FUZZ_THREADS:-0}   # 0: every property at once
results=${RESULTS:-$here/results-fuzz.md}
out=$here/out
mkdir -p "$out"

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "== fuzz: building the tests (Release)" >&2
    dotnet build -c Release "$root/tests/Depot.Tests" --nologo -v q > "$out/fuzz-build.log" 2>&1 \
        || { cat "$out/fuzz-build.log" >&2; exit 1; }
fi
bin=$out/fuzz-bin-$$   # one copy per run: runs may overlap
cp -r "$root/tests/Depot.Tests/bin/Release/net10.0" "$bin"

log=$(mktemp)
trap 'rm -rf "$log" "$bin"' EXIT
args=()
for c in $classes; do args+=(-class "$c"); done
mapfile -t properties < <("$bin/Depot.Tests" "${args[@]}" -trait "Category=Fuzz" -list tests 2>/dev/null \
    | grep '^Depot\.Tests\.')
[ "${#properties[@]}" -gt 0 ] || { echo "fuzz: no fuzz property found in $classes" >&2; exit 1; }
[ "$threads" -gt 0 ] || threads=${#properties[@]}
commit=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD -- src tests 2>/dev/null || commit="$commit+"
started=$(date -u '+%Y-%m-%d %H:%M')
echo "== fuzz: $seconds s per parser, seed $seed, ${#properties[@]} properties, $threads at once, commit $commit" >&2
run_log=$out/fuzz-run-$$.log
: > "$run_log"
status=0
running=0
for property in "${properties[@]}"; do
    if [ "$running" -ge "$threads" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
    DEPOT_FUZZ_SECONDS=$seconds DEPOT_FUZZ_SEED=$seed DEPOT_FUZZ_LOG=$log \
        DEPOT_FUZZ_CRASHES=$out/fuzz-crashes \
        "$bin/Depot.Tests" -method "$property" >> "$run_log" 2>&1 &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done

printf '| parser | iterations | seconds | seed | failures |\n|---|---:|---:|---:|---:|\n'
sort "$log" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
failures=$(awk -F'\t' '{ s += $5 } END { print s + 0 }' "$log")
[ "$status" -ne 0 ] && echo "fuzz: the test run exited $status ($failures failing inputs; see bench/out/fuzz-run-$$.log)" >&2

# One line per run: date, commit, seed, seconds asked per parser, load, then parser=seconds/iterations/failures for each parser.
[ -f "$results" ] || cat > "$results" <<'EOF'
# Fuzz runs (bench/fuzz.sh)

Each run line: when it started (UTC), the commit, the seed, the seconds asked per parser, the load average at the end,
and per parser `seconds s / iterations / failures`. Seconds are wall-clock time on a machine shared with other work
(2 cores, `nice`): iterations say how much was done. The short runs in `./test.sh` (fixed seed, ≤ 2 s each) are not
counted here.

## Cumulative

## Runs

| started (UTC) | commit | seed | s asked | load | per parser: seconds / iterations / failing inputs |
|---|---|---:|---:|---:|---|
EOF
line="| $started | $commit | $seed | $seconds | $(cut -d' ' -f1 /proc/loadavg) | $(sort "$log" \
    | awk -F'\t' '{ printf "%s%s %s s / %s / %s", sep, $1, $3, $2, $5; sep = "; " }') |"
printf '%s\n' "$line" >> "$results"
python3 - "$results" <<'EOF'
import re, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
head, rest = text.split("## Cumulative", 1)
_, runs = rest.split("## Runs", 1)
totals = {}
for row in runs.splitlines():
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    if len(cells) < 6 or not re.match(r"\d{4}-", cells[0]):
        continue
    for part in cells[5].split(";"):
        m = re.match(r"\s*(\S+) (\d+) s / (\d+) / (\d+)", part)
        if m:
            t = totals.setdefault(m[1], [0, 0, 0, 0])
            t[0] += int(m[2]); t[1] += int(m[3]); t[2] += int(m[4]); t[3] += 1
table = "| parser | hours | iterations | failing inputs | runs |\n|---|---:|---:|---:|---:|\n" + "".join(
    f"| {p} | {t[0] / 3600:.2f} | {t[1]:,} | {t[2]} | {t[3]} |\n" for p, t in sorted(totals.items()))
open(path, "w", encoding="utf-8").write(head + "## Cumulative\n\n" + table + "\n## Runs\n\n" + runs.lstrip("\n"))
EOF
[ "$failures" -eq 0 ] && [ "$status" -eq 0 ]
