"""A real `casearch serve` on 127.0.0.1: reindexing while it serves, and a bounded load.

- While clients query in a loop, a reindex (incremental, then full) runs and commits:
  every response is the old answer or the new one, never an error or a mixture, each
  client moves from old to new once, and the new index is served without a restart.
- Load: concurrent keep-alive clients send a fixed number of requests; none fails or
  times out, every body equals the serial answer, and the server's resident memory after
  10,000 requests is within 10% of what it was after a 1,000-request warm-up.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from conftest import REPO, write
from live_server import free_port, stop

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("engine_name")]  # once per engine

CLIENTS = 8
WARM_UP = 80  # multiples of CLIENTS: each client sends its share
LOAD = 400  # per engine


# --- a server process and its clients ---------------------------------------------------

class Server:
    def __init__(self, corpus: Path, index_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.log = log
        env = {**os.environ, "PYTHONWARNINGS": "error"}
        env.pop("CASEARCH_PHASE_PAUSE", None)
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "casearch.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--corpus", str(corpus), "--index", str(index_dir)],
                stdout=subprocess.DEVNULL, stderr=stderr, env=env,
            )
        for _ in range(300):  # up to a minute to start
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            assert self.process.poll() is None, self.log_tail()
            time.sleep(0.2)
        raise AssertionError("server never answered /healthz\n" + self.log_tail())

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        stop(self.process)


class Client:
    """One keep-alive connection, reopened after any failure (which is counted)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.conn.request("GET", path)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


_TOOK_JSON = re.compile(r'"took_ms":\s*[-+0-9.eE]+')
_TOOK_HTML = re.compile(r"\d+(?:\.\d+)?\s*(?:ms|ミリ秒)")


def normalized(path: str, body: bytes) -> str:
    """A body without what legitimately changes between identical requests (timings)."""
    text = body.decode("utf-8")
    if path.startswith("/api/"):
        return _TOOK_JSON.sub('"took_ms": 0', text)
    return _TOOK_HTML.sub("", text)


def api(q: str, **params: str) -> str:
    return "/api/search?" + urlencode({"q": q, **params})


# --- reindex while serving ------------------------------------------------------------------

def corpus_state(corpus: Path, state: str) -> None:
    """Two states of a 60-document corpus: 20 documents (40 passages) change, 5 come and 5 go."""
    for old in [p for p in corpus.rglob("*") if p.is_file()]:
        old.unlink()
    marker = {"A": "alphaword", "B": "bravoword"}[state]
    for n in range(55):
        word = marker if n < 20 else "steadyword"
        write(corpus / f"docs/d{n:02}.md", f"---\ntitle: Document {n}\nlang: en\n---\n{word} gas pipeline {n}.\n\n"
                                          f"## 鉄道 {n}\n中国の鉄道と天然ガス {word}。\n")
    for n in range(5):
        write(corpus / f"only/{state}{n}.txt", f"Only {state}\nonly{state.lower()}word {n}\n")


LOOP_PATHS = [api("alphaword", per_page="50"), api("bravoword", per_page="50"), api("steadyword", per_page="50"),
              api("onlyaword"), api("onlybword"), api("鉄道", lang="ja", per_page="50"), api("gas pipeline"),
              "/healthz", "/search?" + urlencode({"q": "alphaword"}), "/doc/docs/d03?q=alphaword"]


def serial_answers(server: Server) -> dict[str, str]:
    answers = {}
    for path in LOOP_PATHS:
        status, body = server.get(path)
        assert status == 200, (path, status, body[:300], server.log_tail())
        answers[path] = normalized(path, body)
    return answers


def query_loop(port: int, stop: threading.Event, record: list, limit: int = 20_000) -> None:
    client = Client(port)
    try:
        for n in range(limit):
            if stop.is_set():
                return
            path = LOOP_PATHS[n % len(LOOP_PATHS)]
            try:
                status, body = client.get(path)
                record.append((time.monotonic(), path, status, normalized(path, body) if status == 200 else body))
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                record.append((time.monotonic(), path, "error", repr(exc)))
    finally:
        client.close()


