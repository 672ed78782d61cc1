"""Measurements of casearch itself: reindex processes, index size, query latency.

    run_process        a child process timed from outside, with its peak memory: its
                       VmHWM and the sum of RSS over its process tree, both sampled from
                       /proc every 50 ms (see _TreeSampler for why not ru_maxrss)
    reindex            ``casearch reindex [--full] --engine E`` as that child process
    incremental        change one file (or a fraction of files), time ``casearch reindex``
    query_latency      ``Engine(index, E).search(validate_request({...}))`` in this
                       process, exactly what ``/api/search`` runs (search + snippets),
                       warm, per query class; also the ``took_ms`` the results report
    query_variants     the same with the n-gram and reading look-ups of the query parser
                       switched off (monkeypatched: there is no switch in the code yet) and
                       with ``cross=0`` when the request knows that parameter

Every casearch measurement takes the engine (``whoosh`` or ``tantivy``), default whoosh.
Nothing here asserts on time: the numbers go to the report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from baselines import percentile

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_ENGINE = "whoosh"


@dataclass
class ProcessRun:
    argv: list[str]
    seconds: float
    returncode: int
    maxrss_mb: float  # the process's own peak (VmHWM, sampled every 50 ms)
    tree_rss_mb: float  # sum over the process tree (sampled every 50 ms), at least maxrss_mb
    stdout: str
    stderr: str


def casearch_command() -> list[str]:
    """The console script beside this interpreter, else ``python -m casearch.cli``."""
    script = Path(sys.executable).parent / "casearch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "casearch.cli"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_kb(pid: int) -> int:
    """RSS of ``pid`` and all its descendants, in kB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _status_kb(current, "VmRSS:")
        todo += _children(current)
    return total


class _TreeSampler(threading.Thread):
    """Peak memory of a child, read from /proc while it runs.

    The kernel's ru_maxrss is no use here: a child started by (v)fork + exec inherits the
    parent's high-water mark, so it reports at least the benchmark's own size. VmHWM of
    the exec'd process is its own; the tree sum (sampled) covers worker processes."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.tree_kb, self.hwm_kb = pid, interval, 0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.hwm_kb = max(self.hwm_kb, _status_kb(self.pid, "VmHWM:"))
            self.tree_kb = max(self.tree_kb, tree_rss_kb(self.pid))


def run_process(argv: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> ProcessRun:
    """Run ``argv`` to the end; wall time, peak memory, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        # waitid with WNOWAIT: the child stays a zombie until the sampler has its last look
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        seconds = time.perf_counter() - started
        killer.cancel()
        sampler.stop.set()
        sampler.join()
        proc.wait()
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return ProcessRun(argv, seconds, proc.returncode, sampler.hwm_kb / 1024,
                      max(sampler.tree_kb, sampler.hwm_kb) / 1024, stdout, stderr)


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def reindex(corpus: Path, index: Path, full: bool, env: dict[str, str] | None = None,
            engine: str = DEFAULT_ENGINE) -> ProcessRun:
    argv = casearch_command() + ["reindex", "--corpus", str(corpus), "--index", str(index), "--engine", engine]
    run = run_process(argv + (["--full"] if full else []), env=env)
    if run.returncode not in (0, 1):  # 1: some files skipped, the rest is indexed
        raise RuntimeError(f"{' '.join(argv)} exited {run.returncode}:\n{run.stderr[-2000:]}")
    return run


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in Path(corpus).rglob("*") if p.suffix in (".md", ".txt") and p.is_file())


def pick_files(corpus: Path, count: int) -> list[Path]:
    """``count`` files spread evenly over the sorted corpus (deterministic)."""
    files = corpus_files(corpus)
    count = max(1, min(count, len(files)))
    step = len(files) / count
    return [files[int(i * step)] for i in range(count)]


def touch_content(files: list[Path], stamp: str) -> None:
    """Change each file's content (one paragraph appended), so its digest changes."""
    for path in files:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.rstrip("\n") + f"\n\nbenchmark edit {stamp} 変更\n", encoding="utf-8")


def incremental(corpus: Path, index: Path, files: list[Path], env: dict[str, str] | None = None,
                engine: str = DEFAULT_ENGINE) -> ProcessRun:
    """Edit ``files`` of this scratch corpus (a paragraph appended), then time the whole
    ``casearch reindex`` run that picks the edits up. The edits stay: the index and the
    corpus remain in step without a second run."""
    touch_content(files, f"{time.time_ns()}")
    return reindex(corpus, index, full=False, env=env, engine=engine)


def reported_passages(run: ProcessRun) -> int | None:
    """P from the ``...; P passages; T s`` summary line."""
    for part in run.stdout.strip().splitlines()[-1:][0].split(";") if run.stdout.strip() else []:
        words = part.split()
        if len(words) == 2 and words[1] == "passages" and words[0].isdigit():
            return int(words[0])
    return None


# --- queries -----------------------------------------------------------------------


@dataclass
class Latency:
    runs: int = 0
    queries: int = 0
    ms: dict[int, float] = field(default_factory=dict)  # percentile -> ms
    per_class: dict[str, dict[int, float]] = field(default_factory=dict)
    took_ms: dict[int, float] = field(default_factory=dict)  # percentile -> the results' own took_ms
    with_hits: int = 0
    errors: int = 0
    mean_total: float = 0.0


def _percentiles(values: list[float]) -> dict[int, float]:
    ordered = sorted(values)
    return {p: percentile(ordered, p) for p in (50, 95, 99)} if ordered else {}


