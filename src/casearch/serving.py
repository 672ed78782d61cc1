"""Pre-fork serving: several waitress processes on one port (``serve --workers N``).

One waitress process runs Python on one core at a time, so ``casearch serve`` uses more
cores by running more processes on the same port:

    parent   bind_sockets: N listening sockets on host:port (SO_REUSEPORT), one per worker
               -> fork N workers -> supervise until SIGTERM/SIGINT
    worker   (after the fork) PDEATHSIG, signal handlers -> make_app() -> waitress on its
             inherited socket; the kernel spreads new connections over the sockets

One shared socket was measured first: the worker that woke first accepted a whole burst of
connections (all 8 of a load generator's in 7 runs of 12) and the other core sat idle. With
a socket per worker the kernel hashes each connection to one of them (never 8/0 in 12 runs of
a prototype launcher that bound the sockets this way).
The parent keeps every socket open, so a replacement worker inherits its predecessor's
queue and no accepted connection is lost; connections queued on a dead worker's socket wait
for its replacement. Where SO_REUSEPORT is missing, all workers share one socket.

The app (index readers, searchers, fugashi taggers, caches) is created in each worker after
the fork, never shared: MeCab and Whoosh readers are not fork-safe to share, and each worker
opens the index generation that is current when it starts. The parent only imports modules
(their code pages stay shared) and may have built a missing index; that analysis state lives
in the parent's main thread, which no worker serves requests from.

Before any socket is bound for serving, ``check_port_free`` binds a probe without
SO_REUSEPORT: the kernel lets SO_REUSEPORT sockets of one user share a port, so without the
probe a second ``casearch serve`` (another clone, same user) would join the first one's port
and the kernel would split the requests between two different indexes. A port in use is
``PortInUse`` (``casearch serve`` exits 3 with the message).

Request lines: waitress refuses a request target holding raw bytes over 0x7F (``curl
'http://…/api/suggest?q=中国の鉄'``) with its own plain-text 400 before the app sees it.
``Utf8RequestParser`` percent-encodes those bytes first, so the app reads the UTF-8 as if
the client had encoded it (and answers bytes that are not UTF-8 with its JSON error).

Supervision: a worker that dies is logged to stderr and replaced after a back-off that grows
while workers keep dying within ``QUICK_DEATH_SECONDS`` of starting; after
``MAX_QUICK_DEATHS`` such deaths in a row the parent stops the others and raises
``WorkersKeepDying``. SIGTERM or SIGINT to the parent forwards SIGTERM to the workers, waits
for them (``STOP_TIMEOUT_SECONDS``, then SIGKILL) and returns. On Linux each worker also
asks for SIGTERM when the parent dies (``PR_SET_PDEATHSIG``), so a SIGKILLed parent leaves
no orphans.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import os
import re
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, NoReturn

import waitress.server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser

from .errors import CasearchError

WsgiApp = Callable[..., Any]

QUICK_DEATH_SECONDS = 1.0
MAX_QUICK_DEATHS = 5
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.1
BACKLOG = 1024
_PR_SET_PDEATHSIG = 1


_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


class WorkersKeepDying(CasearchError):
    hint = "See the worker errors above; `casearch serve --workers 1` shows the same error directly."


class PortInUse(CasearchError):
    hint = "Stop the other server, or choose another port: casearch serve --port 8080 (make serve PORT=8080)."


class CannotListen(CasearchError):
    hint = "Check --host and --port (ports below 1024 need root)."


class Utf8RequestParser(HTTPRequestParser):
    """waitress's parser, fed a request line whose raw non-ASCII bytes are percent-encoded."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(encode_raw_request_target(header_plus))


class Utf8Channel(HTTPChannel):
    parser_class = Utf8RequestParser


