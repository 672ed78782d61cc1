"""The casearch benchmark, end to end: ``make bench`` or ``python bench/run.py``.

    corpus      bench/data/corpus (make_corpus.py builds it when missing; apt-get)
    queries     CORPUS/../queries.tsv (baselines.make_queries when missing)
    baselines   (a) fugashi floor and -Owakati, (b) SQLite FTS5 build + query latency
    per scale   1/8 ... 4x of the corpus (growth.scaled_corpus), and per engine
                (``--engines whoosh,tantivy``, one after the other on a fresh copy of
                the scaled corpus): full reindex (process, peak memory), index size,
                incremental reindex of 1 file and of 1% of files, query latency
                (Engine.search, warm), /api/search under load on a real ``casearch serve``
    scale 1     also: the cost of the optional query look-ups and extra index fields
    report      the engines side by side with the baselines (report.engine_table), then
                each engine's own tables (report.py), on stdout and in --md-out; raw
                figures in --json-out

``--limit N`` builds a corpus of N pages per language and runs short (about 5 minutes on
2 shared cores).
``--snapshot HEAD`` (or ``worktree``) measures a frozen copy of the code in the work
folder, so that edits made by other people during a long run do not mix in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from fractions import Fraction
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import baselines  # noqa: E402
import growth  # noqa: E402
import http_load  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402

PACKAGES = ("casearch", "whoosh-reloaded", "tantivy", "fugashi", "unidic-lite", "flask", "waitress", "jamdict-data")


DEFAULT_ENGINES = ("whoosh", "tantivy")


def parse_engines(text: str) -> list[str]:
    """``"whoosh,tantivy"`` -> the names, checked, in the order given.

    >>> parse_engines("tantivy, whoosh")
    ['tantivy', 'whoosh']
    """
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in DEFAULT_ENGINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"engines are {', '.join(DEFAULT_ENGINES)}; got {text!r}")
    return list(dict.fromkeys(names))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="casearch benchmark (issue 5)")
    p.add_argument("--limit", type=int, help="pages per language: a small, quick run")
    p.add_argument("--corpus", type=Path, help="corpus folder (default bench/data/corpus)")
    p.add_argument("--queries", type=Path, help="query set (default CORPUS/../queries.tsv)")
    p.add_argument("--runs", type=int, help="timed query runs at scale 1 (default 2000; --limit: 200)")
    p.add_argument("--growth-runs", type=int, help="timed query runs at other scales (default 200; --limit: 100)")
    p.add_argument("--scales", help="corpus scales (default 1/8,1/4,1/2,1,2,4; --limit: 1/2,1)")
    p.add_argument("--http-seconds", type=float, help="load duration at scale 1 (default 20; --limit 3)")
    p.add_argument("--growth-http-seconds", type=float, help="load duration at other scales (default 8)")
    p.add_argument("--load", choices=("auto", "wrk", "python", "none"), default="auto")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="`casearch serve --workers N` under load (default: 2, or 1 on one core); "
                        "at scale 1 one worker is measured too")
    p.add_argument("--no-variants", action="store_true", help="skip the feature-cost measurements")
    p.add_argument("--variant-runs", type=int, help="timed runs per configuration (default 200)")
    p.add_argument("--query-subset", type=int, help="use only the first N queries of each class")
    p.add_argument("--work", type=Path, default=BENCH_DIR / "data" / "work", help="scaled corpora and indexes")
    p.add_argument("--json-out", type=Path, default=BENCH_DIR / "data" / "last-run.json")
    p.add_argument("--md-out", type=Path, default=BENCH_DIR / "data" / "last-run.md")
    p.add_argument("--snapshot", metavar="REV", help="measure a frozen copy: git REV (e.g. HEAD) or 'worktree'")
    p.add_argument("--skip-install", action="store_true", help="make_corpus.py: no apt-get")
    p.add_argument("--engines", type=parse_engines, default=None,
                   help="engines to measure, comma-separated (default: whoosh,tantivy; "
                        "an engine that is not installed is left out with a warning)")
    args = p.parse_args(argv)
    args.engines_given = args.engines is not None
    args.engines = args.engines or list(DEFAULT_ENGINES)
    small = args.limit is not None
    args.runs = args.runs or (200 if small else 2000)
    args.growth_runs = args.growth_runs or (100 if small else 200)
    args.variant_runs = args.variant_runs or (100 if small else 200)
    args.query_subset = args.query_subset or (25 if small else None)
    args.scales = growth.parse_scales(args.scales or ("1/2,1" if small else ",".join(growth.DEFAULT_SCALES)))
    args.http_seconds = args.http_seconds or (3.0 if small else 20.0)
    args.growth_http_seconds = args.growth_http_seconds or (2.0 if small else 8.0)
    if args.corpus is None:
        args.corpus = BENCH_DIR / "data" / (f"limit-{args.limit}/corpus" if small else "corpus")
    return args


# --- set-up -----------------------------------------------------------------------


def ensure_corpus(args: argparse.Namespace) -> None:
    if args.corpus.is_dir() and any(args.corpus.rglob("*.md")):
        return
    import make_corpus

    log(f"building the corpus in {args.corpus} (make_corpus.py)")
    extra = ["--limit", str(args.limit)] if args.limit else []
    make_corpus.main(["--out", str(args.corpus), *extra, *(["--skip-install"] if args.skip_install else [])])


def ensure_queries(args: argparse.Namespace) -> list[tuple[str, str]]:
    path = args.queries or args.corpus.resolve().parent / "queries.tsv"
    if not path.exists():
        log(f"writing the query set {path}")
        baselines.write_queries(path, baselines.make_queries(args.corpus))
    queries = baselines.read_queries(path)
    if args.query_subset:
        per_class: dict[str, int] = {}
        kept = []
        for cls, q in queries:
            per_class[cls] = per_class.get(cls, 0) + 1
            if per_class[cls] <= args.query_subset:
                kept.append((cls, q))
        queries = kept
    return queries


def snapshot_env(rev: str, work: Path) -> tuple[dict[str, str], str]:
    """Environment whose PYTHONPATH puts a frozen copy of src/ first, and what it is.

    ``worktree`` copies the working tree as it is now; anything else is a git revision
    (``git archive``)."""
    if rev == "worktree":
        label = f"worktree-{time.strftime('%Y%m%d%H%M%S')}"
        target = work / f"src-{label}"
        shutil.rmtree(target, ignore_errors=True)
        for part in ("src", "templates"):
            shutil.copytree(REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        return {**os.environ, "PYTHONPATH": str(target / "src")}, label
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", rev], capture_output=True, text=True,
                            check=True).stdout.strip()
    target = work / f"src-{commit[:12]}"
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src", "templates"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return {**os.environ, "PYTHONPATH": str(target / "src")}, commit


def code_state() -> dict[str, str]:
    def git(*a: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    import casearch

    return {"commit": git("rev-parse", "HEAD"), "src_dirty": bool(git("status", "--porcelain", "--", "src")),
            "casearch_from": str(Path(casearch.__file__).parent)}


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(mem_kb / 1024**2, 1),
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions,
            "wrk": shutil.which("wrk") is not None}


# --- measuring --------------------------------------------------------------------


def scale_label(scale: Fraction) -> str:
    return f"{scale.numerator}/{scale.denominator}" if scale < 1 else f"{scale.numerator}×"


def scale_folder(args: argparse.Namespace, scale: Fraction, engine: str) -> Path:
    label = scale_label(scale).replace("/", "_").replace("×", "x")
    return args.work / f"scale-{label}" / engine


def measure_reindex(point: dict, corpus: Path, index: Path, env, engine: str) -> None:
    """Full, no-op and incremental reindex runs of one engine, into ``point``."""
    full = measure.reindex(corpus, index, full=True, env=env, engine=engine)
    point.update(reindex_s=full.seconds, reindex_rss_mb=full.maxrss_mb, reindex_tree_rss_mb=full.tree_rss_mb,
                 passages=measure.reported_passages(full), index_mb=measure.dir_size_mb(index))
    log(f"{point['scale_label']} {engine}: reindex {full.seconds:.1f} s; incremental runs")
    point["noop_s"] = measure.reindex(corpus, index, full=False, env=env, engine=engine).seconds
    point["incr1_s"] = measure.incremental(corpus, index, measure.pick_files(corpus, 1), env, engine).seconds
    pct = measure.pick_files(corpus, round(point["documents"] / 100))
    point.update(incr_pct_files=len(pct), incr_pct_s=measure.incremental(corpus, index, pct, env, engine).seconds)


def measure_http(args, point: dict, corpus: Path, index: Path, queries, env, engine: str) -> None:
    """/api/search under load on ``casearch serve --engine``, into ``point``; a failure is
    recorded and the other figures kept."""
    main_point = point["scale"] == 1
    seconds = args.http_seconds if main_point else args.growth_http_seconds
    log(f"{point['scale_label']} {engine}: /api/search load for {seconds:.0f} s")
    try:
        http = http_load.http_throughput(corpus, index, queries, seconds, args.load, env=env,
                                         workers=args.workers, engine=engine)
        if main_point and args.workers > 1:
            log(f"{point['scale_label']} {engine}: the same load on one worker process")
            point["http_single"] = http_load.http_throughput(corpus, index, queries, seconds, args.load, env=env,
                                                             engine=engine)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        log(f"{point['scale_label']} {engine}: HTTP load failed: {exc!r}")
        point["http_error"] = repr(exc)
    else:
        point.update(http=http, rps=http["rps"], http_p99_ms=float(http["ms"]["99"]))


def measure_point(args, source: Path, scale: Fraction, queries, env, engine: str) -> tuple[dict, Path, Path]:
    """Every figure of one engine at one corpus scale, on its own copy of the corpus (the
    incremental runs edit it)."""
    label = scale_label(scale)
    folder = scale_folder(args, scale, engine)
    corpus, index = folder / "corpus", folder / "index"
    log(f"{label} {engine}: writing the corpus")
    growth.scaled_corpus(source, scale, corpus)
    measure.remove_tree(index)
    point = {"scale": float(scale), "scale_label": label, "engine": engine, **growth.corpus_stats(corpus),
             "corpus_mb": measure.dir_size_mb(corpus), "load_before": os.getloadavg()[0]}
    log(f"{label} {engine}: {point['documents']} documents, full reindex")
    measure_reindex(point, corpus, index, env, engine)
    runs = args.runs if scale == 1 else args.growth_runs
    log(f"{label} {engine}: {runs} timed queries")
    latency = measure.query_latency(index, queries, runs, engine_name=engine)
    point["query"] = asdict(latency)
    point.update(p50_ms=latency.ms.get(50), p99_ms=latency.ms.get(99),
                 took_p50_ms=latency.took_ms.get(50), took_p99_ms=latency.took_ms.get(99))
    if args.load != "none":
        measure_http(args, point, corpus, index, queries, env, engine)
    point["load_after"] = os.getloadavg()[0]
    return point, corpus, index


def measure_variants(args, corpus: Path, index: Path, queries, env, engine: str) -> tuple[dict, dict | str]:
    log(f"feature costs, {engine}: query variants")
    variants = measure.query_variants(index, queries, args.variant_runs, engine_name=engine)
    variants = {k: (asdict(v) if not isinstance(v, str) else v) for k, v in variants.items()}
    log(f"feature costs, {engine}: lean reindex")
    lean_index = index.parent / "index-lean"
    measure.remove_tree(lean_index)
    lean = measure.lean_reindex(corpus, lean_index, env, engine)
    if not isinstance(lean, str):
        lean = {"seconds": lean.seconds, "tree_rss_mb": lean.tree_rss_mb, "index_mb": measure.dir_size_mb(lean_index)}
    measure.remove_tree(lean_index)
    return variants, lean


def usable_engines(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The engines to measure and those left out (not installed). Asking for an engine by
    name that is not installed is an error; the default leaves it out."""
    from casearch import engines

    missing = [name for name in args.engines if not engines.available(name)]
    if missing and args.engines_given:
        sys.exit(f"not installed: {', '.join(missing)} (pip install 'casearch[tantivy]')")
    for name in missing:
        log(f"the {name} engine is not installed: left out (pip install 'casearch[tantivy]')")
    return [name for name in args.engines if name not in missing], missing


