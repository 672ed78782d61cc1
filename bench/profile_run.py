"""Where the time goes: cProfile of a full reindex and of a query run.

    python bench/profile_run.py reindex CORPUS [--top 25]
    python bench/profile_run.py query INDEX QUERIES.tsv [--passes 2] [--queries-per-class N]
    python bench/profile_run.py incremental CORPUS INDEX   (edits one file of CORPUS)

``reindex`` runs ``casearch.index.reindex(full=True)`` in this process into a temporary
folder; ``incremental`` appends a paragraph to one file of a scratch corpus and profiles
``reindex(full=False)`` on its existing index; ``query`` runs every query of the set through ``Engine.search`` (after one
untimed pass), as the JSON endpoint does. Both print the functions with the largest
own time (tottime) and the largest cumulative time, each as a share of the total, and
the share of a few named stages (analysis, snippets, Whoosh writing and searching).
cProfile (timed in process CPU time, so other load does not skew it) slows pure-Python
code down by roughly 1.5-2x, evenly enough for shares.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Stages by function: (file fragment, function name) -> label. Cumulative times of nested
# stages overlap; each is reported on its own.
STAGES = {
    "reindex": [
        ("casearch/analysis.py", "_analyze", "analysis (normalize + fugashi + token features)"),
        ("casearch/analysis.py", "_japanese", "fugashi calls and node features"),
        ("casearch/textnorm.py", "normalize", "normalization with offset map"),
        ("casearch/analysis.py", "ngrams", "n-gram field tokens"),
        ("casearch/analysis.py", "reading_grams", "reading field tokens"),
        ("whoosh/writing.py", "add_document", "Whoosh add_document (all fields)"),
        ("whoosh/writing.py", "commit", "Whoosh commit (merge + write segment)"),
        ("casearch/corpus.py", "read_document", "corpus parsing"),
        ("casearch/jmdict/lookups.py", "lookup", "JMdict look-ups for the cross-lingual bridge"),
        ("casearch/index.py", "indexed_digests", "reading the stored digests"),
    ],
    "query": [
        ("casearch/search.py", "searcher", "searcher open (per request)"),
        ("whoosh/filedb/structfile.py", "__init__", "segment files copied into BytesIO on open"),
        ("casearch/querylang.py", "parse", "query parsing (incl. query analysis)"),
        ("casearch/search.py", "_translations", "translation seeds (3rd and 4th searches, cross=1)"),
        ("casearch/search.py", "_run", "search + hits"),
        ("casearch/search.py", "_timed_search", "Whoosh search + sort (both calls)"),
        ("casearch/search.py", "_facets", "language facet counts (2nd search)"),
        ("casearch/search.py", "_hit", "per-hit work (stored fields, spans, explain, snippet)"),
        ("casearch/snippets.py", "match_spans", "match spans from postings"),
        ("casearch/search.py", "_explain", "match explanation (`matched`)"),
        ("casearch/snippets.py", "make_snippet", "snippet window + HTML"),
        ("whoosh/searching.py", "postings", "Whoosh postings readers"),
        ("whoosh/reading.py", "stored_fields", "stored fields"),
    ],
}


def _stage_rows(stats: pstats.Stats, kind: str, total: float) -> list[str]:
    rows = []
    for fragment, name, label in STAGES[kind]:
        cumulative = sum(
            entry[3] for (path, _, func), entry in stats.stats.items() if func == name and fragment in path
        )
        if cumulative:
            rows.append(f"| {label} | `{fragment.split('/')[-1]}:{name}` | {cumulative:.2f} s | "
                        f"{100 * cumulative / total:.0f}% |")
    return rows


def _top(stats: pstats.Stats, total: float, key: int, count: int) -> list[str]:
    entries = sorted(stats.stats.items(), key=lambda item: item[1][key], reverse=True)[:count]
    rows = []
    for (path, line, func), (cc, nc, tt, ct, _) in entries:
        short = "/".join(Path(path).parts[-2:]) if path != "~" else "builtin"
        rows.append(f"| `{short}:{line}({func})` | {nc:,} | {tt:.2f} s ({100 * tt / total:.0f}%) | "
                    f"{ct:.2f} s ({100 * ct / total:.0f}%) |")
    return rows


def report(profile: cProfile.Profile, kind: str, wall: float, top: int) -> str:
    stats = pstats.Stats(profile)
    total = stats.total_tt
    head = "| function | calls | own time | cumulative |\n|---|---:|---:|---:|"
    lines = [
        f"Profiled wall time {wall:.1f} s (cProfile total {total:.1f} s)", "",
        "| stage | function | cumulative | share |", "|---|---|---:|---:|", *_stage_rows(stats, kind, total), "",
        f"Top {top} by own time:", "", head, *_top(stats, total, 2, top), "",
        f"Top {top} by cumulative time:", "", head, *_top(stats, total, 3, top),
    ]
    return "\n".join(lines)


def profile_reindex(corpus: Path, top: int) -> str:
    from casearch.index import reindex

    with tempfile.TemporaryDirectory() as tmp:
        profile = cProfile.Profile(time.process_time)  # CPU time: fair on a busy machine
        started = time.perf_counter()
        profile.enable()
        summary = reindex(corpus, Path(tmp) / "index", full=True).summary()
        profile.disable()
        wall = time.perf_counter() - started
    return f"reindex of {corpus}: {summary}\n\n" + report(profile, "reindex", wall, top)


def profile_incremental(corpus: Path, index: Path, top: int) -> str:
    from measure import pick_files, touch_content

    from casearch.index import reindex

    touch_content(pick_files(corpus, 1), f"{time.time_ns()}")
    profile = cProfile.Profile(time.process_time)  # CPU time: fair on a busy machine
    started = time.perf_counter()
    profile.enable()
    summary = reindex(corpus, index, full=False).summary()
    profile.disable()
    wall = time.perf_counter() - started
    return f"incremental reindex of {corpus} (1 file edited): {summary}\n\n" + report(profile, "reindex", wall, top)


def profile_queries(index: Path, queries_file: Path, passes: int, top: int, per_class: int | None) -> str:
    from baselines import read_queries
    from measure import _search_once, interleave_classes

    from casearch.search import Engine

    engine = Engine(index)
    queries = interleave_classes(read_queries(queries_file))
    if per_class:
        queries = queries[: per_class * len({cls for cls, _ in queries})]
    for _, q in queries:
        _search_once(engine, {"q": q})
    profile = cProfile.Profile(time.process_time)  # CPU time: fair on a busy machine
    started = time.perf_counter()
    profile.enable()
    for _ in range(passes):
        for _, q in queries:
            _search_once(engine, {"q": q})
    profile.disable()
    wall = time.perf_counter() - started
    runs = passes * len(queries)
    return (f"{runs} searches on {index} ({1000 * wall / runs:.1f} ms each under the profiler)\n\n"
            + report(profile, "query", wall, top))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    r = sub.add_parser("reindex")
    r.add_argument("corpus", type=Path)
    q = sub.add_parser("query")
    q.add_argument("index", type=Path)
    q.add_argument("queries", type=Path)
    q.add_argument("--passes", type=int, default=2)
    q.add_argument("--queries-per-class", type=int, help="only the first N queries of each class")
    i = sub.add_parser("incremental")
    i.add_argument("corpus", type=Path)
    i.add_argument("index", type=Path)
    for p in (r, q, i):
        p.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    if args.kind == "reindex":
        print(profile_reindex(args.corpus, args.top))
    elif args.kind == "incremental":
        print(profile_incremental(args.corpus, args.index, args.top))
    else:
        print(profile_queries(args.index, args.queries, args.passes, args.top, args.queries_per_class))
    return 0


if __name__ == "__main__":
    sys.exit(main())
