#!/usr/bin/env python3
"""Independent check of a (synthetic) Spack build cache layout v3, with Python's json as Spack uses it.

usage: bench/verify-v3.py MIRROR [--sample K] [--seed S]

For K spec manifests (all when K is 0; default 20), checks:
  * manifest: version 3, tarball + spec records, blob sizes and sha256 match;
  * spec blob: gzip; decompressed text == json.dumps(doc, separators=(",", ":")) (i.e. exactly what Spack writes);
    _meta.version 5, buildcache_layout_version 2; root hash == hash in the manifest name; every dependency hash
    names a node in the file; node order is root first then depth-first pre-order;
  * every node's DAG hash: base32(sha1(json.dumps(node without hash keys, separators=(",", ":")))).lower();
  * tarball: a tar.gz whose last member is <prefix>/.spack/binary_distribution and whose members all lie under
    the prefix (or are its parent directories), as Spack's extractor requires.
If v3/manifests/index/index.manifest.json exists, also checks the index (e.g. one written by `depot index`): blob
checksum, text == compact json.dumps, every record's DAG hash, in_buildcache exactly for the entries in the mirror,
ref_count = number of indexed dependents, every dependency present.
Exit status 0 when everything matched.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

HASH_KEYS = ("hash", "full_hash", "build_hash")


def dag_hash(node):
    body = {k: v for k, v in node.items() if k not in HASH_KEYS}
    text = json.dumps(body, separators=(",", ":"))  # ensure_ascii=True, insertion order: as Spack
    h = base64.b32encode(hashlib.sha1(text.encode("utf-8")).digest()).decode().lower()
    bs = node.get("build_spec")
    if isinstance(bs, dict) and len(bs.get("hash", "")) == 32:
        h = h[:25] + bs["hash"][25:]
    return h


def blob(mirror, record):
    path = os.path.join(mirror, "blobs", record["checksumAlgorithm"], record["checksum"][:2], record["checksum"])
    with open(path, "rb") as f:
        data = f.read()
    if len(data) != record["contentLength"] or hashlib.sha256(data).hexdigest() != record["checksum"]:
        raise AssertionError(f"{path}: size/sha256 do not match the manifest")
    return data


def preorder(nodes):
    by_hash = {n["hash"]: n for n in nodes}
    out, seen = [], set()

    def visit(n):
        if n["hash"] in seen:
            return
        seen.add(n["hash"])
        out.append(n["hash"])
        for d in n.get("dependencies", []):
            visit(by_hash[d["hash"]])

    visit(nodes[0])
    return out


def check_entry(mirror, manifest_path, counts):
    name = os.path.basename(manifest_path)
    expected_root = name[: -len(".spec.manifest.json")].rsplit("-", 1)[1]
    with open(manifest_path, "rb") as f:
        manifest = json.loads(f.read())
    assert manifest["version"] == 3, "manifest version"
    records = {r["mediaType"]: r for r in manifest["data"]}
    tar_rec = records["application/vnd.spack.install.v2.tar+gzip"]
    spec_rec = records["application/vnd.spack.spec.v5+json"]

    raw = blob(mirror, spec_rec)
    assert raw[:2] == b"\x1f\x8b", "spec blob is not gzip"
    text = gzip.decompress(raw).decode("utf-8")
    doc = json.loads(text)
    assert json.dumps(doc, separators=(",", ":")) == text, "spec blob text differs from Python's compact json.dumps"
    assert doc["spec"]["_meta"]["version"] == 5 and doc["buildcache_layout_version"] == 2
    nodes = doc["spec"]["nodes"]
    assert nodes[0]["hash"] == expected_root, f"root hash {nodes[0]['hash']} != name {expected_root}"
    hashes = {n["hash"] for n in nodes}
    for n in nodes:
        got = dag_hash(n)
        if got != n["hash"]:
            raise AssertionError(f"node {n['name']}: stored hash {n['hash']}, recomputed {got}")
        counts["nodes"] += 1
        for d in n.get("dependencies", []):
            assert d["hash"] in hashes, f"dependency {d['name']}/{d['hash']} of {n['name']} not in nodes"
        names = [d["name"] for d in n.get("dependencies", [])]
        assert names == sorted(names), f"dependencies of {n['name']} not sorted by name"
    assert preorder(nodes) == [n["hash"] for n in nodes], "nodes are not root + depth-first pre-order"
    counts["max_nodes"] = max(counts["max_nodes"], len(nodes))

    tb = blob(mirror, tar_rec)
    with tarfile.open(fileobj=io.BytesIO(tb), mode="r:gz") as t:
        members = t.getmembers()
    assert members[-1].name.endswith("/.spack/binary_distribution"), "binary_distribution is not the last member"
    bd = min((m.name for m in members if m.isfile() and m.name.endswith(".spack/binary_distribution")), key=len)
    prefix = bd.rsplit("/", 2)[0]
    assert prefix.endswith(expected_root), f"tarball prefix {prefix} does not end in the hash"
    for m in members:
        if not (m.name == prefix or m.name.startswith(prefix + "/") or (m.isdir() and prefix.startswith(m.name.rstrip("/") + "/"))):
            raise AssertionError(f"tar member {m.name} outside prefix {prefix}")
    counts["entries"] += 1


def check_index(mirror, entry_hashes):
    path = os.path.join(mirror, "v3", "manifests", "index", "index.manifest.json")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        manifest = json.loads(f.read())
    record = manifest["data"][0]
    assert record["mediaType"] == "application/vnd.spack.db.v8+json", record["mediaType"]
    text = blob(mirror, record).decode("utf-8")
    db = json.loads(text)
    assert json.dumps(db, separators=(",", ":")) == text, "index text differs from Python's compact json.dumps"
    assert db["database"]["version"] == "8"
    installs = db["database"]["installs"]
    refs = {}
    for h, rec in installs.items():
        node = rec["spec"]
        assert node["hash"] == h and dag_hash(node) == h, f"index record {h}: DAG hash does not match"
        for d in {d["hash"] for d in node.get("dependencies", [])}:
            assert d in installs, f"index record {h}: dependency {d} missing"
            refs[d] = refs.get(d, 0) + 1
    for h, rec in installs.items():
        assert rec["ref_count"] == refs.get(h, 0), f"index record {h}: ref_count {rec['ref_count']}, expected {refs.get(h, 0)}"
    cached = {h for h, rec in installs.items() if rec["in_buildcache"]}
    assert cached == entry_hashes, (
        f"in_buildcache: {len(cached - entry_hashes)} without an entry, {len(entry_hashes - cached)} entries missing")
    return len(installs), len(cached)


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    mirror = argv[0]
    sample, seed = 20, 0
    if "--sample" in argv:
        sample = int(argv[argv.index("--sample") + 1])
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    spec_dir = os.path.join(mirror, "v3", "manifests", "spec")
    manifests = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(spec_dir) for f in fs if f.endswith(".spec.manifest.json")
    )
    entry_hashes = {os.path.basename(m)[: -len(".spec.manifest.json")].rsplit("-", 1)[1] for m in manifests}
    if sample and sample < len(manifests):
        manifests = random.Random(seed).sample(manifests, sample)
    counts = {"entries": 0, "nodes": 0, "max_nodes": 0}
    failures = 0
    for m in manifests:
        try:
            check_entry(mirror, m, counts)
        except (AssertionError, KeyError, OSError, ValueError, tarfile.TarError) as e:
            failures += 1
            print(f"FAIL {m}: {e}", file=sys.stderr)
    print(f"verify-v3: {counts['entries']} entries OK, {counts['nodes']} node hashes recomputed and matched "
          f"(largest DAG {counts['max_nodes']} nodes), {failures} failed")
    try:
        result = check_index(mirror, entry_hashes)
        if result:
            print(f"verify-v3: index OK: {result[0]} records, {result[1]} in_buildcache = the {len(entry_hashes)} entries")
    except (AssertionError, KeyError, OSError, ValueError) as e:
        failures += 1
        print(f"FAIL index: {e}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
