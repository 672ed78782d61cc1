"""Index: schema, atomic build and incremental update, format version, opening for search.

Layout of the index folder::

    index/
      CURRENT            {"format": "...", "name": "gen-..."}: which generation serves
      gen-<id>/          a Whoosh index (its own TOC files make each commit atomic)
      .reindex.lock      held (flock) by the one reindex that may run

Reindex, step by step:

    lock -> discover corpus files -> compare each file's sha256 with the digest stored
    on its passages -> parse changed files -> delete + add their passages -> commit

An incremental run writes into the serving generation through Whoosh's writer, whose
commit is atomic: readers see the old TOC until the new one is complete. A full run (or
a format change, or an unreadable index) builds a new ``gen-*`` folder and then swaps
``CURRENT`` with ``os.replace``. File digests and bridge pairs live in per-document
records inside the index, so the record of what was indexed commits with the postings. A killed run leaves at most an
unreferenced folder or segment files, cleaned up by the next run.

Searchers read segment files from an mmap without copying them (``segments``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.writing import CLEAR

from . import analysis, userdict
from .segments import open_generation
from .bridge import GLOSSARY_FILE, glossary_pairs
from .corpus import CorpusFile, Document, Skipped, discover, digest_of, read_bytes, read_document, read_reserved
from .records import (
    DOC_KIND, GLOSSARY_KIND, GLOSSARY_PID, PASSAGE_KIND, DocumentRecords, glossary_record,
    passage_records,
)
from .errors import CorpusError, IndexLocked, IndexMissing, IndexUnusable

SCHEMA_VERSION = 5  # 5: profile records and learned pairs (with confidences)
INDEX_FORMAT = f"{SCHEMA_VERSION}.{analysis.ANALYSIS_VERSION}"
CURRENT_FILE = "CURRENT"
WRITER_MB = 96  # Whoosh buffers this much before it writes a segment; Python objects cost ~3x that
LOCK_FILE = ".reindex.lock"

Progress = Callable[[str], None]
Phase = Callable[[str], None]  # told "files-added", "segments-written", "committed", "current-swapped"


def _no_phase(name: str) -> None:
    return None


def build_schema() -> Schema:
    """One record per passage; title and heading are repeated on each of its passages."""

    def text(boost: float = 1.0, kind: str = "term", stored: bool = True) -> TEXT:
        return TEXT(
            analyzer=analysis.analyzer(kind), phrase=True, chars=True, stored=stored,
            field_boost=boost, multitoken_query="phrase",
        )

    return Schema(
        pid=ID(unique=True, stored=True),
        kind=ID(stored=True),  # "passage", "doc" (path, digest), "pairs" (bridge) or "glossary"
        doc_id=ID(stored=True, sortable=True),
        path=ID(stored=True),
        digest=STORED(),
        lang=ID(stored=True),
        title=text(3.0),
        section=text(2.0),
        body=text(),
        # The same passage text, indexed three more ways (see analysis): surface forms
        # rank exact spellings higher; readings and character bigrams find what the
        # morphological split misses, at a lower weight.
        body_surface=text(kind="norm", stored=False),
        body_reading=text(0.3, kind="reading", stored=False),
        body_ngram=text(0.2, kind="ngram", stored=False),
        section_no=NUMERIC(stored=True, sortable=True),
        part=NUMERIC(stored=True),
        date=ID(stored=True, sortable=True),
        meta=STORED(),
    )


@dataclass
class ReindexReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0
    full: bool = False

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"skipped {len(self.skipped)}; {self.passages} passages; {self.seconds:.2f} s"
        )


# --- the serving generation -------------------------------------------------------


def read_current(index_dir: Path) -> dict | None:
    try:
        current = json.loads((index_dir / CURRENT_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexUnusable(f"Index at {index_dir} is unreadable: {exc}") from exc
    if not isinstance(current, dict) or "name" not in current:
        raise IndexUnusable(f"Index at {index_dir} has a malformed {CURRENT_FILE} file")
    return current


def open_index(index_dir: Path) -> tuple[whoosh_index.Index, str]:
    """The serving Whoosh index and its generation name (IndexMissing / IndexUnusable)."""
    current = read_current(index_dir)
    if current is None:
        raise IndexMissing(f"Index not found at {index_dir}")
    if current.get("format") != INDEX_FORMAT:
        raise IndexUnusable(
            f"Index at {index_dir} has format {current.get('format')}, this casearch reads {INDEX_FORMAT}"
        )
    path = index_dir / current["name"]
    try:
        return open_generation(path), current["name"]
    except Exception as exc:  # Whoosh raises many kinds for a damaged index
        raise IndexUnusable(f"Index at {index_dir} cannot be opened: {exc}") from exc


def _write_current(index_dir: Path, name: str, userdict: str) -> None:
    tmp = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump({"format": INDEX_FORMAT, "name": name, "userdict": userdict}, out)
        out.flush()
        os.fsync(out.fileno())
    target = index_dir / CURRENT_FILE
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)  # nothing valid lives there; it would block the swap
    os.replace(tmp, target)
    _fsync_dir(index_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_generations(index_dir: Path, keep: set[str]) -> None:
    """Delete generation folders nobody serves; the previous one stays for open readers."""
    for child in index_dir.glob("gen-*"):
        if child.name not in keep and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
    for tmp in index_dir.glob(f".{CURRENT_FILE}.*.tmp"):
        tmp.unlink(missing_ok=True)


@contextmanager
def reindex_lock(index_dir: Path) -> Iterator[None]:
    """Exclusive across processes; the kernel drops it if the holder dies."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK_FILE, os.O_CREAT | os.O_WRONLY, 0o644)
    except OSError as exc:
        raise IndexUnusable(
            f"Index folder {index_dir} is not writable: {exc.strerror or exc}",
            hint="Choose another folder with --index DIR or fix its permissions.",
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(f"Index at {index_dir} is locked by another reindex") from None
        yield
    finally:
        os.close(fd)


# --- reindex ----------------------------------------------------------------------


def reindex(
    corpus_dir: Path, index_dir: Path, *, full: bool = False, max_file_bytes: int = 20 << 20,
    progress: Progress | None = None, phase: Phase | None = None,
) -> ReindexReport:
    """Bring the index at ``index_dir`` up to date with ``corpus_dir`` (see module doc).

    ``phase`` is told when the writer passes each step (used by the crash tests).
    """
    began = time.perf_counter()
    say = progress or (lambda message: None)
    phase = phase or _no_phase
    with reindex_lock(index_dir):
        files, skipped = discover(corpus_dir)
        user_words = _read_reserved(corpus_dir, userdict.FILE_NAME, max_file_bytes, skipped)
        glossary = _read_reserved(corpus_dir, GLOSSARY_FILE, max_file_bytes, skipped)
        context = _Context(max_file_bytes, say, phase, glossary, _dictionary(index_dir, say))
        previous_words = (read_current_or_none(index_dir) or {}).get("userdict", "")
        userdict_text, userdict_digest = user_words or ("", previous_words)  # unreadable: as before
        current = _usable_current(index_dir, full, userdict_digest, say)
        report = ReindexReport(skipped=list(skipped), full=current is None)
        if current is None:
            name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
            (index_dir / name).mkdir(parents=True)
            compiled = _compile_user_dictionary(userdict_text, index_dir / name, say)
            with analysis.user_dictionary(compiled):
                _build_generation(index_dir / name, files, report, context)
            previous = read_current_or_none(index_dir)
            _write_current(index_dir, name, userdict_digest)
            phase("current-swapped")
            keep = {name} | ({previous["name"]} if previous else set())
        else:
            name = current["name"]
            with analysis.user_dictionary(user_dictionary_path(index_dir / name)):
                _update_generation(index_dir / name, files, report, context)
            keep = {name}
        _remove_stale_generations(index_dir, keep)
        report.passages = count_passages(index_dir / name)
    report.seconds = time.perf_counter() - began
    return report


def read_current_or_none(index_dir: Path) -> dict | None:
    try:
        return read_current(index_dir)
    except IndexUnusable:
        return None


def _usable_current(index_dir: Path, full: bool, userdict_digest: str, say: Progress) -> dict | None:
    """The generation to update in place, or None when a new one must be built."""
    if full:
        return None
    current = read_current_or_none(index_dir)
    if current is None:
        return None
    if current.get("format") != INDEX_FORMAT:
        say(f"index format {current.get('format')} != {INDEX_FORMAT}: rebuilding")
        return None
    if current.get("userdict", "") != userdict_digest:
        say(f"{userdict.FILE_NAME} changed: rebuilding")
        return None
    try:
        open_generation(index_dir / current["name"]).doc_count()
    except Exception as exc:  # a damaged generation is rebuilt, not patched
        say(f"index unreadable ({exc}): rebuilding")
        return None
    return current


@dataclass(frozen=True)
class _Context:
    """What every step of one reindex run needs."""

    max_bytes: int
    say: Progress
    phase: Phase
    glossary: tuple[str, str] | None  # text, digest; None when unreadable this time
    dictionary: Path | None  # jamdict-data's database, when installed


def _read_reserved(corpus_dir: Path, name: str, max_bytes: int, skipped: list[Skipped]) -> tuple[str, str] | None:
    """A reserved corpus file's text and digest ("" and "" when there is none); None when
    it cannot be read: it is reported as skipped and what the index has from it stays."""
    try:
        raw = read_reserved(corpus_dir, name, max_bytes)
    except CorpusError as exc:
        skipped.append(Skipped(name, str(exc)))
        return None
    if raw is None:
        return "", ""
    return raw.decode("utf-8-sig", errors="replace"), digest_of(raw)


def _dictionary(index_dir: Path, say: Progress) -> Path | None:
    from . import jmdict

    db = jmdict.database_path(index_dir / "jmdict-cache")
    if db is None:
        say("jamdict-data is not installed: cross-lingual pairs come from glosses, the corpus and the glossary only")
    return db


def _compile_user_dictionary(text: str, generation: Path, say: Progress) -> Path | None:
    entries, problems = userdict.read_entries(text)
    for problem in problems:
        say(problem)
    if not entries:
        return None
    target = generation / userdict.COMPILED_NAME
    userdict.compile_to(entries, target)
    say(f"{userdict.FILE_NAME}: {len(entries)} words")
    return target


def user_dictionary_path(generation: Path) -> Path | None:
    compiled = generation / userdict.COMPILED_NAME
    return compiled if compiled.exists() else None


def _build_generation(path: Path, files: list[CorpusFile], report: ReindexReport, context: _Context) -> None:
    ix = whoosh_index.create_in(str(path), build_schema())
    writer = _announcing_writer(ix, context.phase)
    try:
        documents = DocumentRecords(writer, context.dictionary, passage_records)
        for n, file in enumerate(files, start=1):
            document = _load(file, context.max_bytes, report)
            if document is not None:
                documents.add(document)
                report.added += 1
            _tick(context.say, n, len(files))
        documents.finish()
        _write_glossary(writer, context, replace=False)
        context.phase("files-added")
        writer.commit(mergetype=CLEAR)
        context.phase("committed")
    except BaseException:
        writer.cancel()
        raise


def _update_generation(path: Path, files: list[CorpusFile], report: ReindexReport, context: _Context) -> None:
    ix = open_generation(path)
    indexed, glossary_digest = indexed_digests(ix)
    writer = _announcing_writer(ix, context.phase)
    try:
        documents = DocumentRecords(writer, context.dictionary, passage_records)
        seen: set[str] = set()
        for n, file in enumerate(files, start=1):
            seen.add(file.doc_id)
            _update_file(documents, file, indexed.get(file.doc_id), report, context.max_bytes)
            _tick(context.say, n, len(files))
        documents.finish()
        for doc_id in sorted(set(indexed) - seen - _kept_despite_skip(indexed, report.skipped)):
            writer.delete_by_term("doc_id", doc_id)
            report.removed += 1
        if context.glossary is not None and glossary_digest != context.glossary[1]:
            _write_glossary(writer, context, replace=True)
        context.phase("files-added")
        writer.commit()
        context.phase("committed")
    except BaseException:
        writer.cancel()
        raise


def _kept_despite_skip(indexed: dict[str, str], skipped: list[Skipped]) -> set[str]:
    """Documents whose file (or folder, a path ending in /) could not be read this time:
    their previous version stays; only a file that is really gone is removed."""
    files = {s.path.rsplit(".", 1)[0] for s in skipped if not s.path.endswith("/")}
    folders = tuple(s.path for s in skipped if s.path.endswith("/"))
    return {doc_id for doc_id in indexed if doc_id in files or (folders and doc_id.startswith(folders))}


def _write_glossary(writer, context: _Context, replace: bool) -> None:
    if replace:
        writer.delete_by_term("pid", GLOSSARY_PID)
    text, digest = context.glossary or ("", "")
    pairs, problems = glossary_pairs(text)
    for problem in problems:
        context.say(problem)
    writer.add_document(**glossary_record(pairs, digest))


def _announcing_writer(ix: whoosh_index.Index, phase: Phase):
    """A writer that tells ``phase`` when its segment files are on disk, before the TOC."""
    writer = ix.writer(limitmb=WRITER_MB)
    write_toc = writer._commit_toc

    def commit_toc(segments):
        phase("segments-written")
        write_toc(segments)

    writer._commit_toc = commit_toc
    return writer


def _update_file(
    documents: DocumentRecords, file: CorpusFile, old_digest: str | None, report: ReindexReport, max_bytes: int
) -> None:
    try:
        raw = read_bytes(file, max_bytes)
    except CorpusError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return
    if old_digest == digest_of(raw):
        return
    document = _parse(file, raw, report)
    if document is None:
        return  # the previous version, if any, stays searchable
    documents.writer.delete_by_term("doc_id", file.doc_id)
    documents.add(document)
    if old_digest is None:
        report.added += 1
    else:
        report.updated += 1


def _load(file: CorpusFile, max_bytes: int, report: ReindexReport) -> Document | None:
    try:
        raw = read_bytes(file, max_bytes)
    except CorpusError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return None
    return _parse(file, raw, report)


def _parse(file: CorpusFile, raw: bytes, report: ReindexReport) -> Document | None:
    try:
        return read_document(file, raw)
    except CorpusError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return None


def _tick(say: Progress, n: int, total: int) -> None:
    if n == total or n % 100 == 0:
        say(f"indexed {n}/{total} files")


def indexed_digests(ix: whoosh_index.Index) -> tuple[dict[str, str], str | None]:
    """doc_id -> digest of the file its passages came from; and the glossary's digest."""
    with ix.searcher() as searcher:
        digests = {fields["doc_id"]: fields["digest"] for fields in searcher.documents(kind=DOC_KIND)}
        glossary = next(iter(searcher.documents(kind=GLOSSARY_KIND)), {}).get("digest")
    return digests, glossary


def count_passages(path: Path) -> int:
    """Passages served (deleted records, kept until a merge, are not counted)."""
    with open_generation(path).searcher() as searcher:
        return sum(1 for _ in searcher.document_numbers(kind=PASSAGE_KIND))
