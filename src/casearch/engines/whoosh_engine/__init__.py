"""The Whoosh engine (whoosh-reloaded): schema, writer, and the reader in ``reader``.

    record -> Whoosh fields (body also into body_surface/_reading/_ngram, analyzed by
              ``analysis.CasearchTokenizer``: the same token streams tantivy is given)
           -> one writer per run; ``commit`` writes segments, then the TOC (atomic)

The schema is pickled into the index with its analyzers, so the tokenizer's import path
(``casearch.analysis.CasearchTokenizer``) must stay stable. Searchers read segments from
a shared mmap (``segments``); queries run through our matchers (``matchers``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.writing import CLEAR, SegmentWriter

from ... import analysis
from ..base import EXTRA_BODY_FIELDS, TEXT_FIELDS, Phase
from .reader import WhooshReader
from .segments import open_generation

WRITER_MB = 96  # Whoosh buffers this much before it writes a segment; Python objects cost ~3x that


def build_schema() -> Schema:
    """One record per passage; title and heading are repeated on each of its passages."""

    def text(kind: str, boost: float, stored: bool) -> TEXT:
        return TEXT(
            analyzer=analysis.analyzer(kind), phrase=True, chars=True, stored=stored,
            field_boost=boost, multitoken_query="phrase",
        )

    searchable = {
        name: text(kind, boost, stored=name not in EXTRA_BODY_FIELDS) for name, (kind, boost) in TEXT_FIELDS.items()
    }
    return Schema(
        pid=ID(unique=True, stored=True),
        kind=ID(stored=True),  # "passage", "doc" (path, digest), "pairs" (bridge) or "glossary"
        doc_id=ID(stored=True, sortable=True),
        path=ID(stored=True),
        digest=STORED(),
        lang=ID(stored=True),
        section_no=NUMERIC(stored=True, sortable=True),
        part=NUMERIC(stored=True),
        date=ID(stored=True, sortable=True),
        lead=ID(stored=True),  # "doc" on a document's first passage, "section" on a section's
        meta=STORED(),
        offsets=STORED(),  # the passage's token offsets (``offsets``), for marks and snippets
        layout=STORED(),  # the passage's Markdown structure (``layout``), for the page and snippets
        **searchable,
    )


class WhooshWriter:
    def __init__(self, ix: whoosh_index.Index, phase: Phase, clear: bool) -> None:
        self.writer = ix.writer(limitmb=WRITER_MB)
        self.clear = clear
        self.parts: list = []  # finished segments of part writers (``parallel``)
        write_toc = self.writer._commit_toc

        def commit_toc(segments):  # segment files are on disk; the TOC makes them live
            phase("segments-written")
            write_toc(segments)

        self.writer._commit_toc = commit_toc

    def add(self, record: dict[str, Any]) -> None:
        fields = dict(record)
        if "body" in fields:
            for name in EXTRA_BODY_FIELDS:
                fields[name] = fields["body"]
        self.writer.add_document(**fields)

    def delete_document(self, doc_id: str) -> None:
        self.writer.delete_by_term("doc_id", doc_id)

    def delete_pid(self, pid: str) -> None:
        self.writer.delete_by_term("pid", pid)

    def adopt(self, segment) -> None:
        """A part writer's finished segment, made live by this writer's commit."""
        self.parts.append(segment)

    def commit(self) -> None:
        if self.parts:
            self._commit_with_parts()
        elif self.clear:
            self.writer.commit(mergetype=CLEAR)
        else:
            self.writer.commit()

    def _commit_with_parts(self) -> None:
        """One TOC listing the adopted segments and this writer's own (as Whoosh's
        multi-process writer does with ``multisegment``): still one atomic switch."""
        writer = self.writer
        segments = writer._merge_segments(CLEAR if self.clear else None, False, True) + self.parts
        if writer._added:
            segments.append(writer._finalize_segment())
        else:
            writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()

    def cancel(self) -> None:
        self.writer.cancel()


class WhooshPartWriter(WhooshWriter):
    """Writes one segment of a generation in a worker process, without the index lock
    (the parent's writer holds it and adopts the segment)."""

    def __init__(self, ix: whoosh_index.Index) -> None:
        self.writer = SegmentWriter(ix, _lk=False, limitmb=WRITER_MB // 2)
        self.clear = False
        self.parts = []

    def finish_part(self):
        return self.writer._finalize_segment()  # the temp folder is shared: the parent removes it


class WhooshBackend:
    name = "whoosh"

    def create(self, path: Path, phase: Phase) -> WhooshWriter:
        return WhooshWriter(whoosh_index.create_in(str(path), build_schema()), phase, clear=True)

    def update(self, path: Path, phase: Phase) -> WhooshWriter:
        return WhooshWriter(open_generation(path), phase, clear=False)

    def part_writer(self, path: Path) -> WhooshPartWriter:
        return WhooshPartWriter(open_generation(path))

    def open(self, path: Path) -> WhooshReader:
        return WhooshReader(open_generation(path), path.name)

    def stamp(self, path: Path) -> int:
        return TOC._latest_generation(FileStorage(str(path)), "MAIN")