def _search_once(engine, params: dict) -> tuple[float, object]:
    from casearch.errors import QueryError
    from casearch.search import validate_request

    started = time.perf_counter()
    try:
        result = engine.search(validate_request(params))
        result.to_json()  # the endpoint serializes it too
    except QueryError as exc:  # query_too_complex: timed as an answer, and counted
        result = exc
    return (time.perf_counter() - started) * 1000, result


def _latency(per_class: dict[str, list[float]], outcome: list, queries: int, took: list[float] | None = None) -> Latency:
    everything = [ms for values in per_class.values() for ms in values]
    ok = [r for r in outcome if not isinstance(r, Exception)]
    return Latency(
        runs=len(everything), queries=queries, ms=_percentiles(everything),
        per_class={cls: _percentiles(v) for cls, v in per_class.items()}, took_ms=_percentiles(took or []),
        with_hits=sum(1 for r in ok if r.total), errors=len(outcome) - len(ok),
        mean_total=sum(r.total for r in ok) / max(1, len(ok)),
    )


def interleave_classes(queries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Round-robin over the classes, so that any prefix of the list is balanced.

    >>> interleave_classes([("a", "1"), ("a", "2"), ("b", "3")])
    [('a', '1'), ('b', '3'), ('a', '2')]
    """
    by_class: dict[str, list[tuple[str, str]]] = {}
    for item in queries:
        by_class.setdefault(item[0], []).append(item)
    columns = list(by_class.values())
    return [c[i] for i in range(max(map(len, columns), default=0)) for c in columns if i < len(c)]


def query_latency(index: Path, queries: list[tuple[str, str]], runs: int, extra: dict | None = None,
                  warm: int = 50, engine_name: str = DEFAULT_ENGINE) -> Latency:
    """Warm latency of ``runs`` searches cycling through ``queries`` (classes interleaved),
    as /api/search does it; the first ``warm`` queries run once untimed before."""
    from casearch.search import Engine

    engine = Engine(index, engine_name)
    params = [(cls, {"q": q, **(extra or {})}) for cls, q in interleave_classes(queries)]
    for _, p in params[:warm]:
        _search_once(engine, p)
    per_class: dict[str, list[float]] = {}
    outcome, took = [], []
    for i in range(runs):
        cls, p = params[i % len(params)]
        ms, result = _search_once(engine, p)
        per_class.setdefault(cls, []).append(ms)
        if not isinstance(result, Exception):
            took.append(result.took_ms)
        if i < len(params):
            outcome.append(result)
    return _latency(per_class, outcome, len(params), took)


def supports_cross() -> bool:
    from casearch import search

    return "cross" in getattr(search.SearchRequest, "__dataclass_fields__", {})


@contextmanager
def _switched_off(builder, names: tuple[str, ...]) -> Iterator[None]:
    saved = {n: builder.__dict__[n] for n in names}
    for n in names:
        setattr(builder, n, lambda self, *a, **k: None)
    try:
        yield
    finally:
        for n, f in saved.items():
            setattr(builder, n, f)


def query_variants(index: Path, queries: list[tuple[str, str]], runs: int, warm: int = 50,
                   engine_name: str = DEFAULT_ENGINE) -> dict[str, Latency | str]:
    """Latency with the optional extras switched off, interleaved query by query with the
    default configuration so that load from other processes hits all of them alike.

    The parser's n-gram and reading look-ups have no switch: they are monkeypatched
    off here. ``cross=0`` is sent when the request knows the parameter."""
    from casearch import querylang
    from casearch.search import Engine

    engine = Engine(index, engine_name)
    queries = interleave_classes(queries)
    builder = getattr(querylang, "_Builder", None)
    look_ups = ("_reading_alternative", "_ngram_alternative")
    configs: dict[str, tuple[tuple[str, ...], dict]] = {"all on": ((), {})}
    notes: dict[str, str] = {}
    if builder is not None and all(n in builder.__dict__ for n in look_ups):
        configs["without n-gram and reading look-ups"] = (look_ups, {})
    else:
        look_ups = ()
        notes["without n-gram and reading look-ups"] = "n/a: the query parser has no such look-ups"
    if supports_cross():
        configs["cross=0"] = ((), {"cross": "0"})
        if look_ups:
            configs["cross=0, without n-gram and reading"] = (look_ups, {"cross": "0"})
    else:
        notes["cross=0"] = "n/a: cross-lingual expansion is not in the search path yet (no cross parameter)"
    timings: dict[str, dict[str, list[float]]] = {name: {} for name in configs}
    outcomes: dict[str, list] = {name: [] for name in configs}
    for i in range(-min(warm, len(queries)), runs):
        cls, q = queries[i % len(queries)]
        for name, (off, extra) in configs.items():
            with _switched_off(builder, off):
                ms, result = _search_once(engine, {"q": q, **extra})
            if i >= 0:  # negative i: warm-up, untimed
                timings[name].setdefault(cls, []).append(ms)
                if i < len(queries):
                    outcomes[name].append(result)
    results: dict[str, Latency | str] = {n: _latency(timings[n], outcomes[n], len(queries)) for n in configs}
    results.update(notes)
    return results


def lean_reindex(corpus: Path, index: Path, env: dict[str, str] | None = None,
                 engine: str = DEFAULT_ENGINE) -> ProcessRun | str:
    """Full reindex without the extra body fields (surface, reading, n-gram): their cost."""
    argv = [sys.executable, str(BENCH_DIR / "variants.py"), "reindex-lean", str(corpus), str(index), engine]
    run = run_process(argv, env=env)
    if run.returncode not in (0, 1):
        return f"n/a: lean reindex failed ({run.stderr.strip().splitlines()[-1:] or run.returncode})"
    return run


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
