"""Reading a Whoosh generation: the query tree compiled to Whoosh queries, ranked under
a time cap, with the language facets counted in the same pass where it visits every match.

    querytree -> compile (Term, AdjacentPhrase, Or, And, Excluding) -> searcher.search
              with our collector (deadline, language filter, record of every match)

A searcher is not safe to share between threads; the search layer keeps one reader per
thread and opens a new one when the generation changed (never ``refresh()``).
"""

from __future__ import annotations

import time
from typing import Any, Iterator

from whoosh import query as wq
from whoosh.collectors import TimeLimit, WrappingCollector
from whoosh.sorting import FieldFacet, MultiFacet, ScoreFacet

from ... import querytree as qt
from ...errors import QueryError
from ..base import LANGS, PASSAGE, Scored
from .matchers import AdjacentPhrase, BestOf, Excluding, KeyedWeights, Requiring

SEARCH_SECONDS = 1.0


def compile_query(node: qt.Node) -> wq.Query:
    """The Whoosh query of a query tree."""
    if isinstance(node, qt.Term):
        return wq.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, qt.Phrase):
        return AdjacentPhrase(node.field, list(node.terms), boost=node.boost)
    if isinstance(node, qt.Or):
        # A union tree as on large indexes: on a small one (under 5,000 passages) Whoosh
        # would preload every Or of three or more clauses into arrays of 2,048 slots,
        # which cost more than the search (translation ids, tiers).
        union = wq.Or([compile_query(child) for child in node.children])
        union.matcher_type = wq.Or.DEFAULT_MATCHER
        return union
    if isinstance(node, qt.And):
        return wq.And([compile_query(child) for child in node.children])
    if isinstance(node, qt.Best):
        return BestOf([compile_query(child) for child in node.children])
    if isinstance(node, qt.AndNot):
        return Excluding(compile_query(node.positive), compile_query(node.negative))
    if isinstance(node, qt.Require):
        return Requiring(compile_query(node.scored), compile_query(node.required))
    if isinstance(node, qt.Keyed):
        return KeyedWeights(node.field, node.weights)
    if isinstance(node, qt.Every):
        return wq.Term("kind", PASSAGE)
    return wq.NullQuery


class WhooshReader:
    """One thread's view of one Whoosh generation."""

    def __init__(self, ix, name: str) -> None:
        self.searcher = ix.searcher()
        self.version = (name, ix.latest_generation())
        self._lang_docs: dict[str, set[int]] | None = None
        self._compiled: dict[qt.Node, wq.Query] = {}

    def _query(self, node: qt.Node) -> wq.Query:
        found = self._compiled.get(node)
        if found is None:
            found = self._compiled[node] = compile_query(node)
        return found

    def lang_docs(self) -> dict[str, set[int]]:
        """Passage numbers per language, computed once per reader (one generation)."""
        if self._lang_docs is None:
            self._lang_docs = {
                lang: set(self.searcher.docs_for_query(wq.And([wq.Term("lang", lang), wq.Term("kind", PASSAGE)])))
                for lang in LANGS
            }
        return self._lang_docs

    def rank(self, query: qt.Node, limit: int, lang: str | None, count: bool = False) -> tuple[Scored, dict[str, int] | None]:
        allowed = None if lang is None else self.lang_docs()[lang]
        seen: set[int] | None = set() if count else None
        results = timed_search(self.searcher, self._query(query), limit=limit, filter=allowed, seen=seen)
        scored = [(score, docnum) for docnum, score in results.items()]
        return scored, (self._counts(seen) if seen is not None else None)

    def by_date(self, query: qt.Node, limit: int, lang: str | None) -> Scored:
        allowed = None if lang is None else self.lang_docs()[lang]
        order = MultiFacet([FieldFacet("date", reverse=True), ScoreFacet(), FieldFacet("doc_id"), FieldFacet("section_no")])
        results = timed_search(self.searcher, self._query(query), limit=limit, filter=allowed, sortedby=order)
        return [(-key[1], docnum) for key, docnum in results.top_n]

    def count(self, query: qt.Node) -> dict[str, int]:
        seen: set[int] = set()
        timed_search(self.searcher, self._query(query), limit=1, scored=False, seen=seen)
        return self._counts(seen)

    def _counts(self, matching: set[int]) -> dict[str, int]:
        if not matching:
            return {lang: 0 for lang in LANGS}
        return {lang: len(matching & docnums) for lang, docnums in self.lang_docs().items()}

    def stored(self, key: int) -> dict[str, Any]:
        return self.searcher.stored_fields(key)

    def find_pid(self, pid: str) -> dict[str, Any] | None:
        return self.searcher.document(pid=pid)

    def passages_of(self, doc_id: str) -> list[dict[str, Any]]:
        found = [self.searcher.stored_fields(n) for n in self.searcher.document_numbers(doc_id=doc_id, kind=PASSAGE)]
        return sorted(found, key=lambda f: (f["section_no"], f["part"]))

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(self.searcher.documents(kind=kind))

    def doc_frequency(self, field: str, term: str) -> int:
        return self.searcher.reader().doc_frequency(field, term)

    def expand_prefix(self, field: str, prefix: str) -> Iterator[str]:
        for term in self.searcher.reader().expand_prefix(field, prefix):
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def has_term(self, field: str, term: str) -> bool:
        return (field, term) in self.searcher.reader()

    def vocabulary(self, field: str) -> Iterator[tuple[str, int]]:
        for term, info in self.searcher.reader().iter_field(field):
            yield (term.decode("utf-8") if isinstance(term, bytes) else term), info.doc_frequency()

    def totals(self) -> dict[str, int]:
        return {
            "documents": sum(1 for _ in self.searcher.document_numbers(kind="doc")),
            "passages": sum(1 for _ in self.searcher.document_numbers(kind=PASSAGE)),
        }

    def deleted_records(self) -> int:
        """Records of deleted documents still in the segments (until a merge drops them)."""
        reader = self.searcher.reader()
        return reader.doc_count_all() - reader.doc_count()

    def close(self) -> None:
        self.searcher.close()


