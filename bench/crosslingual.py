"""Cross-lingual retrieval on the man-page pairs: does a page's one-line description in
one language find the same command's page in the other language?

    pairs.tsv     page, ja_id, en_id, en_description, ja_description (make_corpus.py)
    split         --pages a-l (the tuning half: page names starting a..l) or m-z (the
                  check half, run once at the end); --sample N draws N rows instead
    query         the description's content words (command name removed), ORed
    search        Engine.search with lang set to the other language, cross=1 and cross=0
    score         rank of the other page among the first 10 documents: hit@10, MRR@10;
                  the p50 time of each, and the ratio of the two p50s
    translations  --translation-share 0 leaves out what aligned translations add (each
                  page here has one, so the other page inherits its description's match):
                  the bridge's own part

Usage: python bench/crosslingual.py INDEX PAIRS_TSV [--pages a-l|m-z|all] [--sample N]
       python bench/crosslingual.py INDEX PAIRS_TSV --reindex CORPUS   (full reindex first,
       reporting the share of its time spent profiling and mining)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from casearch import index as index_mod
from casearch import search as search_mod
from casearch.engines.whoosh_engine import reader as whoosh_reader
from casearch.analysis import analyze
from casearch.errors import QueryError
from casearch.records import DocumentRecords
from casearch.search import Engine, validate_request

MAX_WORDS = 12
DIRECTIONS = (("en → ja", "ja", 3, 1), ("ja → en", "en", 4, 2))


def description_query(description: str) -> str:
    """'getent - get entries from ...' -> 'get OR entries OR ...' (content words only)."""
    _, _, text = description.partition(" - ")
    words: list[str] = []
    for token in analyze(text or description):
        if token.indexed and not token.stop and token.surface not in words and len(token.surface) > 1:
            words.append(token.surface)
    return " OR ".join(words[:MAX_WORDS])


def ranked_documents(engine: Engine, query: str, lang: str, cross: bool) -> list[str] | None:
    """The first ten distinct documents of the first 50 hits; None when refused."""
    params = {"q": query, "lang": lang, "per_page": "50", "cross": "1" if cross else "0"}
    try:
        result = engine.search(validate_request(params))
    except QueryError:
        return None
    seen: list[str] = []
    for hit in result.hits:
        if hit.doc_id not in seen:
            seen.append(hit.doc_id)
    return seen[:10]


def in_split(page: str, split: str) -> bool:
    """'getent(1)' is in a-l; names starting with anything but a letter are in neither."""
    first = page[:1].lower()
    if split == "all":
        return True
    low, _, high = split.partition("-")
    return first.isalpha() and first.isascii() and low <= first <= high


def _direction(engine: Engine, rows: list[list[str]], lang: str, qcol: int, tcol: int, cross: bool) -> dict:
    ranks: list[int | None] = []
    times: list[float] = []
    refused = 0
    for row in rows:
        query = description_query(row[qcol])
        if not query:
            continue
        began = time.perf_counter()
        documents = ranked_documents(engine, query, lang, cross)
        times.append((time.perf_counter() - began) * 1000)
        refused += documents is None
        documents = documents or []
        ranks.append(documents.index(row[tcol]) + 1 if row[tcol] in documents else None)
    found = [r for r in ranks if r]
    return {
        "queries": len(ranks), "refused": refused,
        "hit10": len(found) / max(1, len(ranks)), "mrr10": sum(1 / r for r in found) / max(1, len(ranks)),
        "p50_ms": statistics.median(times) if times else 0.0, "ranks": ranks,
    }


def evaluate(engine: Engine, rows: list[list[str]], directions: str = "both", crosses: tuple[bool, ...] = (True, False)) -> list[dict]:
    table = []
    for name, lang, qcol, tcol in DIRECTIONS:
        if directions != "both" and lang != directions.split("-")[1]:
            continue
        for cross in crosses:
            table.append({"direction": name, "cross": cross, **_direction(engine, rows, lang, qcol, tcol, cross)})
    return table


def markdown(table: list[dict]) -> str:
    lines = ["| direction | cross | queries (refused) | hit@10 | MRR@10 | p50 | p50 ratio |",
             "|---|---|---:|---:|---:|---:|---:|"]
    plain = {row["direction"]: row["p50_ms"] for row in table if not row["cross"]}
    for row in table:
        ratio = row["p50_ms"] / plain[row["direction"]] if plain.get(row["direction"]) else float("nan")
        lines.append(f"| {row['direction']} | {int(row['cross'])} | {row['queries']} ({row['refused']}) | "
                     f"{row['hit10']:.3f} | {row['mrr10']:.3f} | {row['p50_ms']:.1f} ms | {ratio:.2f} |")
    return "\n".join(lines)


def read_rows(path: Path) -> list[list[str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [row for row in rows if len(row) >= 5 and row[1] and row[2]]


def timed_reindex(corpus: Path, index: Path) -> tuple[float, float]:
    """A full reindex; its wall time and the seconds DocumentRecords spent on mining."""
    spent: list[float] = []

    class Timed(DocumentRecords):
        def finish(self) -> None:
            super().finish()
            spent.append(self.mining_seconds)

    original = index_mod.DocumentRecords
    index_mod.DocumentRecords = Timed
    try:
        began = time.perf_counter()
        index_mod.reindex(corpus, index, full=True)
        return time.perf_counter() - began, sum(spent)
    finally:
        index_mod.DocumentRecords = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--pages", default="a-l", help="a-l (tuning), m-z (check, once) or all")
    parser.add_argument("--sample", type=int, default=0, help="N random rows of the split (0: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the table with every rank here")
    parser.add_argument("--reindex", type=Path, metavar="CORPUS", help="rebuild INDEX from CORPUS first, timed")
    parser.add_argument("--direction", choices=("both", "en-ja", "ja-en"), default="both")
    parser.add_argument("--time-cap", type=float, help="seconds before a query is refused (default: the server's)")
    parser.add_argument("--cross", choices=("both", "1", "0"), default="both")
    parser.add_argument("--translation-share", type=float, metavar="S",
                        help="score a passage inherits from its translation (default: the product's; 0: the bridge alone)")
    args = parser.parse_args(argv)
    if args.reindex:
        total, mining = timed_reindex(args.reindex, args.index)
        print(f"full reindex {total:.1f} s, of which profiling and mining {mining:.1f} s ({mining / total:.1%})")
    rows = [row for row in read_rows(args.pairs) if in_split(row[0], args.pages)]
    if args.sample:
        random.Random(args.seed).shuffle(rows)
        rows = rows[: args.sample]
    if args.time_cap:
        whoosh_reader.SEARCH_SECONDS = args.time_cap  # quality apart from the load of the machine (tantivy has no cap)
    if args.translation_share is not None:
        search_mod.TRANSLATION_SHARE = args.translation_share
    crosses = {"both": (True, False), "1": (True,), "0": (False,)}[args.cross]
    table = evaluate(Engine(args.index), rows, args.direction, crosses)
    print(f"pages {args.pages}: {len(rows)} pairs")
    print(markdown(table))
    if args.json:
        args.json.write_text(json.dumps({"pages": args.pages, "rows": [r[0] for r in rows], "table": table}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
