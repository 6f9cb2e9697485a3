#!/usr/bin/env python3
"""make-install-tree.py OUT [PACKAGES] [MB_PER_PACKAGE] [--repo DIR] [--prefix P] [--shared N] -- a synthetic Spack 1.x install tree for bench/.

Each package gets a realistic mix, built from this machine's own files so compressibility is real: ELF shared
libraries and executables (copied from /usr/lib and /usr/bin, a prefix C string and RPATH-like text appended),
headers and scripts (from /usr/include and /usr/share, some mentioning the prefix), a pkg-config file, versioned
symlinks, and the .spack/ metadata Spack writes. Packages depend on earlier ones (link), so hash_to_prefix is
non-trivial. The database (format 8) carries real DAG hashes. Deterministic for given arguments.
With --shared N the first N packages are shared libraries and every later package depends on one to three of them
only (bench/concurrency.sh: pushers given disjoint slices of the later packages then share their dependencies).

Packages are named pkgNN-<kind> in the namespace `benchpkgs` (P-pkgNN-<kind> with --prefix P, whose other random
choices differ too: trees of distinct prefixes share no spec). With --repo DIR (a path ending in
.../spack_repo/benchpkgs, as Spack requires), also writes a Spack package repository
(repo.yaml, api v2.2, and a stub recipe per package) at DIR, so that a real Spack whose install tree is OUT can push
these specs (`SPACK12_REPOS=DIR`) and install them back from a build cache.
"""
import base64, hashlib, json, os, random, shutil, sys

args = sys.argv[1:]
repo = None
if "--repo" in args:
    at = args.index("--repo")
    repo = os.path.abspath(args[at + 1])
    del args[at:at + 2]
shared = 0
if "--shared" in args:
    at = args.index("--shared")
    shared = int(args[at + 1])
    del args[at:at + 2]
name_prefix = ""
if "--prefix" in args:
    at = args.index("--prefix")
    name_prefix = args[at + 1] + "-"
    del args[at:at + 2]
out = os.path.abspath(args[0])
packages = int(args[1]) if len(args) > 1 else 50
mb_per_package = float(args[2]) if len(args) > 2 else 20.0
NAMESPACE = "benchpkgs"
rng = random.Random(6 if not name_prefix else name_prefix)


def files_under(roots, want_elf, limit):
    found = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for n in sorted(names):
                p = os.path.join(dirpath, n)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                size = os.path.getsize(p)
                if size < 2048 or size > 8 << 20:
                    continue
                try:
                    with open(p, "rb") as f:
                        head = f.read(4)
                except OSError:
                    continue
                if (head == b"\x7fELF") == want_elf:
                    found.append((p, size))
                if len(found) >= limit:
                    return found
    return found


elves = files_under(["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/libexec"], True, 4000)
texts = [f for f in files_under(["/usr/include", "/usr/share/perl", "/usr/share/doc", "/usr/lib/python3"], False, 20000)
         if f[0].endswith((".h", ".hpp", ".pm", ".py", ".txt", ".pl", ".md", ".sh"))]
if not elves or not texts:
    sys.exit("no source files found on this machine")


def dag_hash(node):
    body = json.dumps({k: v for k, v in node.items() if k != "hash"}, separators=(",", ":"))
    return base64.b32encode(hashlib.sha1(body.encode()).digest()).decode().lower()


if os.path.exists(out):
    shutil.rmtree(out)
os.makedirs(os.path.join(out, ".spack-db"))
os.makedirs(os.path.join(out, "bin"))
with open(os.path.join(out, "bin", "sbang"), "w") as f:
    f.write("#!/bin/sh\n# sbang stand-in\n")

