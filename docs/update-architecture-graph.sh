#!/usr/bin/env bash
# Regenerates the namespace graph in docs/ARCHITECTURE.md from the compiled engine (the test that checks it writes it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build tests/Depot.Tests/Depot.Tests.csproj -c Release --nologo -v quiet
DEPOT_UPDATE_ARCHITECTURE_GRAPH=1 tests/Depot.Tests/bin/Release/net10.0/Depot.Tests \
    -method 'Depot.Tests.Architecture.ArchitectureTests.ArchitectureDocumentShowsTheGraph' >/dev/null
git --no-pager diff --stat -- docs/ARCHITECTURE.md
