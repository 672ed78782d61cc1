"""Records: a ``Document`` -> the engine records that represent it in the index.

    passage_records     one record per passage (kind "passage"): the searchable text and
                        its token offsets (``offsets``), stored for marks and snippets
    DocumentRecords     adds the passages through a writer, gathers the document's bridge
                        pairs from the tokens the indexer just produced (analysis results
                        are cached, so nothing is analyzed twice), looks up dictionary
                        pairs for all documents of the run in one batch, and writes two
                        records per document: kind "doc" (path, digest: small, read by
                        every reindex) and kind "pairs" (its bridge pairs)
    glossary_record     the glossary's pairs (kind "glossary")

Keeping digests and pairs in the index itself means they commit atomically with the
postings they describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import analysis, bridge, offsets
from .corpus import Document, passages

DOC_KIND, PASSAGE_KIND, PAIRS_KIND, GLOSSARY_KIND = "doc", "passage", "pairs", "glossary"
GLOSSARY_PID = "glossary"


def passage_records(document: Document) -> Iterator[dict]:
    """The records of a document's passages."""
    meta = {
        "title": document.title, "source": document.source, "url": document.url,
        "translations": list(document.translations),
        "source_title": document.meta.get("source_title"),
    }
    for passage in passages(document):
        yield {
            "pid": f"{document.doc_id}#s{passage.section}p{passage.part}",
            "kind": PASSAGE_KIND,
            "doc_id": document.doc_id,
            "lang": document.lang,
            "title": document.title,
            "section": passage.heading or "",
            "body": passage.text,
            "section_no": passage.section,
            "part": passage.part,
            "date": document.date or "",
            "meta": meta,
            "offsets": {
                "title": offsets.encode(document.title), "section": offsets.encode(passage.heading or ""),
                "body": offsets.encode(passage.text),
            },
        }


@dataclass
class _Pending:
    document: Document
    pairs: list[bridge.Pair]
    state: tuple[int, int] | None  # the file's size and mtime when read
    japanese: set[str] = field(default_factory=set)
    english: set[str] = field(default_factory=set)


class DocumentRecords:
    """Writes documents through an engine writer; ``finish()`` before committing."""

    def __init__(self, writer, dictionary: Path | None, records=passage_records) -> None:
        self.writer = writer
        self.dictionary = dictionary
        self.records = records
        self.pending: list[_Pending] = []
        self.pairs_by_owner: dict[str, list[bridge.Pair]] = {}  # for ``bridgestore`` after the commit

    def add(self, document: Document, state: tuple[int, int] | None = None) -> None:
        tokens: list[analysis.Token] = []
        for record in self.records(document):
            self.writer.add(record)
            tokens += analysis.analyze(record["body"])
        pending = _Pending(document, bridge.gloss_pairs(tokens), state)
        for passage in passages(document):
            if document.lang == "ja":
                pending.pairs += bridge.bracket_pairs(passage.text)
        pending.japanese, pending.english = bridge.lookup_candidates(tokens)
        self.pending.append(pending)

    def finish(self) -> None:
        """Dictionary look-ups for the whole batch, then the records of each document."""
        japanese = set().union(*(p.japanese for p in self.pending)) if self.pending else set()
        english = set().union(*(p.english for p in self.pending)) if self.pending else set()
        found = bridge.dictionary_pairs(self.dictionary, japanese, english)
        by_term: dict[str, list[int]] = {}  # looked-up word -> its pairs' places in found
        for place, pair in enumerate(found):
            by_term.setdefault(pair.ja, []).append(place)
            by_term.setdefault(pair.en.lower(), []).append(place)
        for pending in self.pending:
            places = {i for term in pending.japanese | pending.english for i in by_term.get(term, ())}
            mine = [found[i] for i in sorted(places)]
            self.writer.add(document_record(pending.document, pending.state))
            record = pairs_record(pending.document, pending.pairs + mine)
            self.writer.add(record)
            self.pairs_by_owner[pending.document.doc_id] = [bridge.Pair.from_stored(r) for r in record["meta"]["pairs"]]
        self.pending = []


def document_record(document: Document, state: tuple[int, int] | None = None) -> dict:
    """Small on purpose: every reindex reads the digests of all documents. ``state`` is
    the file's (size, mtime) when it was read: an unchanged pair means an unchanged file."""
    return {
        "pid": f"doc:{document.doc_id}",
        "kind": DOC_KIND,
        "doc_id": document.doc_id,
        "path": document.path,
        "digest": document.digest,
        "lang": document.lang,
        "meta": {"title": document.title, "translations": list(document.translations),
                 "state": list(state) if state else None},
    }


def pairs_record(document: Document, pairs: list[bridge.Pair]) -> dict:
    """The document's bridge pairs, read when a search loads the bridge."""
    return {
        "pid": f"pairs:{document.doc_id}",
        "kind": PAIRS_KIND,
        "doc_id": document.doc_id,
        "meta": {"pairs": [p.stored() for p in bridge.unique(pairs)]},
    }


def glossary_record(pairs: list[bridge.Pair], digest: str) -> dict:
    return {
        "pid": GLOSSARY_PID, "kind": GLOSSARY_KIND, "digest": digest,
        "meta": {"pairs": [p.stored() for p in pairs]},
    }