def encode_raw_request_target(header_plus: bytes) -> bytes:
    r"""The request line with every byte over 0x7F percent-encoded; the header fields after
    it untouched (their values may hold such bytes).

    >>> encode_raw_request_target(b"GET /api/suggest?q=\xe9\x89\x84 HTTP/1.1\r\nX-A: \xe9")
    b'GET /api/suggest?q=%E9%89%84 HTTP/1.1\r\nX-A: \xe9'
    """
    end = header_plus.find(b"\r\n")
    if end < 0:  # not a request waitress accepts anyway: its own error stands
        return header_plus
    line = _HIGH_BYTE.sub(lambda byte: b"%%%02X" % byte[0][0], header_plus[:end])
    return line + header_plus[end:]


@dataclass
class _Supervisor:
    """The parent's view of its workers: pid -> start time, and the restart back-off."""

    make_app: Callable[[], WsgiApp]
    socks: list[socket.socket]
    threads: int
    started: dict[int, float] = field(default_factory=dict)
    slots: dict[int, int] = field(default_factory=dict)  # pid -> index of its socket
    quick_deaths: int = 0
    stop_signal: int | None = None


def _address(host: str, port: int) -> tuple[int, int, int, Any]:
    """(family, type, protocol, address) of the first address ``host`` resolves to."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except OSError as exc:
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return family, kind, proto, address


def _bind_error(host: str, port: int, exc: OSError) -> CasearchError:
    if exc.errno == errno.EADDRINUSE:
        return PortInUse(f"port {port} on {host} is already in use (another casearch serve, or another program)")
    return CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def check_port_free(host: str, port: int) -> None:
    """Raise ``PortInUse`` when something listens on host:port, even with SO_REUSEPORT.

    The probe sets SO_REUSEADDR only (a port left in TIME_WAIT by a stopped server is
    free), and never SO_REUSEPORT, so it cannot join a group of sockets sharing the port.
    Port 0 is always free.
    """
    if port == 0:
        return
    family, kind, proto, address = _address(host, port)
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise _bind_error(host, port, exc) from None


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening TCP sockets on the first address ``host`` resolves to, sharing
    the port through SO_REUSEPORT; one socket where the platform lacks it or ``count`` is 1.

    Raises ``PortInUse`` when the port is taken (see ``check_port_free``) and
    ``CannotListen`` for any other reason the port cannot be had.
    """
    check_port_free(host, port)
    family, kind, proto, address = _address(host, port)
    reuse_port = getattr(socket, "SO_REUSEPORT", None) if count > 1 else None
    socks: list[socket.socket] = []
    try:
        for _ in range(count if reuse_port is not None else 1):
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port is not None:
                sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            address = sock.getsockname()  # port 0: the others join the port the first got
    except OSError as exc:
        for sock in socks:
            sock.close()
        raise _bind_error(host, port, exc) from None
    return socks


