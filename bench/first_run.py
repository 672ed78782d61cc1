"""Time from ``make serve`` to the first answered search on a fresh clone, installs excluded.

    python bench/first_run.py [--repo PATH] [--rev REV] [--workers 2] [--runs 1]
                              [--skip-install-steps] [--home-cache] [--json] [--verbose]

Run it with the interpreter of an environment that has casearch's dependencies (the
project's ``.venv/bin/python``): the clone's own code is what runs, on that interpreter.

Steps, each in processes of its own:

1. ``git clone`` REPO (default: the repository holding this script) into a temporary
   folder and check out REV (default: REPO's ``HEAD``; committed work only). Not timed.
2. The install step, *excluded* from the first-answer time and reported apart. No venv is
   made and nothing is installed: the clone runs on this interpreter with
   ``PYTHONPATH=<clone>/src``. What ``make`` does after ``pip install`` is run as the
   clone's own Makefile says: the recipe of ``$(VENV)/.installed`` without its ``pip``
   and ``touch`` lines, ``$(BIN)/python`` and ``$(BIN)/casearch`` meaning this
   interpreter (today: compiling ``src/`` to bytecode, then ``casearch prepare``; a
   commit from before those steps has none, and serve's first reindex then builds the
   dictionary index: ``--rev`` of such a commit gives the "before" figure). HOME is a
   temporary folder, so the cache (``~/.cache/casearch``) is empty and ``casearch
   prepare`` is the one-time dictionary build of a fresh machine: its figure is the
   process's wall time and the build time it prints. ``--skip-install-steps`` skips
   them; ``--home-cache`` keeps your HOME and its cache instead (usually already built:
   quick, and not a fresh-machine figure).
3. Timed, the figure: ``casearch serve --workers N`` (``make serve``'s command; N=2 as
   there) on a free 127.0.0.1 port with no index, polled with ``GET
   /api/search?q=パイプライン`` every 20 ms until a 200 with hits. *Included*: the
   interpreter's start, the imports (compiling the clone's modules to bytecode, as a first
   run on a user's machine does when the install did not: PYTHONDONTWRITEBYTECODE is
   dropped), the reindex of
   ``corpus/``, starting the app and the workers, the first search. Serve's stderr lines
   are time-stamped as they arrive, which splits the figure: until "Building the index"
   (start and imports), the reindex summary line's own time, until "serving on", until the
   first answer.
4. Baselines of the same run: (a) the same start again on the same clone, index present
   and bytecode compiled (a second start); (b) the fugashi floor: a new process that
   imports fugashi, loads unidic-lite's dictionary and tokenizes every line of
   ``corpus/``, reading the features casearch indexes -- the least any Japanese indexing
   of this corpus costs in a new process; (c) ``python -c pass``, the interpreter's start.

The machine's load average is printed before and after: on a shared machine, read the
ratios rather than the seconds. Nothing here asserts on time ("speed is measured, not
asserted"); the figures are printed, with ``--json`` as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERY = "パイプライン"
SUMMARY = re.compile(r"^added \d+, updated \d+, removed \d+, skipped \d+; (\d+) passages; ([\d.]+) s$")
BUILT = re.compile(r"dictionary look-up index built in ([\d.]+) s: (\S+) \(([\d.]+) MB\)")
POLL_SECONDS = 0.02
DEADLINE_SECONDS = 600

_FLOOR = r"""
import json, sys, time
from pathlib import Path
began = time.perf_counter()
import fugashi
tagger = fugashi.Tagger()
loaded = time.perf_counter()
lines = [line for path in sorted(Path(sys.argv[1]).rglob("*")) if path.suffix in (".md", ".txt")
         for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
tokens = 0
for line in lines:
    for node in tagger(line):
        feature = node.feature
        _ = (node.surface, feature.lemma, feature.kana, feature.pos1)
        tokens += 1
done = time.perf_counter()
print(json.dumps({"load": loaded - began, "tokenize": done - loaded, "tokens": tokens,
                  "chars": sum(map(len, lines))}))
"""


@dataclass
class Start:
    """One ``casearch serve`` from its start to the first answer."""

    seconds: float  # to the first 200 with hits
    imports: float | None  # to the "Building the index" line (None: the index was there)
    reindex: float | None  # the summary line's own figure
    serving: float | None  # to the "serving on" line
    passages: int | None
    dictionary_build: float | None  # a build inside the reindex (no prepare)
    total_hits: int
    stderr: list[str] = field(default_factory=list)


@dataclass
class InstallStep:
    """One line of the clone's install recipe, as run here."""

    command: str
    wall: float
    returncode: int
    built: float | None  # the dictionary build time it printed (casearch prepare)
    megabytes: float | None
    output: str


def clone(repo: Path, rev: str | None, into: Path) -> tuple[Path, str]:
    """A clone of ``repo`` at ``rev`` (default its HEAD) and the commit checked out."""
    commit = rev or "HEAD"
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    target = into / "clone"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "--quiet", commit], check=True)
    return target, commit


