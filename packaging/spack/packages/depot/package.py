# Spack package recipe for Depot itself, written for this project (Package API v1, so Spack 0.21-0.23 and 1.x
# both read it):
#
#     spack repo add packaging/spack && spack install depot
#
# installs the self-contained single-file `depot` that packaging/build-release.sh builds, for this machine's
# architecture: x86_64 (linux-x64) or aarch64 (linux-arm64). Nothing is compiled and no .NET is needed.
#
# The tarballs come from one of two places:
#   * PUBLISHED below: releases whose sums are pinned here, fetched from $DEPOT_RELEASE_URL (a site's web server or
#     file share holding depot-<version>-<rid>.tar.gz; default: the dist/ folder named next);
#   * the dist/ folder of the Depot checkout holding this recipe: the tarballs packaging/build-release.sh wrote, with
#     the sums it wrote beside them in dist/SHA256SUMS (a local build: the sums guard against a damaged or
#     half-written file; whoever can change those tarballs can change their sums too).
# Spack's builtin dotnet-core-sdk package stops at .NET 8 and Depot needs .NET 10, so there is no source build here.
import os
import platform
import re

from spack.package import *

#: version -> {runtime identifier: sha256} of published release tarballs. To publish a release, copy the lines of
#: its SHA256SUMS here, e.g. "0.2.0": {"linux-x64": "<sha256>", "linux-arm64": "<sha256>"}.
PUBLISHED = {}

#: The .NET runtime identifier of the binary this machine runs (None: no release binary for it).
_RID = None
if platform.system() == "Linux":
    _RID = {"x86_64": "linux-x64", "aarch64": "linux-arm64", "arm64": "linux-arm64"}.get(platform.machine())

#: packaging/spack/packages/depot/package.py -> the checkout, and its dist/ folder.
_CHECKOUT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4))
_DIST = os.path.join(_CHECKOUT, "dist")


def _tarball(version):
    return "depot-{0}-{1}.tar.gz".format(version, _RID)


def _built_here():
    """version -> sha256 of each tarball for this machine in the checkout's dist/, as dist/SHA256SUMS records it."""
    sums = os.path.join(_DIST, "SHA256SUMS")
    found = {}
    if _RID is None or not os.path.isfile(sums):
        return found
    line_re = re.compile(r"^([0-9a-f]{64}) [ *]depot-([0-9][A-Za-z0-9.+_-]*?)-" + re.escape(_RID) + r"\.tar\.gz$")
    with open(sums) as lines:
        for line in lines:
            match = line_re.match(line.strip())
            if match and os.path.isfile(os.path.join(_DIST, _tarball(match.group(2)))):
                found[match.group(2)] = match.group(1)
    return found


def _declare_versions():
    base = os.environ.get("DEPOT_RELEASE_URL", "file://" + _DIST).rstrip("/")
    for ver, sums in sorted(PUBLISHED.items()):
        if _RID in sums:
            version(ver, sha256=sums[_RID], url="{0}/{1}".format(base, _tarball(ver)))
    for ver, sha256 in sorted(_built_here().items()):
        if ver not in PUBLISHED:
            version(ver, sha256=sha256, url="file://{0}/{1}".format(_DIST, _tarball(ver)))


class Depot(Package):
    """Depot: a fast, Spack-compatible binary build cache. Pushes from a Spack install tree (signed, in parallel),
    installs on another machine, lists, indexes, signs, verifies and copies Spack build caches (layout v3 of Spack
    1.x and v2 of Spack 0.21-0.23) on directories, S3, Google Cloud Storage, Azure Blob, HTTP(S) and OCI registries.
    """

    _declare_versions()

    # Release binaries exist for x86_64 and aarch64 Linux only.
    for _family in ("ppc64le", "ppc64", "riscv64"):
        conflicts(
            "target={0}:".format(_family),
            msg="Depot ships release binaries for x86_64 and aarch64 Linux only; on {0} build it from a checkout "
            "with the .NET 10 SDK (./depot builds it on first use)".format(_family),
        )
    del _family
    conflicts("platform=darwin", msg="Depot's release binaries are for Linux; on macOS run ./depot from a checkout")

    def install(self, spec, prefix):
        # The stage is the tarball's top folder, depot-<version>-<rid>/: bin/depot, README.md, share/ completions.
        install_tree(".", prefix)

    def test_version(self):
        """depot --version names the installed version"""
        depot = Executable(join_path(self.prefix.bin, "depot"))
        out = depot("--version", output=str.split, error=str.split)
        assert str(self.version) in out
