#!/usr/bin/env bash
# docs/update-screenshots.sh -- retakes the web catalog's screenshots in docs/ (catalog-cache.png, catalog-search.png,
# catalog-spec.png; 1280x800, light) that the README shows. They are taken by the browser test that checks them
# (tests/Depot.Tests/Catalog/Browser/CatalogScreenshotTests.cs), in Debian's chromium, of `depot serve` over the
# fixture caches; DEPOT_SCREENSHOTS tells it where to write.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x /usr/bin/chromium ] || { echo "update-screenshots: /usr/bin/chromium missing (./test.sh installs it)" >&2; exit 1; }
dotnet build tests/Depot.Tests -c Release --nologo -v quiet
DEPOT_SCREENSHOTS=$PWD/docs tests/Depot.Tests/bin/Release/net10.0/Depot.Tests \
    -class Depot.Tests.Catalog.Browser.CatalogScreenshotTests
ls -l docs/catalog-cache.png docs/catalog-search.png docs/catalog-spec.png
