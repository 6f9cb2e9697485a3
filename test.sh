#!/usr/bin/env bash
# Installs what the tests need, runs every test, and ends with a plain line "N passed, N failed".
# Test services (s3rver, Azurite, the docker-registry OCI registry) are installed here; the tests start them on
# 127.0.0.1 and stop them afterwards.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v dotnet >/dev/null 2>&1; then
    echo "test.sh: the .NET SDK (dotnet) is required" >&2
    exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Debian packages the tests use: gpg is the interoperability oracle for signatures; python3 takes fcntl locks.
missing=()
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v gpgconf >/dev/null 2>&1 || missing+=(gpgconf)
command -v python3 >/dev/null 2>&1 || missing+=(python3)   # holds Spack's fcntl database lock in a test
command -v readelf >/dev/null 2>&1 || missing+=(binutils)   # reads relocated RPATHs back in the ELF tests
command -v perl >/dev/null 2>&1 || missing+=(perl)   # one interpreter the sbang tests start
# OCI registry (distribution 2.8) for oci:// tests
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
# Shells whose completion scripts (depot completion zsh|fish) the tests check and run
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
# Headless browser for the catalog's page tests (Playwright drives /usr/bin/chromium; no browser is downloaded)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || { echo "test.sh: could not install ${missing[*]}"; echo "0 passed, 1 failed"; exit 1; }
fi

# Unix accounts for the shared-mirror tests (tests/Depot.Tests/Storage/SharedMirrorTests.cs), which run depot as
# depot-a and depot-b (group depot-share) and depot-c (outside it) on one group-writable mirror. The tests make them
# too when missing; they need root either way (as CI runs), and fail otherwise.
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
getent group depot-share >/dev/null 2>&1 || $sudo groupadd depot-share
for account in depot-a depot-b depot-c; do
    groups=(-G depot-share)
    [ "$account" = depot-c ] && groups=()
    getent passwd "$account" >/dev/null 2>&1 \
        || $sudo useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "${groups[@]}" "$account" \
        || echo "test.sh: could not create the account $account (the shared-mirror tests will fail)"
done

# Store test servers (npm): s3rver for S3, Azurite for Azure Blob. Installed once into .test-services/; the tests start
# each on a free 127.0.0.1 port and stop it when their class is done.
if ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: installing nodejs and npm"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
        || { echo "test.sh: could not install nodejs/npm"; echo "0 passed, 1 failed"; exit 1; }
fi
mkdir -p .test-services
if ! cmp -s tests/services/package.json .test-services/package.json \
        || [ ! -x .test-services/node_modules/.bin/s3rver ] \
        || [ ! -x .test-services/node_modules/.bin/azurite-blob ]; then
    echo "test.sh: installing test services (s3rver, azurite) into .test-services/"
    cp tests/services/package.json .test-services/package.json
    (cd .test-services && npm install --no-audit --no-fund --loglevel=error >/dev/null) \
        || { echo "test.sh: npm install of the test services failed"; echo "0 passed, 1 failed"; exit 1; }
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Depot.slnx -c Release --nologo -v quiet 2>&1 | tail -n 20
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
    echo "test.sh: build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

# Layout as .editorconfig says (dotnet format's whitespace, style and analyzer passes). A difference fails the run, but
# the tests still run so one report shows everything.
format_ok=1
if ! dotnet format Depot.slnx --verify-no-changes --no-restore -v quiet 2>&1 | tail -n 40; then
    format_ok=0
fi

dotnet test --solution Depot.slnx -c Release --no-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The shipped artefacts, built and used as a user would (packaging/smoke.sh): the self-contained single-file binary for
# this machine and the dotnet tool, each running --version, list, and a signed push + install round trip. Each check
# is counted as one test; a smoke run that fails without naming a check counts as one failure.
smoke_log=$(mktemp)
trap 'rm -f "$log" "$smoke_log"' EXIT
packaging/smoke.sh 2>&1 | tee "$smoke_log"
smoke_status=${PIPESTATUS[0]}
smoke_passed=$(grep -c '^smoke: ok ' "$smoke_log")
smoke_failed=$(grep -c '^smoke: FAILED ' "$smoke_log")
if [ "$smoke_status" -ne 0 ] && [ "$smoke_failed" -eq 0 ]; then
    smoke_failed=1
fi

# The runner's own summary ("total: N / failed: N / succeeded: N") is not a line CI reads: print the plain one.
passed=$(awk '/^[[:space:]]*succeeded:/ {s += $2} END {print s + 0}' "$log")
failed=$(awk '/^[[:space:]]*failed:/ {s += $2} END {print s + 0}' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1   # the run itself failed (crash, no tests found): never report it as green
fi
passed=$((passed + smoke_passed))
failed=$((failed + smoke_failed))
if [ "$format_ok" -eq 0 ]; then
    echo "test.sh: 'dotnet format Depot.slnx --verify-no-changes' found files not formatted as .editorconfig says" \
        "(listed above); run 'dotnet format Depot.slnx' and commit the result"
    failed=$((failed + 1))   # counted as one failed check
fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
