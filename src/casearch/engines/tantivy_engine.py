"""The tantivy engine (PyPI ``tantivy``, Rust): the same token streams, much faster.

    record -> searchable fields as pre-tokenized text: our own analysis gives every
              token's term and position (``analysis.field_grams``), tantivy only indexes
              them; keyword fields (pid, kind, doc_id, lang) with the ``raw`` tokenizer
           -> every stored field in one JSON blob (``stored``), read back as a dict
    query tree -> term / phrase / boolean / boost queries, built directly (no parsing),
              scored as Whoosh scores them (below)

Scores are tantivy's BM25 (k1 1.2, b 0.75, as Whoosh's BM25F), bent towards Whoosh's
where they part: a phrase is scored as the sum of its words' scores (a phrase query
that only filters, plus a term query per word); each term is boosted by Whoosh's idf
over tantivy's; a field's weight becomes the boost that has Whoosh's effect on a term
seen once in a field of average length (Whoosh weighs the term frequency, which BM25
then saturates; a boost scales the score); keyword fields score 1 per match. Field
lengths are still rounded to a byte differently by each engine, so close scores may
order differently: ``tests/test_engine_parity.py`` measures how often the first page
differs.
Commits are atomic (tantivy switches ``meta.json``), so a killed reindex leaves the last
commit serving, as with Whoosh.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterator

import tantivy

from .. import querytree as qt
from ..errors import IndexUnusable
from .. import analysis
from .base import KEYWORD_FIELDS, LANGS, PASSAGE, TEXT_FIELDS, Phase, Scored

WRITER_HEAP = 128 * 1024 * 1024
K1 = 1.2
_DIGITS = re.compile(r"\d")


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="whitespace", index_option="position")
    builder.add_unsigned_field("date_n", stored=False, indexed=False, fast=True)
    builder.add_bytes_field("stored", stored=True, indexed=False, fast=False)
    return builder.build()


def date_number(date: str) -> int:
    """A sortable number of an ISO 8601 date (time included); 0 when undated.

    >>> date_number("2025-06-17"), date_number("")
    (20250617000000, 0)
    """
    digits = "".join(_DIGITS.findall(date))[:14]
    return int(digits.ljust(14, "0")) if digits else 0


def _document(record: dict[str, Any]) -> tantivy.Document:
    doc = tantivy.Document()
    for name in KEYWORD_FIELDS:
        value = record.get(name)
        if value:
            doc.add_text(name, str(value))
    for name, (kind, _) in TEXT_FIELDS.items():
        text = record.get("body" if name.startswith("body") else name)
        if not text:
            continue
        tokens = [tantivy.Token(term, position, start, end) for term, position, start, end in analysis.field_grams(kind, text)]
        if tokens:
            doc.add_pre_tokenized_text(name, tantivy.PreTokenizedString(text, tokens))
    doc.add_unsigned("date_n", date_number(record.get("date") or ""))
    doc.add_bytes("stored", json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return doc


class TantivyWriter:
    def __init__(self, index: tantivy.Index, phase: Phase) -> None:
        self.writer = index.writer(WRITER_HEAP, 1)
        self.phase = phase

    def add(self, record: dict[str, Any]) -> None:
        self.writer.add_document(_document(record))

    def delete_document(self, doc_id: str) -> None:
        self.writer.delete_documents_by_term("doc_id", doc_id)

    def delete_pid(self, pid: str) -> None:
        self.writer.delete_documents_by_term("pid", pid)

    def commit(self) -> None:
        self.phase("segments-written")  # tantivy writes segments and meta.json in one call
        self.writer.commit()
        self.writer.wait_merging_threads()

    def cancel(self) -> None:
        try:
            self.writer.rollback()
        finally:
            self.writer = None


class TantivyBackend:
    name = "tantivy"

    def create(self, path: Path, phase: Phase) -> TantivyWriter:
        return TantivyWriter(tantivy.Index(build_schema(), str(path), reuse=False), phase)

    def update(self, path: Path, phase: Phase) -> TantivyWriter:
        return TantivyWriter(_open(path), phase)

    def open(self, path: Path) -> "TantivyReader":
        return TantivyReader(_open(path), path.name, self.stamp(path), path)

    def stamp(self, path: Path) -> int:
        """meta.json is replaced on every commit: its inode and time change."""
        try:
            info = os.stat(path / "meta.json")
        except OSError as exc:
            raise IndexUnusable(f"Index at {path} has no tantivy meta.json: {exc.strerror}") from exc
        return hash((info.st_ino, info.st_mtime_ns, info.st_size)) & ((1 << 62) - 1)


def _open(path: Path) -> tantivy.Index:
    if not (path / "meta.json").is_file():
        raise IndexUnusable(f"Index at {path} is not a tantivy index (no meta.json)")
    try:
        return tantivy.Index.open(str(path))
    except Exception as exc:  # tantivy reports damage as ValueError or OSError
        raise IndexUnusable(f"Index at {path} cannot be opened: {exc}") from exc


class TantivyReader:
    """One view of one committed state of a tantivy generation."""

    def __init__(self, index: tantivy.Index, name: str, stamp: int, path: Path | None = None) -> None:
        self.index = index
        self.path = path
        self.schema = index.schema
        self.searcher = index.searcher()
        self.version = (name, stamp)
        self._filters = {lang: self._filter(lang) for lang in LANGS}
        self._every = max(1, self.searcher.num_docs)  # a limit that takes every match

    def _filter(self, lang: str) -> tantivy.Query:
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "lang", lang)),
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "kind", PASSAGE)),
        ])

    def compile(self, node: qt.Node) -> tantivy.Query:
        Q, schema = tantivy.Query, self.schema
        if isinstance(node, qt.Term):
            return _boosted(self._term(node.field, node.text), node.boost * field_weight(node.field))
        if isinstance(node, qt.Phrase):
            return _boosted(self._phrase(node), node.boost * field_weight(node.field))
        if isinstance(node, (qt.Or, qt.And)):
            occur = tantivy.Occur.Should if isinstance(node, qt.Or) else tantivy.Occur.Must
            return Q.boolean_query([(occur, self.compile(child)) for child in node.children])
        if isinstance(node, qt.Best):
            return Q.disjunction_max_query([self.compile(child) for child in node.children], 0.0)
        if isinstance(node, qt.AndNot):
            return Q.boolean_query([
                (tantivy.Occur.Must, self.compile(node.positive)),
                (tantivy.Occur.MustNot, self.compile(node.negative)),
            ])
        if isinstance(node, qt.Require):
            return Q.boolean_query([
                (tantivy.Occur.Must, self.compile(node.scored)),
                (tantivy.Occur.Must, Q.const_score_query(self.compile(node.required), 0.0)),
            ])
        if isinstance(node, qt.Keyed):
            return Q.boolean_query([
                (tantivy.Occur.Should, Q.const_score_query(Q.term_query(schema, node.field, text), weight))
                for text, weight in node.weights
            ])
        if isinstance(node, qt.Every):
            return Q.term_query(schema, "kind", PASSAGE)
        return Q.empty_query()

    def _term(self, field: str, text: str) -> tantivy.Query:
        """A term scored with Whoosh's idf, log(N / (n + 1)) + 1, in place of tantivy's
        ln(1 + (N - n + 0.5) / (n + 0.5)): a boost by their ratio."""
        query = tantivy.Query.term_query(self.schema, field, text)
        if field not in TEXT_FIELDS:  # Whoosh does not score keyword fields: each match counts 1
            return tantivy.Query.const_score_query(query, 1.0)
        return _boosted(query, idf_ratio(self.searcher.doc_freq(field, text), self._every))

    def _phrase(self, node: qt.Phrase) -> tantivy.Query:
        """Matches where the words are adjacent; scored as the sum of each word's own
        BM25, as Whoosh scores a phrase (tantivy's phrase score counts occurrences of
        the whole phrase and sums the idfs)."""
        Q, schema = tantivy.Query, self.schema
        clauses = [(tantivy.Occur.Must, Q.const_score_query(Q.phrase_query(schema, node.field, list(node.terms)), 0.0))]
        clauses += [(tantivy.Occur.Must, self._term(node.field, term)) for term in node.terms]
        return Q.boolean_query(clauses)

    def _filtered(self, query: tantivy.Query, lang: str | None) -> tantivy.Query:
        if lang is None:
            return query
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Must, query),
            (tantivy.Occur.Must, tantivy.Query.const_score_query(self._filters[lang], 0.0)),
        ])

    def rank(self, query: qt.Node, limit: int, lang: str | None, count: bool = False) -> tuple[Scored, dict[str, int] | None]:
        compiled = self.compile(query)
        found = self.searcher.search(self._filtered(compiled, lang), limit, count=False)
        scored = [(float(score), (address.segment_ord, address.doc)) for score, address in found.hits]
        return scored, (self._counts(compiled) if count else None)

    def by_date(self, query: qt.Node, limit: int, lang: str | None) -> Scored:
        found = self.searcher.search(self._filtered(self.compile(query), lang), self._every, count=False).hits
        if not found:
            return []
        dates = self.searcher.fast_field_values("date_n", [address for _, address in found])
        order = sorted(range(len(found)), key=lambda i: (-(dates[i] or 0), -found[i][0]))
        cut = min(limit, len(order))
        while cut < len(order) and _same(found, dates, order[cut - 1], order[cut]):
            cut += 1  # a tie straddling the limit is ordered below by doc_id and section
        chosen = [(found[i][0], dates[i] or 0, self._stored(found[i][1]), found[i][1]) for i in order[:cut]]
        chosen.sort(key=lambda c: (-c[1], -c[0], c[2]["doc_id"], c[2]["section_no"], c[2]["part"]))
        return [(float(score), (address.segment_ord, address.doc)) for score, _, _, address in chosen[:limit]]

    def count(self, query: qt.Node) -> dict[str, int]:
        return self._counts(self.compile(query))

    def _counts(self, compiled: tantivy.Query) -> dict[str, int]:
        return {lang: self.searcher.search(self._filtered(compiled, lang), 1, count=True).count for lang in LANGS}

    def stored(self, key: tuple[int, int]) -> dict[str, Any]:
        """Keys are (segment, document) pairs: tantivy's addresses are not hashable."""
        return self._stored(tantivy.DocAddress(*key))

    def _stored(self, address: tantivy.DocAddress) -> dict[str, Any]:
        return json.loads(self.searcher.doc(address).get_first("stored"))

    def _all(self, query: tantivy.Query) -> Iterator[dict[str, Any]]:
        for _, address in self.searcher.search(query, self._every, count=False).hits:
            yield self._stored(address)

    def find_pid(self, pid: str) -> dict[str, Any] | None:
        hits = self.searcher.search(tantivy.Query.term_query(self.schema, "pid", pid), 1, count=False).hits
        return self._stored(hits[0][1]) if hits else None

    def passages_of(self, doc_id: str) -> list[dict[str, Any]]:
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "doc_id", doc_id)),
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "kind", PASSAGE)),
        ])
        return sorted(self._all(query), key=lambda f: (f["section_no"], f["part"]))

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        return self._all(tantivy.Query.term_query(self.schema, "kind", kind))

    def doc_frequency(self, field: str, term: str) -> int:
        return self.searcher.doc_freq(field, term)

    def expand_prefix(self, field: str, prefix: str) -> Iterator[str]:
        return iter(sorted(term for term, _ in self.searcher.terms_with_prefix(field, prefix)))

    def has_term(self, field: str, term: str) -> bool:
        return self.searcher.doc_freq(field, term) > 0

    def vocabulary(self, field: str) -> Iterator[tuple[str, int]]:
        return iter(self.searcher.terms_with_prefix(field, ""))

    def totals(self) -> dict[str, int]:
        def number(kind: str) -> int:
            return self.searcher.search(tantivy.Query.term_query(self.schema, "kind", kind), 1, count=True).count

        return {"documents": number("doc"), "passages": number(PASSAGE)}

    def deleted_records(self) -> int:
        """Records of deleted documents still in the segments (``meta.json`` counts them
        per segment), until a merge drops them."""
        if self.path is None:
            return 0
        try:
            meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        return sum(((segment.get("deletes") or {}).get("num_deleted_docs") or 0) for segment in meta.get("segments", []))

    def close(self) -> None:
        self.searcher = None


def field_weight(field: str) -> float:
    """The boost that gives a field's weight the effect it has in Whoosh on a term seen
    once in a field of average length."""
    weight = TEXT_FIELDS.get(field, ("", 1.0))[1]
    return weight * (K1 + 1) / (weight + K1)


def idf_ratio(matching: int, documents: int) -> float:
    """Whoosh's idf over tantivy's for a term held by ``matching`` of ``documents``.

    >>> round(idf_ratio(9, 1000), 3), idf_ratio(0, 1000)
    (1.203, 1.0)
    """
    if matching <= 0 or documents <= 0:
        return 1.0
    whoosh = math.log(documents / (matching + 1)) + 1
    tantivy_idf = math.log(1 + (documents - matching + 0.5) / (matching + 0.5))
    return whoosh / tantivy_idf


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _same(found: list, dates: list, a: int, b: int) -> bool:
    return (dates[a] or 0) == (dates[b] or 0) and found[a][0] == found[b][0]