class _DeadlineCollector(WrappingCollector):
    """Filters matches by document number, optionally records every match, and raises
    TimeLimit once the clock passes the deadline.

    Whoosh's own TimeLimitCollector uses an alarm outside worker threads only, and its
    FilterCollector runs its own loop, so one loop here does all three. ``seen`` (a set,
    filled with global document numbers before filtering) lets a ranking pass that has
    to visit every match anyway count the language facets on the way.
    """

    def __init__(self, child, seconds: float, allow: set[int] | None = None, seen: set[int] | None = None) -> None:
        super().__init__(child)
        self.deadline = time.monotonic() + seconds
        self.allow = allow
        self.seen = seen

    def collect_matches(self) -> None:
        child, offset, allow, seen, deadline = self.child, self.offset, self.allow, self.seen, self.deadline
        for count, sub_docnum in enumerate(child.matches(), 1):
            if not count % 128 and time.monotonic() > deadline:
                raise TimeLimit
            docnum = offset + sub_docnum
            if seen is not None:
                seen.add(docnum)
            if allow is None or docnum in allow:
                child.collect(sub_docnum)

    def all_ids(self):
        """Every allowed match (Whoosh's top-N collector runs the query again for this)."""
        allow = self.allow
        return (docnum for docnum in self.child.all_ids() if allow is None or docnum in allow)

    def results(self):
        results = self.child.results()
        results.collector = self  # so that results.docs() asks all_ids above, filter kept
        return results


def timed_search(searcher, query, filter: set[int] | None = None, seen: set[int] | None = None, **options):
    """``searcher.search`` that gives up after ``SEARCH_SECONDS`` with query_too_complex.
    With ``seen``, every match is visited (no skipping of low-scoring blocks) and recorded
    there, whether or not ``filter`` lets it into the results."""
    inner = searcher.collector(**options, optimize=seen is None)
    if seen is not None:
        inner.replace = 0  # Whoosh would drop clauses that can no longer reach the top N
    collector = _DeadlineCollector(inner, SEARCH_SECONDS, filter, seen)
    try:
        searcher.search_with_collector(query, collector)
    except TimeLimit:
        raise QueryError(
            f"The query took more than {SEARCH_SECONDS:g} s; make it more specific",
            param="q", code="query_too_complex",
        ) from None
    return collector.results()