def reindex_cli(corpus: Path, index_dir: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "CASEARCH_PHASE_PAUSE": "0.5"}  # stretch the run so queries overlap it
    return subprocess.Popen([sys.executable, "-m", "casearch.cli", "reindex", "--corpus", str(corpus),
                             "--index", str(index_dir), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_old_or_new(records: list, old: dict[str, str], new: dict[str, str], began: float, ended: float) -> int:
    """Every response is the old or the new answer; a client never goes back to old."""
    moved = False
    during = 0
    for stamp, path, status, body in records:
        assert status == 200, (path, status, body)
        assert body in (old[path], new[path]), f"{path}: neither the old nor the new answer"
        during += began <= stamp <= ended
        if old[path] != new[path]:
            if body == new[path]:
                moved = True
            else:
                assert not moved, f"{path}: the old answer came back after the new one"
    return during


@pytest.mark.slow
@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_reindex_while_serving_gives_old_or_new_never_an_error(tmp_path: Path, full: bool) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus_state(corpus, "A")
    server = Server(corpus, index_dir, tmp_path / "server.log")  # builds the missing index first
    try:
        old = serial_answers(server)
        assert json.loads(old[LOOP_PATHS[0]])["total"] == 40 and json.loads(old[LOOP_PATHS[1]])["total"] == 0
        stop = threading.Event()
        records: list[list] = [[] for _ in range(3)]
        threads = [threading.Thread(target=query_loop, args=(server.port, stop, r)) for r in records]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        corpus_state(corpus, "B")
        began = time.monotonic()
        reindex = reindex_cli(corpus, index_dir, *(["--full"] if full else []))
        out, err = reindex.communicate(timeout=180)
        ended = time.monotonic()
        assert reindex.returncode == 0, err
        time.sleep(0.5)
        new = serial_answers(server)  # the same server, no restart
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert json.loads(new[LOOP_PATHS[0]])["total"] == 0 and json.loads(new[LOOP_PATHS[1]])["total"] == 40
        assert json.loads(new[api("onlybword")])["total"] == 5
        during = sum(check_old_or_new(r, old, new, began, ended) for r in records)
        total = sum(len(r) for r in records)
        print(f"\nreindex ({'full' if full else 'incremental'}) while serving: {total} responses, "
              f"{during} during the reindex, errors: 0")
        assert during >= 20  # the loop really overlapped the reindex
    finally:
        server.stop()
    assert "Traceback" not in server.log_tail()


def test_healthz_counts_what_is_served_after_an_incremental_update(tmp_path: Path) -> None:
    from casearch.index import reindex
    from casearch.web import create_app

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus_state(corpus, "A")
    reindex(corpus, index_dir)
    corpus_state(corpus, "B")
    reindex(corpus, index_dir)
    health = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client().get("/healthz").get_json()
    assert (health["documents"], health["passages"]) == (60, 55 * 2 + 5)


# --- load -----------------------------------------------------------------------------------

LOAD_PATHS = [
    api("パイプライン"), api("天然ガス", lang="ja"), api("中国の鉄道"), api("pipeline", lang="en"),
    api("Kazakhstan OR 鉄道", per_page="20"), api('"natural gas"'), api("title:サミット"), api("-鉄道 gas"),
    api("pipe*"), api("鉄道", page="2", per_page="3"), api("の"), api("zzzznothing"), api("gas", sort="date"),
    "/search?" + urlencode({"q": "パイプライン", "ui": "ja"}), "/search?" + urlencode({"q": "pipeline", "ui": "en"}),
    "/doc/" + quote("summit-2025/ja") + "?" + urlencode({"q": "天然ガス"}), "/doc/summit-2025/en", "/healthz", "/",
    "/api/search?q=", "/doc/missing",
]


def run_load(port: int, paths: list[str], requests: int, expected: dict[str, tuple[int, str]]) -> Counter:
    """``requests`` requests over ``CLIENTS`` keep-alive clients; count the outcomes."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    per_client = requests // CLIENTS

    def worker(offset: int) -> None:
        client = Client(port)
        local: Counter = Counter()
        try:
            for n in range(per_client):
                path = paths[(offset + n) % len(paths)]
                try:
                    status, body = client.get(path)
                except Exception as exc:  # noqa: BLE001
                    local[f"error {type(exc).__name__}"] += 1
                    continue
                want_status, want_body = expected[path]
                same = status == want_status and normalized(path, body) == want_body
                local["same" if same else f"different {path}"] += 1
        finally:
            client.close()
            with lock:
                outcomes.update(local)

    threads = [threading.Thread(target=worker, args=(i * 7,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    return outcomes


@pytest.mark.slow
def test_load_gives_serial_answers_without_errors_and_memory_stays_flat(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    server = Server(corpus, tmp_path / "index", tmp_path / "server.log")
    try:
        expected = {}
        for path in LOAD_PATHS:
            status, body = server.get(path)
            expected[path] = (status, normalized(path, body))
        statuses = {p: expected[p][0] for p in LOAD_PATHS}
        assert list(statuses.values()).count(200) == len(LOAD_PATHS) - 2, (statuses, server.log_tail())
        began = time.monotonic()
        warm = run_load(server.port, LOAD_PATHS, WARM_UP, expected)
        rss_warm = server.rss_kib()
        load = run_load(server.port, LOAD_PATHS, LOAD, expected)
        rss_after = server.rss_kib()
        seconds = time.monotonic() - began
        print(f"\nload: {sum(warm.values())} + {sum(load.values())} requests from {CLIENTS} clients in "
              f"{seconds:.1f} s ({(WARM_UP + LOAD) / seconds:.0f}/s); outcomes {dict(warm + load)}; "
              f"VmRSS {rss_warm} kB after warm-up, {rss_after} kB after {LOAD} more "
              f"({(rss_after - rss_warm) / rss_warm:+.1%})")
        assert warm == {"same": WARM_UP} and load == {"same": LOAD}, server.log_tail()
        assert abs(rss_after - rss_warm) <= rss_warm * 0.10
    finally:
        server.stop()
    assert "Traceback" not in server.log_tail()


@pytest.mark.slow
def test_raw_paths_over_the_wire(tmp_path: Path) -> None:
    """What a browser's URL parser would clean up, sent as is to the real server."""
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    server = Server(corpus, tmp_path / "index", tmp_path / "server.log")
    try:
        for path in ["/doc/../../etc/passwd", "/doc/%2e%2e/%2e%2e/etc/passwd", "/doc/..%2f..%2fetc%2fpasswd",
                     "/../../etc/passwd", "/doc/summit-2025/ja%00", "/assets/../../pyproject.toml",
                     "/doc/" + "%2e%2e/" * 40 + "etc/passwd"]:
            status, body = server.get(path)
            assert status in (400, 404), (path, status)
            assert b"root:" not in body and b"[project]" not in body
        status, _ = server.get("/api/search?q=" + "a" * 20_000)  # far over the limit: a 400, not a crash
        assert status in (400, 414, 431)
        assert server.get("/healthz")[0] == 200
    finally:
        server.stop()
