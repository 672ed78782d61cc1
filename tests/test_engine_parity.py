"""Both engines find the same passages: Whoosh and tantivy on a sample of the man pages.

The sample is the benchmark's corpus cut short (``bench/make_corpus.py --limit``, which
apt-gets Debian's man page packages; skipped, with the reason, where that fails), the
queries are the benchmark's own (``baselines.make_queries``: single words, compounds,
quoted phrases, English). Each query goes through ``Engine.search`` on an index built by
each engine; a query agrees when its first page (10 hits) names the same passages on
both, order aside.

Where they disagree, and why. Measured on samples of 30 pages per language (this test:
379 queries, only 79 compounds to be had), 40 (400 queries) and 300 (400 queries):

* With tantivy scoring as it comes: 94.5 %, 93.0 % and 84.0 % of the queries agreed.
  Three differences moved passages across the tenth place. tantivy scores a phrase as
  one unit (occurrences of the whole phrase, the words' idfs added) where Whoosh adds up
  each word's BM25; most Japanese compounds are phrases. tantivy's idf is
  ln(1 + (N - n + 0.5) / (n + 0.5)), Whoosh's log(N / (n + 1)) + 1. Whoosh applies a
  field's weight (title 3, heading 2, reading 0.3, n-gram 0.2) to the term frequency
  before BM25 saturates it; tantivy's boost multiplies the score.
* The tantivy engine now imitates Whoosh on all three (``tantivy_engine``). At 40 pages
  the phrase fix alone gave 95.0 %, with the idf ratio 96.0 %, with the converted
  weights 96.8 %; at 30 pages 97.1 %; at 300 pages 89.7 %, 91.5 %, 91.2 %.
* What is left is rounding. Each engine keeps a field's length in one byte: Whoosh
  rounds up, to within about 3 %; tantivy's fieldnorm is exact up to 40 tokens, then
  rounds down in steps of 2, 4, 8, ... tokens (64 to 67 all count as 64). Passages
  tantivy rounds to the same length tie there and are ordered by doc_id, while Whoosh
  still tells them apart (``fdatasync``: en/3/aio_return 6.92 against en/2/fsync 6.79
  in Whoosh, both 7.00 with a length of 64 in tantivy). Of the 35 queries that differ at
  300 pages, 11 have a tie at the tenth place and 23 swap passages whose Whoosh scores
  lie within 5 % of each other; one (``イン``) is the weight conversion, exact only for
  a term seen once: a passage that matches the reading field (weight 0.3) three times.
  33 of the 35 swap a single passage; 398 of the 400 queries share at least 9 of their
  10 passages. The more passages crowd the tenth place, the more such near-ties, hence
  the small sample here; tantivy's Python binding has no way to change its length
  encoding.
* Issue 13 added tiers below the counterparts (Japanese synonyms, translations of the best
  passages, also without a language filter) whose small scores crowd the tenth place of
  short result lists: 95.5 % -> 93.9 % of 379 queries agree on the whole page, and each of
  the 23 others differs by exactly one passage there. So the test asks for 93 % alike and,
  for every query, no more than one passage apart.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from casearch import engines
from casearch.index import reindex
from casearch.search import Engine, validate_request

BENCH = Path(__file__).resolve().parents[1] / "bench"
PAGES_PER_LANGUAGE = 30
QUERIES_PER_CLASS = 100
TOP = 10
REQUIRED_SHARE = 0.93  # whole first pages alike (95 % before issue 13's tiers, see below)
MAX_APART = 1  # ... and no query's first pages differ by more than one passage

Passages = Counter  # (doc_id, url) -> how many of the hits name it (a section may hold several)


def _bench_module(name: str):
    """A module of ``bench/`` (not a package: its scripts import each other by name)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return __import__(name)


def build_sample(folder: Path) -> Path:
    """The sample corpus in ``folder``; skips the test when the man pages cannot be had."""
    make_corpus = _bench_module("make_corpus")
    corpus = folder / "corpus"
    try:
        status = make_corpus.main(["--limit", str(PAGES_PER_LANGUAGE), "--out", str(corpus)])
    except SystemExit as stop:  # no root, apt-get failed, packages still missing
        pytest.skip(f"man page corpus not available: {stop.code}")
    except FileNotFoundError as missing:  # no dpkg, man or col on this machine
        pytest.skip(f"man page corpus not available: {missing}")
    files = list(corpus.rglob("*.md"))
    if status != 0 or not files:
        pytest.skip(f"man page corpus not available: make_corpus exit {status}, {len(files)} pages")
    return corpus


def top_passages(engine: Engine, query: str) -> Passages:
    result = engine.search(validate_request({"q": query, "per_page": str(TOP)}))
    return Counter((hit.doc_id, hit.url) for hit in result.hits)


def first_pages(index: Path, engine_name: str, queries: list[tuple[str, str]]) -> list[Passages]:
    engine = Engine(index, engine_name)
    try:
        return [top_passages(engine, query) for _, query in queries]
    finally:
        engine.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[tuple[str, str]], dict[str, list[Passages]]]:
    """The benchmark's queries and each engine's first page for every one of them."""
    if not engines.available("tantivy"):
        pytest.skip("the tantivy engine is not installed (pip install 'casearch[tantivy]')")
    folder = tmp_path_factory.mktemp("parity")
    corpus = build_sample(folder)
    queries = _bench_module("baselines").make_queries(corpus, QUERIES_PER_CLASS)
    pages = {}
    for name in ("whoosh", "tantivy"):
        report = reindex(corpus, folder / f"index-{name}", full=True, engine=name)
        assert not report.skipped, report.skipped
        pages[name] = first_pages(folder / f"index-{name}", name, queries)
    return queries, pages


def differing(queries: list[tuple[str, str]], pages: dict[str, list[Passages]]) -> list[str]:
    return [f"{cls} {query!r}" for (cls, query), a, b in zip(queries, pages["whoosh"], pages["tantivy"]) if a != b]


@pytest.mark.slow
def test_engines_agree_on_the_first_page_of_most_benchmark_queries(sample) -> None:
    queries, pages = sample
    differ = differing(queries, pages)
    share = 1 - len(differ) / len(queries)
    print(f"\nengine parity: {share:.1%} of {len(queries)} queries, {PAGES_PER_LANGUAGE} pages per language")
    assert share >= REQUIRED_SHARE, f"{share:.1%} agree; differing: {differ}"
    apart = [(q, sum((a & b).values())) for (_, q), a, b in zip(queries, pages["whoosh"], pages["tantivy"])
             if min(sum(a.values()), sum(b.values())) - sum((a & b).values()) > MAX_APART]
    assert not apart, f"first pages differing by more than {MAX_APART} passage: {apart}"


@pytest.mark.slow
def test_the_sample_exercises_every_query_class_with_hits(sample) -> None:
    """Agreement on empty pages would prove nothing: most queries must find passages."""
    queries, pages = sample
    assert {cls for cls, _ in queries} == {"single", "compound", "phrase", "english"}
    for name, found in pages.items():
        with_hits = sum(1 for passages in found if passages)
        assert with_hits >= 0.9 * len(queries), f"{name}: {with_hits} of {len(queries)} queries found something"
