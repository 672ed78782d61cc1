"""Cross-lingual retrieval on the man-page pairs: does a page's one-line description in
one language find the same command's page in the other language?

    pairs.tsv     page, ja_id, en_id, en_description, ja_description (make_corpus.py)
    query         the description's content words (command name removed), ORed
    search        Engine.search with lang set to the other language, cross=1 and cross=0
    score         rank of the other page among the first 10 documents: hit rate, MRR@10

Usage: python bench/crosslingual.py INDEX PAIRS_TSV [--sample N] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from casearch.analysis import analyze
from casearch.errors import QueryError
from casearch.search import Engine, validate_request

MAX_WORDS = 12


def description_query(description: str) -> str:
    """'getent - get entries from ...' -> 'get OR entries OR ...' (content words only)."""
    _, _, text = description.partition(" - ")
    words: list[str] = []
    for token in analyze(text or description):
        if token.indexed and not token.stop and token.surface not in words and len(token.surface) > 1:
            words.append(token.surface)
    return " OR ".join(words[:MAX_WORDS])


def document_rank(engine: Engine, query: str, lang: str, target: str, cross: bool) -> int | None:
    """Rank of the target among the first ten documents; 0 when the query was refused."""
    params = {"q": query, "lang": lang, "per_page": "50", "cross": "1" if cross else "0"}
    try:
        result = engine.search(validate_request(params))
    except QueryError:
        return 0
    seen: list[str] = []
    for hit in result.hits:
        if hit.doc_id not in seen:
            seen.append(hit.doc_id)
        if len(seen) > 10:
            break
    return seen.index(target) + 1 if target in seen[:10] else None


def evaluate(engine: Engine, rows: list[list[str]]) -> list[dict]:
    table = []
    for direction, lang, query_column, target_column in (("en → ja", "ja", 3, 1), ("ja → en", "en", 4, 2)):
        for cross in (True, False):
            ranks, times = [], []
            for row in rows:
                query = description_query(row[query_column])
                if not query:
                    continue
                began = time.perf_counter()
                ranks.append(document_rank(engine, query, lang, row[target_column], cross))
                times.append((time.perf_counter() - began) * 1000)
            found = [r for r in ranks if r]
            table.append({
                "direction": direction, "cross": cross, "queries": len(ranks),
                "refused": sum(1 for r in ranks if r == 0),
                "top10": len(found) / max(1, len(ranks)), "mrr10": sum(1 / r for r in found) / max(1, len(ranks)),
                "p50_ms": sorted(times)[len(times) // 2] if times else 0.0,
            })
    return table


def markdown(table: list[dict]) -> str:
    lines = ["| direction | expansion | queries (refused: time cap) | found in top 10 | MRR@10 | query p50 |",
             "|---|---|---:|---:|---:|---:|"]
    for row in table:
        lines.append(f"| {row['direction']} | {'on' if row['cross'] else 'off'} | {row['queries']} ({row['refused']}) | "
                     f"{row['top10']:.1%} | {row['mrr10']:.3f} | {row['p50_ms']:.1f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("pairs", type=Path)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows = [line.split("\t") for line in args.pairs.read_text(encoding="utf-8").splitlines()[1:]]
    rows = [row for row in rows if len(row) >= 5 and row[1] and row[2]]
    random.Random(args.seed).shuffle(rows)
    print(markdown(evaluate(Engine(args.index), rows[: args.sample])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
