#!/usr/bin/env python3
"""serve-pull.py BASE_URL PATHS_FILE [CLIENTS] [PROCESSES] [PER_CLIENT] -- many clients pulling a cache at once.

Each client is a thread with its own keep-alive connection; it GETs every path of PATHS_FILE (URL paths ending in a
blob's sha256: .../blobs/sha256/ab/abcd...) once, in its own shuffled order (only the first PER_CLIENT of that order
when given, to bound the volume: CLIENTS x the cache's size), and hashes each body as it arrives: a
body whose sha256 or length differs from the name, a status other than 200, or a failed request is a loss. No retries:
a request that fails counts. The clients are spread over PROCESSES processes (hashing releases the GIL, but the
HTTP parsing does not). Prints one JSON object: clients, fetches, bytes, seconds, losses (with the first few
described) and latency percentiles of the requests.
"""
import hashlib, http.client, json, multiprocessing, random, sys, threading, time, urllib.parse

CHUNK = 256 * 1024


def client(host, port, paths, seed, out, lock, per_client):
    order = list(paths)
    random.Random(seed).shuffle(order)
    order = order[:per_client]
    conn = http.client.HTTPConnection(host, port, timeout=120)
    fetched = nbytes = 0
    losses, latencies = [], []
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    for path in order:
        want = path.rsplit("/", 1)[1]
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            if resp.status != 200:
                resp.read()
                losses.append(f"{path}: HTTP {resp.status}")
                continue
            h, got = hashlib.sha256(), 0
            while True:
                n = resp.readinto(buf)
                if not n:
                    break
                h.update(view[:n])
                got += n
            length = resp.getheader("Content-Length")
            if h.hexdigest() != want or (length is not None and int(length) != got):
                losses.append(f"{path}: {got} bytes, sha256 {h.hexdigest()[:12]}...")
            else:
                fetched += 1
                nbytes += got
        except Exception as e:  # a failed request is a loss, reported with its reason
            losses.append(f"{path}: {type(e).__name__}: {e}")
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=120)
        latencies.append(time.perf_counter() - t0)
    conn.close()
    with lock:
        out.append((fetched, nbytes, losses, latencies))


def process(host, port, paths, seeds, queue, per_client):
    out, lock = [], threading.Lock()
    threads = [threading.Thread(target=client, args=(host, port, paths, s, out, lock, per_client)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def main():
    base, paths_file = sys.argv[1], sys.argv[2]
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    processes = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    paths = [line.strip() for line in open(paths_file) if line.strip()]
    per_client = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else len(paths)
    url = urllib.parse.urlsplit(base)
    queue = multiprocessing.Queue()
    t0 = time.perf_counter()
    procs = [multiprocessing.Process(
        target=process, args=(url.hostname, url.port, paths, range(p, clients, processes), queue, per_client))
             for p in range(processes)]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    seconds = time.perf_counter() - t0
    losses = [loss for r in results for loss in r[2]]
    lat = sorted(x for r in results for x in r[3])
    pct = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)) if lat else (lambda q: None)
    print(json.dumps({
        "clients": len(results), "per_client": per_client, "expected_fetches": clients * per_client,
        "fetches": sum(r[0] for r in results), "bytes": sum(r[1] for r in results), "seconds": round(seconds, 2),
        "losses": len(losses), "first_losses": losses[:5], "p50_ms": pct(0.5), "p99_ms": pct(0.99)}))


if __name__ == "__main__":
    main()
