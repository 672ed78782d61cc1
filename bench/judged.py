"""Judged relevance: how well does search answer the queries a bilingual reader asks?

    queries     tests/data/judged/queries.jsonl: one query per line with the passage that
                answers it best (``doc_id#sN``), other relevant passages, the ``lang``
                filter and ``cross`` setting it is asked with, and the reader's intent;
                written before any tuning, never adjusted to what search returns
    corpus      the repository's corpus/ (the article and the glossary) plus
                tests/data/judged/corpus/ (news-style Japanese, English articles, Japanese
                with English terms; two translation pairs), copied into a temp folder
    index       a full reindex there with the engine of --engine / CASEARCH_ENGINE
    search      Engine.search(validate_request(params)), the call /api/search makes
    score       passage level: 1/rank of the best passage among the first 10 hits
                (MRR@10) and the share of queries whose best passage is the first hit;
                document level: 1/rank of the best passage's document among the first
                10 distinct documents of the first 50 hits
    marks       every hit of the first page: at least one mark, and every mark inside a
                word that matches the query (``mark_matches``: typed characters, a
                word's dictionary form, English inflection, number, reading of a word
                typed in kana or romaji, or a counterpart the bridge offers)
    report      the scores per query language (ja, en, mixed), for the cross-lingual
                queries and overall, every miss (best passage not first) with its rank,
                and the queries whose hits lack a mark or carry a stray one

Usage: python bench/judged.py [--engine whoosh|tantivy] [--json]
The test suite (tests/test_judged.py) imports this module and holds floors on the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from judged_marks import mark_problems  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
JUDGED = REPO / "tests" / "data" / "judged"
QUERIES = JUDGED / "queries.jsonl"
CUTOFF = 10  # MRR@10
DOCUMENT_POOL = 50  # hits read to rank documents
QUERY_LANGS = ("ja", "en", "mixed")


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    q: str
    lang: str  # the filter it is asked with: all, ja, en
    cross: bool
    best: str  # doc_id#sN
    also: tuple[str, ...]
    qlang: str  # the language it is written in: ja, en, mixed
    kind: str  # question, word, compound, kana, romaji, inflection, cross, number, name, partial
    intent: str
    counterparts: tuple[str, ...] = ()  # words of the other language a mark may lie on

    @property
    def best_doc(self) -> str:
        return self.best.partition("#")[0]

    def params(self, per_page: int = CUTOFF) -> dict[str, str]:
        return {"q": self.q, "lang": self.lang, "cross": "1" if self.cross else "0", "per_page": str(per_page)}


@dataclass
class Outcome:
    query: JudgedQuery
    passages: list[str]  # doc_id#sN of the first CUTOFF hits
    documents: list[str]  # the first CUTOFF distinct documents
    total: int
    hits: list[dict]  # the first CUTOFF hits as the JSON shows them

    @property
    def passage_rank(self) -> int | None:
        return _rank(self.passages, self.query.best)

    @property
    def document_rank(self) -> int | None:
        return _rank(self.documents, self.query.best_doc)


@dataclass
class Scores:
    queries: int
    passage_mrr: float
    document_mrr: float
    best_first: float  # share of queries whose best passage is the first hit
    found: float  # share of queries whose best passage is in the first CUTOFF hits


def _rank(ranked: list[str], wanted: str) -> int | None:
    return ranked.index(wanted) + 1 if wanted in ranked else None


def load_queries(path: Path = QUERIES) -> list[JudgedQuery]:
    """Every judged query of the file (blank lines and ``//`` comments skipped)."""
    queries: list[JudgedQuery] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        row = json.loads(line)
        queries.append(JudgedQuery(
            id=row["id"], q=row["q"], lang=row.get("lang", "all"), cross=bool(row.get("cross", True)),
            best=row["best"], also=tuple(row.get("also", ())), qlang=row["qlang"], kind=row["kind"],
            intent=row["intent"], counterparts=tuple(row.get("counterparts", ())),
        ))
    return queries


def build_corpus(target: Path) -> Path:
    """The repository's corpus and the judged documents, side by side in ``target``."""
    shutil.copytree(REPO / "corpus", target, dirs_exist_ok=True)
    shutil.copytree(JUDGED / "corpus", target, dirs_exist_ok=True)
    return target


def build_index(workdir: Path, engine: str):
    """A fresh index of the judged corpus in ``workdir``; returns the Engine."""
    from casearch.index import reindex
    from casearch.search import Engine

    corpus = build_corpus(workdir / "corpus")
    report = reindex(corpus, workdir / "index", engine=engine)
    if report.skipped:
        raise RuntimeError(f"judged corpus files skipped: {report.skipped}")
    return Engine(workdir / "index", engine)


def run_query(engine, query: JudgedQuery) -> Outcome:
    """The query as /api/search runs it, read down to DOCUMENT_POOL hits."""
    from casearch.search import validate_request

    result = engine.search(validate_request(query.params(DOCUMENT_POOL)))
    passages = [f"{hit.doc_id}#s{hit.section_no}" for hit in result.hits]
    documents: list[str] = []
    for hit in result.hits:
        if hit.doc_id not in documents:
            documents.append(hit.doc_id)
    return Outcome(query, passages[:CUTOFF], documents[:CUTOFF], result.total, result.to_json()["hits"][:CUTOFF])


def score(outcomes: Iterable[Outcome]) -> Scores:
    outcomes = list(outcomes)
    n = len(outcomes) or 1

    def reciprocal(rank: int | None) -> float:
        return 1 / rank if rank else 0.0

    return Scores(
        queries=len(outcomes),
        passage_mrr=round(sum(reciprocal(o.passage_rank) for o in outcomes) / n, 4),
        document_mrr=round(sum(reciprocal(o.document_rank) for o in outcomes) / n, 4),
        best_first=round(sum(o.passage_rank == 1 for o in outcomes) / n, 4),
        found=round(sum(o.passage_rank is not None for o in outcomes) / n, 4),
    )


def groups(outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    """Outcomes per query language, the cross-lingual ones, and all."""
    grouped = {lang: [o for o in outcomes if o.query.qlang == lang] for lang in QUERY_LANGS}
    grouped["cross-lingual"] = [o for o in outcomes if o.query.kind == "cross"]
    grouped["all"] = outcomes
    return {name: found for name, found in grouped.items() if found}


def evaluate(engine) -> list[Outcome]:
    return [run_query(engine, query) for query in load_queries()]


def report(outcomes: list[Outcome], engine_name: str, engine=None) -> str:
    """The scores table and the misses; with ``engine``, the mark checks too."""
    lines = [
        f"judged relevance, engine {engine_name}: {len(outcomes)} queries",
        "",
        f"{'queries':<14} {'n':>3} {'MRR@10 passage':>15} {'best first':>11} {'in top 10':>10} {'MRR@10 document':>16}",
    ]
    for name, found in groups(outcomes).items():
        s = score(found)
        lines.append(
            f"{name:<14} {s.queries:>3} {s.passage_mrr:>15.3f} {s.best_first:>10.0%} {s.found:>10.0%} {s.document_mrr:>16.3f}"
        )
    misses = [o for o in outcomes if o.passage_rank != 1]
    lines += ["", f"misses (best passage not first): {len(misses)}"]
    for o in misses:
        rank = o.passage_rank or "-"
        first = o.passages[0] if o.passages else "no hits"
        lines.append(
            f"  {o.query.id:<6} rank {rank!s:>2}  {o.query.q!r} lang={o.query.lang} cross={int(o.query.cross)}"
            f"  best {o.query.best}  first {first}  total {o.total}"
        )
    if engine is not None:
        lines += _mark_report(engine, outcomes)
    return "\n".join(lines)


def _mark_report(engine, outcomes: list[Outcome]) -> list[str]:
    problems = {o.query.id: (o.query.q, *mark_problems(engine, o.query, o.hits)) for o in outcomes}
    unmarked = {qid: found for qid, (_, found, _) in problems.items() if found}
    stray = {qid: found for qid, (_, _, found) in problems.items() if found}
    lines = ["", f"queries with hits without a mark: {len(unmarked)} of {len(outcomes)}"]
    lines += [f"  {qid:<6} {problems[qid][0]!r}: {', '.join(found)}" for qid, found in unmarked.items()]
    lines += ["", f"queries with marks outside matching words: {len(stray)} of {len(outcomes)}"]
    lines += [f"  {qid:<6} {problems[qid][0]!r}: {'; '.join(found)}" for qid, found in stray.items()]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default=os.environ.get("CASEARCH_ENGINE", "whoosh"), choices=("whoosh", "tantivy"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="casearch-judged-") as workdir:
        engine = build_index(Path(workdir), args.engine)
        outcomes = evaluate(engine)
        text = report(outcomes, args.engine, engine)
        engine.close()
    if args.json:
        figures = {name: asdict(score(found)) for name, found in groups(outcomes).items()}
        misses = [{"id": o.query.id, "q": o.query.q, "rank": o.passage_rank, "first": o.passages[:1]}
                  for o in outcomes if o.passage_rank != 1]
        print(json.dumps({"engine": args.engine, "scores": figures, "misses": misses}, ensure_ascii=False, indent=1))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