installs, nodes, prefixes = {}, {}, {}
for i in range(packages):
    name = f"{name_prefix}pkg{i:02d}-{rng.choice(['core', 'io', 'math', 'net', 'util'])}"
    pool = list(nodes)[:shared] if shared and i >= shared else list(nodes)
    deps = sorted(rng.sample(pool, min(len(pool), rng.randint(1 if shared and i >= shared else 0, 3))),
                  key=lambda h: nodes[h]["name"])
    node = {
        "name": name, "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}",
        "arch": {"platform": "linux", "platform_os": "debian12", "target": "x86_64"},
        "namespace": NAMESPACE,
        "parameters": {"build_system": "generic", "cflags": [], "cxxflags": [], "ldflags": []},
        "package_hash": hashlib.sha256(name.encode()).hexdigest()[:32],
    }
    if deps:
        node["dependencies"] = [{"name": nodes[h]["name"], "hash": h,
                                 "parameters": {"deptypes": ["build", "link"], "virtuals": []}} for h in deps]
    node["annotations"] = {"original_specfile_version": 5}
    h = dag_hash(node)
    node["hash"] = h
    nodes[h] = node
    prefix = os.path.join(out, "linux-x86_64", f"{name}-{node['version']}-{h}")
    prefixes[h] = prefix
    for d in ("bin", "lib/pkgconfig", f"include/{name}", f"share/{name}", ".spack"):
        os.makedirs(os.path.join(prefix, d))

    budget = int(mb_per_package * (1 << 20))
    rpath = ":".join([prefix + "/lib"] + [prefixes[d] + "/lib" for d in deps]).encode()
    # ~70 % ELF, ~30 % text, by bytes.
    elf_budget, n = int(budget * 0.7), 0
    while elf_budget > 0:
        src, size = rng.choice(elves)
        target = os.path.join(prefix, "lib" if ".so" in src else "bin", f"{os.path.basename(src)}.{n}")
        with open(src, "rb") as f, open(target, "wb") as g:
            g.write(f.read())
            g.write(b"\0" + prefix.encode() + b"/share\0" + rpath + b"\0")
        os.chmod(target, 0o755)
        if target.endswith(".0") and "/lib/" in target:
            os.symlink(os.path.basename(target), target + ".link")
        elf_budget -= size
        n += 1
    text_budget = budget - int(budget * 0.7)
    while text_budget > 0:
        src, size = rng.choice(texts)
        target = os.path.join(prefix, "include" if src.endswith((".h", ".hpp")) else "share", name, f"{n}-{os.path.basename(src)}")
        with open(src, "rb") as f, open(target, "wb") as g:
            data = f.read()
            if rng.random() < 0.2:
                data = b"# installed in " + prefix.encode() + b"\n" + data
            g.write(data)
        text_budget -= size
        n += 1
    with open(os.path.join(prefix, "lib/pkgconfig", f"{name}.pc"), "w") as f:
        f.write(f"prefix={prefix}\nlibdir=${{prefix}}/lib\nName: {name}\nLibs: -L${{libdir}} -l{name}\n")
    with open(os.path.join(prefix, "bin", f"{name}-config"), "w") as f:
        f.write(f"#!/bin/sh\necho {prefix}\n")
    os.chmod(os.path.join(prefix, "bin", f"{name}-config"), 0o755)
    os.symlink(os.path.join(prefix, "bin", f"{name}-config"), os.path.join(prefix, "bin", f"{name}-config-abs"))

    # .spack/spec.json: root first, then dependencies depth-first in name order.
    ordered, seen, stack = [], set(), [h]
    while stack:
        x = stack.pop()
        if x in seen:
            continue
        seen.add(x)
        ordered.append(nodes[x])
        stack.extend(reversed([d["hash"] for d in nodes[x].get("dependencies", [])]))
    with open(os.path.join(prefix, ".spack", "spec.json"), "w") as f:
        json.dump({"spec": {"_meta": {"version": 5}, "nodes": ordered}}, f, separators=(",", ":"))
    with open(os.path.join(prefix, ".spack", "install_environment.json"), "w") as f:
        json.dump({"host_os": "debian12", "platform": "linux", "host_target": "x86_64"}, f)
    installs[h] = {"spec": node, "ref_count": 0, "path": prefix, "installed": True, "explicit": True,
                   "installation_time": 0.0}

with open(os.path.join(out, ".spack-db", "index.json"), "w") as f:
    json.dump({"database": {"version": "8", "installs": installs}}, f)


def write_repo(where):
    """A Spack package repository (api v2.2) with a stub recipe per package: enough for push and cache installs."""
    if os.path.exists(where):
        shutil.rmtree(where)
    os.makedirs(os.path.join(where, "packages"))
    with open(os.path.join(where, "repo.yaml"), "w") as f:
        f.write(f"repo:\n  namespace: '{NAMESPACE}'\n  api: v2.2\n")
    for node in nodes.values():
        module = node["name"].replace("-", "_")
        cls = "".join(part.capitalize() for part in node["name"].split("-"))
        os.makedirs(os.path.join(where, "packages", module))
        deps = "".join(f'    depends_on("{d["name"]}", type=("build", "link"))\n' for d in node.get("dependencies", []))
        with open(os.path.join(where, "packages", module, "package.py"), "w") as f:
            f.write(f"# Stub recipe of a synthetic benchmark package (bench/make-install-tree.py).\n"
                    f"from spack_repo.builtin.build_systems.generic import Package\n\n"
                    f"from spack.package import *\n\n\n"
                    f"class {cls}(Package):\n"
                    f'    """Synthetic benchmark package."""\n\n'
                    f'    homepage = "https://example.invalid/{node["name"]}"\n'
                    f'    url = "https://example.invalid/{node["name"]}-{node["version"]}.tar.gz"\n\n'
                    f'    version("{node["version"]}", sha256="{"0" * 64}")\n\n{deps}')


if repo:
    write_repo(repo)
print(f"{out}: {packages} packages")
