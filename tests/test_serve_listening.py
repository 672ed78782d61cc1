"""What ``casearch serve`` does at its front door, over real sockets on 127.0.0.1.

- A port in use is refused with exit 3 and a message, for one worker and several, whether
  the holder is another program or another casearch sharing the port through
  SO_REUSEPORT (which the kernel would otherwise let a second server join silently).
- A request line holding raw UTF-8 (``curl 'http://…/api/suggest?q=中国の鉄'``) is read as
  UTF-8; bytes that are not UTF-8 get the contract's JSON error, never waitress's own
  plain-text 400.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest

from casearch.serving import PortInUse, bind_sockets, check_port_free, encode_raw_request_target
from live_server import REPO, _wait_until_ready, accept_all, free_port, stop

pytestmark = pytest.mark.timeout(300)


def serve_command(port: int, workers: str, corpus: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "casearch.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", workers, "--threads", "2", "--corpus", str(corpus), "--index", str(index)]


def run_serve(port: int, workers: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """``casearch serve`` expected to refuse: it must end by itself (timeout otherwise)."""
    return subprocess.run(serve_command(port, workers, REPO / "corpus", tmp_path / "index"),
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "error"})


def assert_refused(result: subprocess.CompletedProcess, port: int, tmp_path: Path) -> None:
    assert result.returncode == 3, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr  # says what to do
    assert "Traceback" not in result.stderr and "serving on" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "index").exists()  # refused before building an index


def listening_socket(reuse_port: bool) -> socket.socket:
    sock = socket.socket()
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


@pytest.mark.parametrize(("holder", "workers"), [
    ("another casearch", "1"), ("another casearch", "2"), ("a plain socket", "1"), ("a socket with SO_REUSEPORT", "2"),
])
def test_serve_refuses_a_port_in_use_with_exit_3(holder: str, workers: str, tmp_path: Path) -> None:
    if holder == "another casearch":  # the sockets another `casearch serve --workers 2` listens on
        held = bind_sockets("127.0.0.1", 0, 2)
    else:
        held = [listening_socket(reuse_port=holder.endswith("SO_REUSEPORT"))]
    try:
        port = held[0].getsockname()[1]
        assert_refused(run_serve(port, workers, tmp_path), port, tmp_path)
        # Nobody joined the port: every connection still reaches the holder's sockets.
        clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(8)]
        accepted = sum(accept_all(sock) for sock in held)
        for client in clients:
            client.close()
        assert accepted == 8
    finally:
        for sock in held:
            sock.close()


def test_check_port_free_sees_a_reuseport_group_and_a_freed_port() -> None:
    held = bind_sockets("127.0.0.1", 0, 2)
    port = held[0].getsockname()[1]
    with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use"):
        check_port_free("127.0.0.1", port)
    with pytest.raises(PortInUse):
        bind_sockets("127.0.0.1", port, 2)
    for sock in held:
        sock.close()
    check_port_free("127.0.0.1", port)  # free again once the holder stopped
    again = bind_sockets("127.0.0.1", port, 1)
    again[0].close()


def test_encode_raw_request_target_only_touches_the_request_line() -> None:
    raw = "GET /api/suggest?q=中国の鉄&x=é HTTP/1.1\r\nHost: h\r\nX-Name: \xe9\r\n".encode("utf-8")
    encoded = encode_raw_request_target(raw)
    line, _, rest = encoded.partition(b"\r\n")
    assert line == b"GET /api/suggest?q=" + quote("中国の鉄").encode() + b"&x=%C3%A9 HTTP/1.1"
    assert rest == raw.partition(b"\r\n")[2]
    assert encode_raw_request_target(b"GET /a HTTP/1.1") == b"GET /a HTTP/1.1"


# --- a live server ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["1", "2"], ids=["one worker", "two workers"])
def live_port(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("live")
    shutil.copytree(REPO / "corpus", root / "corpus")
    port, log = free_port(), root / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            serve_command(port, request.param, root / "corpus", root / "index"), stdout=out,
            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONWARNINGS": "error", "CASEARCH_ENGINE": "whoosh"},
        )
    try:
        _wait_until_ready(f"http://127.0.0.1:{port}", process, log)
        yield port
    finally:
        stop(process, timeout=30)
    assert "Traceback" not in log.read_text(errors="replace")


def raw_get(port: int, target: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET whose request target is sent byte for byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers.get("Content-Type", ""), body


@pytest.mark.slow  # a live server per worker count
def test_raw_utf8_in_the_url_is_read_as_utf8(live_port: int) -> None:
    status, kind, body = raw_get(live_port, "/api/suggest?q=中国の鉄".encode("utf-8"))
    assert (status, kind) == (200, "application/json")
    assert json.loads(body) == {"query": "中国の鉄", "completions": ["中国の鉄道"]}

    raw = raw_get(live_port, "/api/search?q=パイプライン&lang=ja".encode("utf-8"))
    encoded = raw_get(live_port, ("/api/search?q=" + quote("パイプライン") + "&lang=ja").encode("ascii"))
    assert raw[0] == encoded[0] == 200
    answer, expected = json.loads(raw[2]), json.loads(encoded[2])
    assert answer["query"] == "パイプライン" and answer["total"] > 0
    assert [h["url"] for h in answer["hits"]] == [h["url"] for h in expected["hits"]]

    status, kind, body = raw_get(live_port, "/search?q=鉄道&ui=ja".encode("utf-8"))
    assert status == 200 and kind.startswith("text/html") and "鉄道".encode() in body

    status, kind, _ = raw_get(live_port, "/doc/サミット".encode("utf-8"))  # a raw path: the app's own 404 page
    assert status == 404 and kind.startswith("text/html")


@pytest.mark.slow  # a live server per worker count
def test_raw_bytes_that_are_not_utf8_get_json_as_their_percent_encoding_does(live_port: int) -> None:
    for target in [b"/api/search?q=\xff", b"/api/suggest?q=\xe4\xb8", b"/api/search?q=a&lang=\xe9"]:
        status, kind, body = raw_get(live_port, target)
        encoded = raw_get(live_port, b"".join(b"%%%02X" % byte if byte > 0x7F else bytes([byte]) for byte in target))
        assert (status, kind) == (encoded[0], "application/json") and status in (200, 400), (target, body[:200])
        answer, expected = json.loads(body), json.loads(encoded[2])
        answer.pop("took_ms", None), expected.pop("took_ms", None)
        assert answer == expected, target
        if status == 400:
            assert set(answer["error"]) >= {"code", "message"}


@pytest.mark.slow  # a live server per worker count
def test_a_second_serve_on_a_live_port_exits_3(live_port: int, tmp_path: Path) -> None:
    assert_refused(run_serve(live_port, "1", tmp_path), live_port, tmp_path)
    assert raw_get(live_port, b"/healthz")[0] == 200  # the first server is untouched