def measure_engines(args, queries, env, names: list[str], results: dict) -> dict[str, dict]:
    """Per engine: its points at every scale, feature costs at scale 1, growth. The
    engines take turns at each scale so that outside load falls on them alike."""
    measured: dict[str, dict] = {name: {"points": [], "variants": None, "lean": None} for name in names}
    for scale in args.scales:
        for name in names:
            point, corpus, index = measure_point(args, args.corpus, scale, queries, env, name)
            measured[name]["points"].append(point)
            if scale == 1 and not args.no_variants:
                measured[name]["variants"], measured[name]["lean"] = measure_variants(args, corpus, index, queries, env, name)
            if scale != 1:
                measure.remove_tree(index.parent)
        partial = args.json_out.with_suffix(".partial.json")  # a long run keeps what it has
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({**results, "engines": measured}, indent=1, default=str), encoding="utf-8")
    for entry in measured.values():
        entry["growth"] = growth.growth_summary(entry["points"], report.GROWTH_FIGURES, report.GROWTH_THRESHOLDS)
    return measured


def run(args: argparse.Namespace) -> dict:
    env = None
    state = code_state()
    frozen = os.environ.get("CASEARCH_BENCH_SNAPSHOT")
    if args.snapshot and not frozen:  # re-run this process on the frozen copy
        env, label = snapshot_env(args.snapshot, args.work)
        env["CASEARCH_BENCH_SNAPSHOT"] = label
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    if frozen:
        env = dict(os.environ)
        state.update(snapshot=frozen)
    names, missing = usable_engines(args)
    ensure_corpus(args)
    queries = ensure_queries(args)
    started = datetime.now(timezone.utc)
    results: dict = {"date": started.isoformat(timespec="seconds"), "machine": machine(), "code": state,
                     "load_start": os.getloadavg(), "corpus": str(args.corpus), "queries": len(queries),
                     "engine_names": names, "engines_left_out": missing}
    docs = baselines.read_corpus(args.corpus)
    texts = [d.body for d in docs]
    log(f"baselines on {len(docs)} documents: fugashi floor, wakati, FTS5")
    results["baselines"] = {"floor": baselines.fugashi_floor(texts), "wakati": baselines.wakati_floor(texts),
                            "fts": baselines.fts5_baseline(texts, queries, args.runs)}
    results["engines"] = measure_engines(args, queries, env, names, results)
    results["load_end"] = os.getloadavg()
    results["seconds"] = (datetime.now(timezone.utc) - started).total_seconds()
    return results


