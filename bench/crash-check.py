#!/usr/bin/env python3
"""crash-check.py -- the install-side invariants of bench/crash.sh, one line per violation on stdout.

  crash-check.py root TARGET SOURCE_TREE [all]     a plain root (depot install --root TARGET)
  crash-check.py spack TARGET SOURCE_TREE [all]    a Spack install tree (depot install --install-tree TARGET)

A prefix is a folder, not hidden and under no hidden folder, whose name ends with a DAG hash of SOURCE_TREE. Visible
means half-installed is a violation: every visible prefix must hold every file and link its source prefix holds
(.spack/ aside: install keeps its own metadata there). For a Spack tree, .spack-db/index.json must load as JSON (if
it exists) and every record must name a prefix that is complete. With `all` (after a rerun): every spec of SOURCE_TREE
is installed, and for a Spack tree recorded too.
"""
import json, os, sys

kind, target, source = sys.argv[1:4]
want_all = len(sys.argv) > 4 and sys.argv[4] == "all"
installs = json.load(open(os.path.join(source, ".spack-db", "index.json")))["database"]["installs"]


def members(prefix):
    found = set()
    for dirpath, dirnames, filenames in os.walk(prefix):
        rel = os.path.relpath(dirpath, prefix)
        if rel == ".spack" or rel.startswith(".spack" + os.sep):
            continue
        for n in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.add(os.path.normpath(os.path.join(rel, n)))
    return found


expected = {h: members(v["path"]) for h, v in installs.items()}
violations = []
visible = {}
for dirpath, dirnames, _ in os.walk(target):
    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for d in list(dirnames):
        h = d.rsplit("-", 1)[-1]
        if h in expected:
            visible[h] = os.path.join(dirpath, d)
            dirnames.remove(d)
for h, path in sorted(visible.items()):
    missing = expected[h] - members(path)
    if missing:
        violations.append(f"half-installed prefix visible: {path} lacks {len(missing)} of {len(expected[h])} files"
                          f" (e.g. {sorted(missing)[0]})")
    elif not os.path.isfile(os.path.join(path, ".spack", "spec.json")):
        violations.append(f"prefix without .spack/spec.json visible: {path}")
if want_all:
    for h in sorted(set(expected) - set(visible)):
        violations.append(f"not installed after the rerun: {installs[h]['spec']['name']} /{h}")

if kind == "spack":
    db = os.path.join(target, ".spack-db", "index.json")
    if os.path.exists(db):
        try:
            records = json.load(open(db))["database"]["installs"]
        except Exception as e:  # noqa: BLE001 -- any failure to load is the violation
            violations.append(f".spack-db/index.json does not load: {e}")
            records = {}
        for h, r in records.items():
            if r.get("installed", True):
                path = r.get("path")
                if not path or not os.path.isdir(path):
                    violations.append(f"database records {h} at {path}, which is not there")
                elif h in expected and expected[h] - members(path):
                    violations.append(f"database records the half-installed prefix {path}")
        if want_all:
            for h in sorted(set(expected) - set(records)):
                violations.append(f"not recorded after the rerun: /{h}")
    elif want_all:
        violations.append("no .spack-db/index.json after the rerun")
for v in violations:
    print(v)
