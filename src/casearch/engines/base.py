"""What an engine implements, and the field layout both engines share.

A record is a dict: the stored fields of one passage (or of a document's bookkeeping
record), with ``body`` also feeding the three extra body fields. ``Key`` is whatever the
engine uses to name a matching record (a document number, an address); it is only
handed back to the same reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, Protocol

from ..querytree import Node

Key = Hashable
Scored = list[tuple[float, Key]]
Phase = Callable[[str], None]

# Searchable fields: name -> (analysis kind, weight). The extra body fields index the
# passage text again (surface forms, reading bigrams, character bigrams).
TEXT_FIELDS: dict[str, tuple[str, float]] = {
    "title": ("term", 3.0),
    "section": ("term", 2.0),
    "body": ("term", 1.0),
    "body_surface": ("norm", 1.0),
    "body_reading": ("reading", 0.3),
    "body_ngram": ("ngram", 0.2),
}
EXTRA_BODY_FIELDS = ("body_surface", "body_reading", "body_ngram")
KEYWORD_FIELDS = ("pid", "kind", "doc_id", "lang", "date", "lead")  # lead: doc | section | "" (records)
STORED_ONLY = ("path", "digest", "meta", "offsets", "layout")
NUMBER_FIELDS = ("section_no", "part")
LANGS = ("ja", "en")
PASSAGE = "passage"


class Writer(Protocol):
    def add(self, record: dict[str, Any]) -> None: ...

    def delete_document(self, doc_id: str) -> None:
        """Every record of the document (passages and bookkeeping)."""

    def delete_pid(self, pid: str) -> None: ...

    def commit(self) -> None:
        """Atomic: readers see all of this run's changes or none."""

    def cancel(self) -> None: ...


class Reader(Protocol):
    version: tuple  # changes with every commit

    def rank(self, query: Node, limit: int, lang: str | None, count: bool = False) -> tuple[Scored, dict[str, int] | None]:
        """The best ``limit`` matches (score order) of passages in ``lang`` (None: all);
        with ``count``, also the matches per language (ignoring ``lang``)."""

    def by_date(self, query: Node, limit: int, lang: str | None) -> Scored:
        """Newest first (undated last), then score, doc_id, section."""

    def count(self, query: Node) -> dict[str, int]: ...

    def stored(self, key: Key) -> dict[str, Any]: ...

    def find_pid(self, pid: str) -> dict[str, Any] | None: ...

    def passages_of(self, doc_id: str) -> list[dict[str, Any]]: ...

    def records(self, kind: str) -> Iterator[dict[str, Any]]: ...

    def doc_frequency(self, field: str, term: str) -> int: ...

    def expand_prefix(self, field: str, prefix: str) -> Iterator[str]:
        """Terms of ``field`` starting with ``prefix``, in code point order."""

    def has_term(self, field: str, term: str) -> bool: ...

    def vocabulary(self, field: str) -> Iterator[tuple[str, int]]:
        """Every term of ``field`` with the number of records holding it."""

    def deleted_records(self) -> int:
        """Records of deleted documents the segments still hold (and the lexicon still
        counts) until a merge drops them; a full reindex writes none."""

    def totals(self) -> dict[str, int]:
        """Documents and passages served (deleted records left out)."""

    def close(self) -> None: ...


class Backend(Protocol):
    name: str

    def create(self, path: Path, phase: Phase) -> Writer: ...

    def update(self, path: Path, phase: Phase) -> Writer: ...

    def open(self, path: Path) -> Reader: ...

    def stamp(self, path: Path) -> int:
        """A number that changes with every commit, read without opening a reader."""
