"""The casearch benchmark, end to end: ``make bench`` or ``python bench/run.py``.

    corpus      bench/data/corpus (make_corpus.py builds it when missing; apt-get)
    queries     CORPUS/../queries.tsv (baselines.make_queries when missing)
    baselines   (a) fugashi floor and -Owakati, (b) SQLite FTS5 build + query latency
    per scale   1/8 ... 4x of the corpus (growth.scaled_corpus), each:
                full reindex (process, peak memory), index size, incremental reindex
                of 1 file and of 1% of files, query latency (Engine.search, warm),
                /api/search under load on a real ``casearch serve``
    scale 1     also: the cost of the optional query look-ups and extra index fields
    report      markdown tables (report.py) on stdout and in --md-out; raw figures in
                --json-out

``--limit N`` builds a corpus of N pages per language and runs short (< 2 minutes).
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

PACKAGES = ("casearch", "whoosh-reloaded", "fugashi", "unidic-lite", "flask", "waitress", "jamdict-data")


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
    args = p.parse_args(argv)
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


def measure_point(args, source: Path, scale: Fraction, queries, env) -> tuple[dict, Path, Path]:
    label = scale_label(scale)
    folder = args.work / f"scale-{label.replace('/', '_').replace('×', 'x')}"
    corpus, index = folder / "corpus", folder / "index"
    main_point = scale == 1
    log(f"scale {label}: writing the corpus")
    growth.scaled_corpus(source, scale, corpus)
    measure.remove_tree(index)
    point = {"scale": float(scale), "scale_label": label, **growth.corpus_stats(corpus),
             "corpus_mb": measure.dir_size_mb(corpus), "load_before": os.getloadavg()[0]}
    log(f"scale {label}: {point['documents']} documents, full reindex")
    full = measure.reindex(corpus, index, full=True, env=env)
    point.update(reindex_s=full.seconds, reindex_rss_mb=full.maxrss_mb, reindex_tree_rss_mb=full.tree_rss_mb,
                 passages=measure.reported_passages(full), index_mb=measure.dir_size_mb(index))
    log(f"scale {label}: reindex {full.seconds:.1f} s; incremental runs")
    point["noop_s"] = measure.reindex(corpus, index, full=False, env=env).seconds
    point["incr1_s"] = measure.incremental(corpus, index, measure.pick_files(corpus, 1), env).seconds
    pct = measure.pick_files(corpus, round(point["documents"] / 100))
    point.update(incr_pct_files=len(pct), incr_pct_s=measure.incremental(corpus, index, pct, env).seconds)
    runs = args.runs if main_point else args.growth_runs
    log(f"scale {label}: {runs} timed queries")
    latency = measure.query_latency(index, queries, runs)
    point["query"] = asdict(latency)
    point.update(p50_ms=latency.ms.get(50), p99_ms=latency.ms.get(99))
    if args.load != "none":
        seconds = args.http_seconds if main_point else args.growth_http_seconds
        log(f"scale {label}: /api/search load for {seconds:.0f} s")
        try:
            http = http_load.http_throughput(corpus, index, queries, seconds, args.load, env=env, workers=args.workers)
            if main_point and args.workers > 1:
                log(f"scale {label}: the same load on one worker process")
                point["http_single"] = http_load.http_throughput(corpus, index, queries, seconds, args.load, env=env)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:  # keep the other figures
            log(f"scale {label}: HTTP load failed: {exc!r}")
            point["http_error"] = repr(exc)
        else:
            point.update(http=http, rps=http["rps"], http_p99_ms=float(http["ms"]["99"]))
    point["load_after"] = os.getloadavg()[0]
    return point, corpus, index


def measure_variants(args, corpus: Path, index: Path, queries, env) -> tuple[dict, dict | str]:
    log("feature costs: query variants")
    variants = measure.query_variants(index, queries, args.variant_runs)
    variants = {k: (asdict(v) if not isinstance(v, str) else v) for k, v in variants.items()}
    log("feature costs: lean reindex")
    lean_index = index.parent / "index-lean"
    measure.remove_tree(lean_index)
    lean = measure.lean_reindex(corpus, lean_index, env)
    if not isinstance(lean, str):
        lean = {"seconds": lean.seconds, "tree_rss_mb": lean.tree_rss_mb, "index_mb": measure.dir_size_mb(lean_index)}
    measure.remove_tree(lean_index)
    return variants, lean


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
    ensure_corpus(args)
    queries = ensure_queries(args)
    started = datetime.now(timezone.utc)
    results: dict = {"date": started.isoformat(timespec="seconds"), "machine": machine(), "code": state,
                     "load_start": os.getloadavg(), "corpus": str(args.corpus), "queries": len(queries)}
    docs = baselines.read_corpus(args.corpus)
    texts = [d.body for d in docs]
    log(f"baselines on {len(docs)} documents: fugashi floor, wakati, FTS5")
    results["baselines"] = {"floor": baselines.fugashi_floor(texts), "wakati": baselines.wakati_floor(texts),
                            "fts": baselines.fts5_baseline(texts, queries, args.runs)}
    points, variants, lean = [], None, None
    for scale in args.scales:
        point, corpus, index = measure_point(args, args.corpus, scale, queries, env)
        points.append(point)
        if scale == 1 and not args.no_variants:
            variants, lean = measure_variants(args, corpus, index, queries, env)
        if scale != 1:
            measure.remove_tree(index.parent)
        partial = args.json_out.with_suffix(".partial.json")  # a long run keeps what it has
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({**results, "points": points}, indent=1, default=str), encoding="utf-8")
    results.update(points=points, variants=variants, lean=lean, load_end=os.getloadavg())
    results["growth"] = growth.growth_summary(points, report.GROWTH_FIGURES, report.GROWTH_THRESHOLDS)
    results["seconds"] = (datetime.now(timezone.utc) - started).total_seconds()
    return results


def render(results: dict) -> str:
    point = next(p for p in results["points"] if p["scale"] == 1)
    m = results["machine"]
    fts = results["baselines"]["fts"]
    parts = [
        f"casearch benchmark, {results['date']}: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, "
        f"Python {m['python']}; load average {results['load_start'][0]:.2f} at start, "
        f"{results['load_end'][0]:.2f} at end; {results['seconds'] / 60:.1f} min",
        f"Corpus {results['corpus']}: {point['documents']:,} documents, {point['chars']:,} characters, "
        f"{point.get('passages') or 0:,} passages; {results['queries']} queries "
        f"({point['query']['with_hits']} with hits, {point['query']['errors']} refused; FTS5: {fts['with_hits']} "
        f"with hits)",
        "", "## Figures (scale 1: the whole corpus)", "", report.main_table(point, results["baselines"], results.get("variants"),
                                                            results["growth"]),
        "", "## Query latency per class (ms)", "", report.class_table(point, results["baselines"]),
    ]
    if results.get("variants"):
        parts += ["", "## Cost of the optional look-ups and fields", "",
                  report.variant_table(results["variants"], results.get("lean"), point)]
    parts += ["", "## Growth", "", report.growth_table(results["points"], results["growth"])]
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
