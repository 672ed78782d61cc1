"""A bounded HTTP load generator for 127.0.0.1, used when ``wrk`` is not installed.

    python bench/loadgen.py http://127.0.0.1:8765 PATHS_FILE --connections 8 --seconds 10

Runs in its own process (so it does not share the benchmark's interpreter). Each of
``--connections`` threads keeps one HTTP/1.1 keep-alive connection and sends the paths
of PATHS_FILE in turn (thread k starts at path k) until ``--seconds`` have passed or
``--max-requests`` were sent. Prints one JSON line: requests, seconds, status counts,
latency percentiles, and the client's own CPU share (well under one core means it was
not the bottleneck).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import resource
import sys
import threading
import time
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def worker(host: str, port: int, paths: list[str], offset: int, stop_at: float, budget: list[int],
           lock: threading.Lock, latencies: list[float], statuses: dict[int, int]) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    i = offset
    mine: list[float] = []
    seen: dict[int, int] = {}
    while time.perf_counter() < stop_at:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
        mine.append((time.perf_counter() - started) * 1000)
        seen[status] = seen.get(status, 0) + 1
    conn.close()
    with lock:
        latencies.extend(mine)
        for status, n in seen.items():
            statuses[status] = statuses.get(status, 0) + n


def percentile(ordered: list[float], p: float) -> float:
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def run(base_url: str, paths: list[str], connections: int, seconds: float, max_requests: int) -> dict:
    parts = urlsplit(base_url)
    if parts.hostname not in LOOPBACK:
        raise SystemExit(f"refusing to load {parts.hostname}: loopback only")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    budget = [max_requests]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    stop_at = started + seconds
    threads = [
        threading.Thread(target=worker, args=(parts.hostname, parts.port or 80, paths, k * 7, stop_at, budget,
                                              lock, latencies, statuses))
        for k in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    ordered = sorted(latencies)
    return {
        "tool": "python",
        "requests": len(ordered),
        "seconds": elapsed,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non_2xx": sum(n for s, n in statuses.items() if not 200 <= s < 300),
        "ms": {str(p): percentile(ordered, p) for p in (50, 95, 99)} if ordered else {},
        "client_cpu_share": cpu / elapsed if elapsed else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("paths_file")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args(argv)
    with open(args.paths_file, encoding="utf-8") as handle:
        paths = [line.strip() for line in handle if line.strip()]
    result = run(args.base_url, paths, args.connections, min(args.seconds, 600.0), args.max_requests)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
