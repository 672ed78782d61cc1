"""``casearch serve --workers 2``: one socket, two waitress processes, a supervising parent.

The workers are found as the server process's children in ``/proc``; which worker holds a
connection is found from ``/proc/net/tcp`` (the server side of the client's port) and the
workers' socket file descriptors. Nothing is added to the public API for these tests.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.serving import WorkersKeepDying, bind_sockets, serve_workers
from live_server import _wait_until_ready, accept_all, free_port

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc"),
]

SEARCH = "/api/search?q=" + quote("パイプライン")


# --- a server process, its workers and their connections ----------------------------------

@contextmanager
def workers_server(corpus: Path, index: Path, log: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """``casearch serve --workers 2`` on a free loopback port, with both workers started."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "casearch.cli", "serve", "--workers", "2", "--threads", "2",
             "--host", "127.0.0.1", "--port", str(port), "--corpus", str(corpus), "--index", str(index)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONWARNINGS": "error"},
        )
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}", process, log)
        wait_for(lambda: len(live_children(process.pid)) == 2, "two workers")
        yield process, port
    finally:
        workers = live_children(process.pid)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        for pid in workers:  # never leave a worker behind, even when a test failed
            _signal(pid, signal.SIGKILL)


def live_children(parent: int) -> set[int]:
    """Pids of the running (not zombie) processes whose parent is ``parent``."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = process_state(int(entry.name))
            if state and state[1] == parent and state[0] != "Z":
                children.add(int(entry.name))
    return children


def process_state(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return state, int(ppid)


def alive(pid: int) -> bool:
    state = process_state(pid)
    return state is not None and state[0] != "Z"


def start_time(pid: int) -> int | None:
    """When the process started (clock ticks after boot): with the pid, it names one
    process even after the pid is reused (pid_max is often 32768)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # A zombie leader may still have threads running (waitress's, finishing their requests),
    # which hold the process's sockets: it is gone only when no thread is left.
    if fields[0] == "Z" and len(list(Path(f"/proc/{pid}/task").glob("*"))) <= 1:
        return None
    return int(fields[19])


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def get_json(port: int, path: str = SEARCH) -> tuple[int, dict]:
    """One request on a new connection."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        return response.status, json.loads(response.read())


def hits(body: dict) -> list:
    return body["hits"]


def connection_owner(connection: http.client.HTTPConnection, port: int, workers: set[int]) -> int | None:
    """The worker whose file descriptors hold the server side of this client connection."""
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":"), fields[2].split(":")
        if int(local[1], 16) == port and int(remote[1], 16) == client_port:
            inode = fields[9]
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def workers_answering(port: int, workers: set[int], expected: list, batches: int = 25) -> set[int]:
    """Open keep-alive connections in concurrent batches of 8 until every worker answered one."""
    answered: set[int] = set()
    for _ in range(batches):
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(8)]
        results: list[tuple[int, list]] = []

        def ask(connection: http.client.HTTPConnection) -> None:
            connection.request("GET", SEARCH)
            response = connection.getresponse()
            results.append((response.status, hits(json.loads(response.read()))))

        threads = [threading.Thread(target=ask, args=(c,)) for c in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == [(200, expected)] * 8
        answered |= {connection_owner(c, port, workers) for c in connections}
        for connection in connections:
            connection.close()
        if workers <= answered:
            break
    return answered - {None}


# --- tests ------------------------------------------------------------------------------

@pytest.mark.slow
def test_two_workers_build_the_index_then_give_the_serial_answer_from_both_processes(
        corpus_dir: Path, tmp_path: Path) -> None:
    index = tmp_path / "fresh-index"  # the parent builds it before forking
    with workers_server(corpus_dir, index, tmp_path / "serve.log") as (process, port):
        status, serial = get_json(port)
        assert status == 200 and serial["hits"][0]["section"] == "エネルギー・インフラで結びつく6カ国"
        answers: list[tuple[int, list]] = []

        def client() -> None:
            for _ in range(10):
                status, body = get_json(port)
                answers.append((status, hits(body)))

        clients = [threading.Thread(target=client) for _ in range(4)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=120)
        assert answers == [(200, hits(serial))] * 40
        workers = live_children(process.pid)
        assert len(workers) == 2 and process.pid not in workers
        assert workers_answering(port, workers, hits(serial)) == workers
    log = (tmp_path / "serve.log").read_text()
    assert log.count("casearch serving on http://127.0.0.1:") == 1 and "with 2 workers" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_killed_worker_is_replaced_while_requests_keep_succeeding(
        corpus_dir: Path, index_dir: Path, tmp_path: Path) -> None:
    with workers_server(corpus_dir, index_dir, tmp_path / "serve.log") as (process, port):
        _, serial = get_json(port)
        before = live_children(process.pid)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: not alive(victim), "the killed worker to be gone")
        assert [get_json(port)[0] for _ in range(10)] == [200] * 10  # the survivor answers
        wait_for(lambda: len(live_children(process.pid) - before) == 1, "a replacement worker")
        after = live_children(process.pid)
        assert len(after) == 2 and victim not in after
        answers = [get_json(port) for _ in range(20)]
        assert [(status, hits(body)) for status, body in answers] == [(200, hits(serial))] * 20
        assert workers_answering(port, after, hits(serial)) == after
        assert process.poll() is None
    assert f"worker {victim} was killed by SIGKILL" in (tmp_path / "serve.log").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_or_ctrl_c_stops_the_parent_and_every_worker(
        corpus_dir: Path, index_dir: Path, tmp_path: Path, signum: int) -> None:
    with workers_server(corpus_dir, index_dir, tmp_path / "serve.log") as (process, port):
        assert get_json(port)[0] == 200
        workers = live_children(process.pid)
        process.send_signal(signum)
        assert process.wait(timeout=60) == 0
        assert not [pid for pid in workers if alive(pid)]
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_workers_stop_when_the_parent_is_killed(corpus_dir: Path, index_dir: Path, tmp_path: Path) -> None:
    with workers_server(corpus_dir, index_dir, tmp_path / "serve.log") as (process, port):
        workers = {pid: start_time(pid) for pid in live_children(process.pid)}
        ours = listening_sockets(port)
        assert ours  # the parent's sockets, one per worker, shared by the workers
        process.kill()
        process.wait(timeout=30)
        still_running = lambda: [pid for pid, started in workers.items() if start_time(pid) == started]  # noqa: E731
        wait_for(lambda: not still_running(), "orphaned workers to stop")
        # Once no process holds them, the kernel drops the sockets. Comparing the sockets
        # themselves (not "does the port accept") keeps another test's server, free to take
        # the same port number once it is released, from passing for a leftover of ours.
        assert not ours & listening_sockets(port)


def listening_sockets(port: int) -> set[str]:
    """Inodes of the sockets listening on this TCP port (IPv4 and IPv6), from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def test_workers_that_die_at_start_make_serve_give_up(capfd: pytest.CaptureFixture[str]) -> None:
    def broken_app():
        raise RuntimeError("no app today")

    socks = bind_sockets("127.0.0.1", 0, 2)
    try:
        with pytest.raises(WorkersKeepDying, match="died within 1 s of starting"):
            serve_workers(broken_app, socks, workers=2, threads=1)
    finally:
        for sock in socks:
            sock.close()
    err = capfd.readouterr().err
    assert "RuntimeError: no app today" in err and "starting a replacement" in err


def test_debug_with_several_workers_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "2", "--debug", "--index", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "--debug" in result.output and "--workers" in result.output
    assert not (tmp_path / "none").exists()  # refused before building anything


@pytest.mark.parametrize("workers", ["0", "17"])
def test_workers_outside_1_to_16_are_refused(workers: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", workers])
    assert result.exit_code == 2 and "--workers" in result.output


def test_each_worker_listens_on_its_own_socket_of_one_port() -> None:
    socks = bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in socks}
        assert len(socks) == 3 and len(ports) == 1 and len({sock.fileno() for sock in socks}) == 3
        # The kernel hashes each connection to one of the sockets: 24 connections all on
        # one of three sockets would have a chance of 3 ** -23.
        clients = [socket.create_connection(socks[0].getsockname()[:2], timeout=5) for _ in range(24)]
        accepted = [accept_all(sock) for sock in socks]
        assert sum(accepted) == 24 and sum(1 for count in accepted if count) >= 2, accepted
        for client in clients:
            client.close()
    finally:
        for sock in socks:
            sock.close()
