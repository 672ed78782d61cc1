"""``/api/search`` throughput on a real ``casearch serve`` (waitress) on 127.0.0.1.

    serve          start ``casearch serve --host 127.0.0.1 --port P --engine E`` on a
                   built index, wait for ``/healthz``
    api_paths      the query set as ``/api/search?q=...`` paths (all four classes)
    load           ``wrk`` (Debian's) with a Lua script that cycles through the paths, or
                   ``loadgen.py`` in its own process when wrk is missing; 8 connections,
                   bounded duration, one client thread
    server memory  the server's peak RSS (VmHWM) after the load

Only loopback addresses are ever loaded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode

from measure import BENCH_DIR, DEFAULT_ENGINE, casearch_command

HOST = "127.0.0.1"

WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"status_errors\\": %%d, " ..
    "\\"socket_errors\\": %%d, \\"p50_us\\": %%d, \\"p95_us\\": %%d, \\"p99_us\\": %%d, \\"max_us\\": %%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def api_paths(queries: list[tuple[str, str]]) -> list[str]:
    return ["/api/search?" + urlencode({"q": q}) for _, q in queries]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"casearch serve exited {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"casearch serve did not answer {url}/healthz within {timeout:.0f} s")


@contextmanager
def serve(corpus: Path, index: Path, env: dict[str, str] | None = None,
          workers: int = 1, engine: str = DEFAULT_ENGINE) -> Iterator[tuple[str, int]]:
    """(base URL, server pid) of a running ``casearch serve``; stopped on exit."""
    port = free_port()
    argv = casearch_command() + ["serve", "--host", HOST, "--port", str(port), "--corpus", str(corpus),
                                 "--index", str(index), "--workers", str(workers), "--engine", engine]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, stdout=log, stderr=log, env=env)
    url = f"http://{HOST}:{port}"
    try:
        _wait_healthy(url, proc, timeout=120)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None


def server_pids(pid: int) -> list[int]:
    """The server process and its worker processes (``serve --workers N``)."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return [pid, *children]


def memory_mb(pid: int) -> dict[str, float | None]:
    """Peak RSS of the largest process, and the proportional set size (shared pages such
    as the mmapped index divided between the processes mapping them) summed over the
    server's processes: the memory the server really holds."""
    pids = server_pids(pid)
    peaks = [peak for peak in (peak_rss_mb(p) for p in pids) if peak is not None]
    pss = 0.0
    for p in pids:
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        pss += int(match.group(1)) / 1024 if match else 0.0
    return {"processes": len(pids), "peak_rss_mb": max(peaks) if peaks else None, "pss_mb": pss or None}


def warm(url: str, paths: list[str], count: int = 20, seconds: float = 120.0) -> None:
    """A few requests so the first measured ones do not pay for imports and caches
    (the first search of a generation loads its bridge: slow on a large index)."""
    deadline = time.monotonic() + seconds
    for path in paths[:count]:
        if time.monotonic() > deadline:
            break
        try:
            with urllib.request.urlopen(url + path, timeout=seconds) as response:
                response.read()
        except urllib.error.HTTPError:  # a 400 (query_too_complex) is an answer too
            pass


def run_wrk(url: str, paths: list[str], seconds: float, connections: int) -> dict:
    lua_paths = ",".join(json.dumps(p) for p in paths)  # a JSON string is a valid Lua string here
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(WRK_SCRIPT % {"paths": lua_paths})
    try:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                "-s", script.name, url]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        os.unlink(script.name)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-500:]}")
    raw = json.loads(line[len("BENCH_JSON "):])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    elapsed = raw["duration_us"] / 1e6
    return {
        "tool": "wrk", "requests": raw["requests"], "seconds": elapsed,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0, "socket_errors": raw["socket_errors"],
        "ms": {str(p): raw[f"p{p}_us"] / 1000 for p in (50, 95, 99)},
    }


def run_python_client(url: str, paths: list[str], seconds: float, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        argv = [sys.executable, str(BENCH_DIR / "loadgen.py"), url, listing.name,
                "--connections", str(connections), "--seconds", str(seconds)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)
    finally:
        os.unlink(listing.name)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def http_throughput(corpus: Path, index: Path, queries: list[tuple[str, str]], seconds: float,
                    tool: str = "auto", connections: int = 8, env: dict[str, str] | None = None,
                    workers: int = 1, engine: str = DEFAULT_ENGINE) -> dict:
    """Requests/s and latency percentiles of /api/search under ``connections`` clients."""
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    paths = api_paths(queries)
    with serve(corpus, index, env, workers, engine) as (url, pid):
        warm(url, paths, count=20 * workers)
        if tool == "wrk":
            result = run_wrk(url, paths, seconds, connections)
        else:
            result = run_python_client(url, paths, seconds, connections)
        memory = memory_mb(pid)
        result["server_peak_rss_mb"] = memory["peak_rss_mb"]
        result["server_pss_mb"] = memory["pss_mb"]
    result["workers"] = workers
    result["engine"] = engine
    result["connections"] = connections
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    result["load_after"] = os.getloadavg()[0]
    return result