def environment(checkout: Path, home: Path | None) -> dict[str, str]:
    """The clone's code on this interpreter, as a user's machine runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEARCH_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(checkout / "src")
    if home is not None:
        env["HOME"] = str(home)
    return env


def casearch(*args: str) -> list[str]:
    return [sys.executable, "-m", "casearch.cli", *args]


def install_steps(checkout: Path, env: dict[str, str]) -> list[InstallStep]:
    """The clone's ``$(VENV)/.installed`` recipe after ``pip install``, on this
    interpreter: what ``make`` runs before ``casearch serve`` on a fresh clone."""
    makefile = (checkout / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next((n for n, line in enumerate(makefile) if line.startswith("$(VENV)/.installed:")), None)
    if start is None:
        return []
    recipe = []
    for line in makefile[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    steps = []
    for line in recipe:
        if "pip install" in line or line.startswith("touch "):
            continue
        command = line.replace("$(BIN)/casearch", f"{sys.executable} -m casearch.cli")
        command = command.replace("$(BIN)/python", sys.executable)
        began = time.perf_counter()
        done = subprocess.run(command, shell=True, cwd=checkout, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
        found = BUILT.search(done.stdout)
        steps.append(InstallStep(
            line, wall, done.returncode, float(found.group(1)) if found else None,
            float(found.group(3)) if found else None, (done.stdout + done.stderr).strip(),
        ))
    return steps


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_answer(checkout: Path, env: dict[str, str], workers: int) -> Start:
    """Start ``casearch serve`` and poll the JSON endpoint until it answers with hits."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": QUERY})
    command = casearch("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    lines: list[tuple[float, str]] = []
    began = time.perf_counter()
    server = subprocess.Popen(
        command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )

    def read() -> None:
        for line in server.stderr:
            lines.append((time.perf_counter() - began, line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        hits = _poll(url, server, began)
        seconds = time.perf_counter() - began
    finally:
        _stop(server)
        reader.join(timeout=5)
    return _start_of(seconds, hits, lines)


def _poll(url: str, server: subprocess.Popen, began: float) -> int:
    while time.perf_counter() - began < DEADLINE_SECONDS:
        if server.poll() is not None:
            raise RuntimeError(f"casearch serve exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    total = json.load(response)["total"]
                    if total > 0:
                        return total
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"no answer within {DEADLINE_SECONDS} s")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (the parent and its workers)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        pass


def _start_of(seconds: float, hits: int, lines: list[tuple[float, str]]) -> Start:
    def when(prefix: str) -> float | None:
        return next((t for t, line in lines if line.startswith(prefix)), None)

    summary = next((SUMMARY.match(line) for _, line in lines if SUMMARY.match(line)), None)
    built = next((BUILT.search(line) for _, line in lines if BUILT.search(line)), None)
    return Start(
        seconds=seconds, imports=when("Building the index"),
        reindex=float(summary.group(2)) if summary else None, serving=when("casearch serving on"),
        passages=int(summary.group(1)) if summary else None,
        dictionary_build=float(built.group(1)) if built else None, total_hits=hits,
        stderr=[f"{t:7.2f} s  {line}" for t, line in lines],
    )


def fugashi_floor(checkout: Path, env: dict[str, str]) -> dict:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _FLOOR, str(checkout / "corpus")], env=env, capture_output=True, text=True,
        check=True,
    )
    return {**json.loads(done.stdout), "wall": time.perf_counter() - began}


def interpreter_start(env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - began


def measure(args: argparse.Namespace) -> dict:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="casearch-first-run-") as scratch:
        scratch_dir = Path(scratch)
        home = None if args.home_cache else scratch_dir / "home"
        if home is not None:
            home.mkdir()
        starts: list[Start] = []
        seconds_again: list[float] = []
        installed: list[InstallStep] = []
        commit = ""
        for run in range(args.runs):
            run_dir = scratch_dir / f"run-{run}"
            run_dir.mkdir()
            checkout, commit = clone(args.repo, args.rev, run_dir)
            env = environment(checkout, home)
            if not args.skip_install_steps:  # every clone gets its bytecode; the cache is shared
                steps = install_steps(checkout, env)
                installed = installed or steps
            starts.append(first_answer(checkout, env, args.workers))
            seconds_again.append(first_answer(checkout, env, args.workers).seconds)
            if run < args.runs - 1:
                shutil.rmtree(run_dir, ignore_errors=True)
        floor = fugashi_floor(checkout, env)
        python = interpreter_start(env)
    return {
        "repo": str(args.repo), "commit": commit, "workers": args.workers, "runs": args.runs,
        "cache": "your HOME's" if args.home_cache else "empty (a temporary HOME)",
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "install_steps": [asdict(step) for step in installed],
        "first_starts": [asdict(s) for s in starts],
        "second_starts": seconds_again,
        "fugashi_floor": floor, "python_start": python,
    }


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.1f}x" if value is not None and base else "n/a"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def report(figures: dict) -> list[str]:
    starts = figures["first_starts"]
    first = statistics.median(s["seconds"] for s in starts)
    again = statistics.median(figures["second_starts"])
    reindex = [s["reindex"] for s in starts if s["reindex"] is not None]
    reindex_median = statistics.median(reindex) if reindex else None
    floor = figures["fugashi_floor"]
    floor_seconds = floor["load"] + floor["tokenize"]
    load = figures["load_average"]
    lines = [
        (f"first run of {figures['repo']} at {figures['commit'][:10]}, serve --workers {figures['workers']},"
         f" {figures['runs']} run(s), cache {figures['cache']}"),
        f"load average before {load['before'][0]:.2f}, after {load['after'][0]:.2f} (2 cores are shared: read ratios)",
    ]
    if not figures["install_steps"]:
        lines.append("install step: nothing run after pip install (none in the Makefile, or skipped)")
    for step in figures["install_steps"]:
        what = f"install step (excluded below): {step['command']}: {_s(step['wall'])} wall"
        if step["returncode"] != 0:
            what += f", failed ({step['returncode']}): {step['output'][-200:]}"
        elif step["built"] is not None:
            what += f"; dictionary build {_s(step['built'])}, {step['megabytes']} MB, empty cache"
        elif "prepare" in step["command"]:
            what += f"; {step['output'][-120:]}"
        lines.append(what)
    lines += [
        f"seconds to first answer (GET /api/search?q={QUERY}), no index: {first:.2f} s"
        + ("" if len(starts) == 1 else f" (median of {[round(s['seconds'], 2) for s in starts]})"),
        (f"  reindex summary line's time: {_s(reindex_median)}"
         f" = {_ratio(reindex_median, floor_seconds)} the fugashi floor"),
    ]
    one = starts[len(starts) // 2]
    lines += [
        (f"  split of one start: imports until 'Building the index' {_s(one['imports'])}, 'serving on' at"
         f" {_s(one['serving'])}, first answer at {_s(one['seconds'])}"),
    ]
    builds = [s["dictionary_build"] for s in starts if s["dictionary_build"] is not None]
    if builds:
        lines.append(f"  of which the dictionary build inside the reindex: {_s(statistics.median(builds))}")
    lines += [
        f"second start, index present: {again:.2f} s to first answer; first / second = {_ratio(first, again)}",
        (f"fugashi floor (new process: dictionary load {floor['load']:.2f} s + tokenizing {floor['chars']:,}"
         f" characters {floor['tokenize']:.2f} s): {floor_seconds:.2f} s ({floor['wall']:.2f} s wall)"),
        f"python -c pass: {figures['python_start']:.2f} s",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="repository to clone (default: this one)")
    parser.add_argument("--rev", default=None, help="commit to check out (default: the repository's HEAD)")
    parser.add_argument("--workers", type=int, default=2, help="serve --workers (make serve's default: 2)")
    parser.add_argument("--runs", type=int, default=1, help="fresh clones measured (medians are printed)")
    parser.add_argument("--skip-install-steps", action="store_true",
                        help="run nothing of the Makefile's install recipe (serve then builds the dictionary index)")
    parser.add_argument("--home-cache", action="store_true", help="use your HOME's cache, not an empty one")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--verbose", action="store_true", help="also print serve's time-stamped stderr")
    args = parser.parse_args(argv)
    figures = measure(args)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0
    for line in report(figures):
        print(line)
    if args.verbose:
        for start in figures["first_starts"]:
            print("\n".join(start["stderr"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