def socket_url(sock: socket.socket) -> str:
    """``http://HOST:PORT/`` of a bound socket (the real port, brackets for IPv6)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve_workers(make_app: Callable[[], WsgiApp], socks: list[socket.socket], workers: int, threads: int) -> None:
    """Run ``workers`` waitress processes, worker i on ``socks[i % len(socks)]``, until
    SIGTERM or SIGINT.

    Raises ``WorkersKeepDying`` when workers die at start several times in a row.
    """
    supervisor = _Supervisor(make_app, socks, threads)
    previous = {signum: signal.signal(signum, _request_stop(supervisor)) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        for slot in range(workers):
            _spawn(supervisor, slot)
        _supervise(supervisor)
    finally:
        _stop_all(supervisor)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _request_stop(supervisor: _Supervisor) -> Callable[[int, Any], None]:
    # Only a flag: an exception raised between fork() and recording the pid would orphan a worker.
    def handler(signum: int, frame: Any) -> None:
        supervisor.stop_signal = signum

    return handler


def _supervise(supervisor: _Supervisor) -> None:
    restart_at: list[tuple[float, int]] = []  # (when, slot)
    while supervisor.stop_signal is None:
        for pid, status in _reap(supervisor):
            lived = time.monotonic() - supervisor.started.pop(pid)
            slot = supervisor.slots.pop(pid)
            supervisor.quick_deaths = supervisor.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
            if supervisor.quick_deaths >= MAX_QUICK_DEATHS:
                _log(f"worker {pid} {_describe(status)} after {lived:.1f} s")
                raise WorkersKeepDying(
                    f"{supervisor.quick_deaths} workers in a row died within {QUICK_DEATH_SECONDS:.0f} s"
                    " of starting; giving up.")
            _log(f"worker {pid} {_describe(status)} after {lived:.1f} s; starting a replacement")
            restart_at.append((time.monotonic() + _backoff(supervisor.quick_deaths), slot))
        now = time.monotonic()
        for due in [due for due in restart_at if due[0] <= now]:
            restart_at.remove(due)
            _spawn(supervisor, due[1])
        time.sleep(POLL_SECONDS)


def _backoff(quick_deaths: int) -> float:
    """Seconds to wait before a replacement: none after a worker that ran for a while,
    then 0.2, 0.4, 0.8 ... while workers keep dying at start.

    >>> [_backoff(n) for n in range(5)]
    [0.0, 0.2, 0.4, 0.8, 1.6]
    """
    return 0.0 if quick_deaths == 0 else min(0.1 * 2 ** quick_deaths, 5.0)


def _reap(supervisor: _Supervisor) -> list[tuple[int, int]]:
    """(pid, wait status) of every worker that has exited since the last call."""
    ended = []
    while supervisor.started:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        if pid in supervisor.started:
            ended.append((pid, status))
    return ended


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _stop_all(supervisor: _Supervisor) -> None:
    """SIGTERM every worker, wait for them (bounded), then SIGKILL the rest."""
    for pid in supervisor.started:
        _kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while supervisor.started and time.monotonic() < deadline:
        for pid, _ in _reap(supervisor):
            supervisor.started.pop(pid)
        time.sleep(POLL_SECONDS / 5)
    for pid in list(supervisor.started):
        _log(f"worker {pid} did not stop within {STOP_TIMEOUT_SECONDS:.0f} s; killing it")
        _kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        supervisor.started.pop(pid)


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _spawn(supervisor: _Supervisor, slot: int) -> None:
    parent = os.getpid()
    sock = supervisor.socks[slot % len(supervisor.socks)]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _worker_main(supervisor, sock, parent)
    supervisor.started[pid] = time.monotonic()
    supervisor.slots[pid] = slot


def _worker_main(supervisor: _Supervisor, sock: socket.socket, parent: int) -> NoReturn:
    """A worker's whole life; never returns into the parent's code (click, the supervisor)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
        signal.signal(signal.SIGTERM, _exit_quietly)
        _die_with_parent()
        if os.getppid() != parent:  # the parent died before we asked to die with it
            os._exit(0)
        for other in supervisor.socks:
            if other is not sock:
                other.close()  # only the parent keeps the other workers' queues open
        code = run_waitress(supervisor.make_app(), sock, supervisor.threads)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _exit_quietly(signum: int, frame: Any) -> None:
    raise SystemExit(0)  # waitress's run() catches it and closes its threads and channels


def run_waitress(app: WsgiApp, sock: socket.socket, threads: int) -> int:
    """Serve ``app`` with waitress on this listening socket until stopped; raw UTF-8 in
    request lines is accepted (``Utf8RequestParser``)."""
    logging.basicConfig()  # as waitress.serve() does, so its warnings reach stderr
    server = waitress.server.create_server(app, sockets=[sock], threads=threads, ident="casearch")
    server.channel_class = Utf8Channel  # one socket: a TcpWSGIServer, which makes a channel per connection
    server.run()
    return 0


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when the parent dies; silently nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _log(message: str) -> None:
    print(f"casearch serve: {message}", file=sys.stderr, flush=True)