def engine_sections(name: str, measured: dict, base: dict) -> list[str]:
    """One engine's own tables: figures at scale 1, latency per class, feature costs, growth."""
    point = next(p for p in measured["points"] if p["scale"] == 1)
    parts = [f"## {name}: figures (scale 1: the whole corpus)", "",
             report.main_table(point, base, measured.get("variants"), measured["growth"]),
             "", f"### {name}: query latency per class (ms)", "", report.class_table(point, base)]
    if measured.get("variants"):
        parts += ["", f"### {name}: cost of the optional look-ups and fields", "",
                  report.variant_table(measured["variants"], measured.get("lean"), point)]
    parts += ["", f"### {name}: growth", "", report.growth_table(measured["points"], measured["growth"])]
    return parts


def render(results: dict) -> str:
    names = results["engine_names"]
    first = results["engines"][names[0]]
    point = next(p for p in first["points"] if p["scale"] == 1)
    m = results["machine"]
    fts = results["baselines"]["fts"]
    hits = ", ".join(f"{n} {next(p for p in results['engines'][n]['points'] if p['scale'] == 1)['query']['with_hits']}"
                     for n in names)
    parts = [
        f"casearch benchmark, {results['date']}: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, "
        f"Python {m['python']}; load average {results['load_start'][0]:.2f} at start, "
        f"{results['load_end'][0]:.2f} at end; {results['seconds'] / 60:.1f} min",
        f"Corpus {results['corpus']}: {point['documents']:,} documents, {point['chars']:,} characters, "
        f"{point.get('passages') or 0:,} passages; {results['queries']} queries (with hits: {hits}; "
        f"{point['query']['errors']} refused; FTS5: {fts['with_hits']} with hits)",
    ]
    if results.get("engines_left_out"):
        parts.append(f"Not installed, left out: {', '.join(results['engines_left_out'])}")
    scale_one = {n: next(p for p in results["engines"][n]["points"] if p["scale"] == 1) for n in names}
    parts += ["", "## Engines side by side (scale 1)", "", report.engine_table(scale_one, results["baselines"])]
    for name in names:
        parts += [""] + engine_sections(name, results["engines"][name], results["baselines"])
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    text = render(results)
    print(text)
    for path, body in ((args.md_out, text), (args.json_out, json.dumps(results, indent=1, default=str))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    log(f"written {args.md_out} and {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
