"""Index: atomic build and incremental update, format version, which engine serves.

Layout of the index folder::

    index/
      CURRENT            {"format": "...", "engine": "whoosh", "name": "gen-..."}: which
                         generation serves, and the engine that built it
      gen-<id>/          one engine's index (each engine's commit is atomic)
      .reindex.lock      held (flock) by the one reindex that may run

Reindex, step by step:

    lock -> discover corpus files -> a file whose size and modification time are those
    recorded at its last indexing is unchanged (no read, no hash); else compare its
    sha256 with the recorded digest -> parse changed files -> delete + add their
    passages -> commit

An incremental run writes into the serving generation through the engine's writer, whose
commit is atomic: readers see the previous commit until the new one is complete. A full run (or
a format change, or an unreadable index) builds a new ``gen-*`` folder and then swaps
``CURRENT`` with ``os.replace``. File digests and bridge pairs live in per-document
records inside the index, so the record of what was indexed commits with the postings. A killed run leaves at most an
unreferenced folder or segment files, cleaned up by the next run.

The engine (``engines``) only indexes and matches: records, offsets and pairs are ours.
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

from . import analysis, bridgestore, config, engines, parallel, synonyms, userdict
from .engines.base import Backend, Reader, Writer
from .bridge import GLOSSARY_FILE, Pair, glossary_pairs
from .corpus import CorpusFile, Document, Skipped, discover, digest_of, read_bytes, read_document, read_reserved
from .records import (
    DOC_KIND, GLOSSARY_KIND, GLOSSARY_PID, MINED_PID, DocumentRecords, glossary_record, indexed_profiles,
    passage_records, synonyms_record,
)
from .errors import CorpusError, EngineMismatch, IndexLocked, IndexMissing, IndexUnusable

SCHEMA_VERSION = 9  # 5: the engine seam (offsets, engine in CURRENT); 6: profiles and learned pairs;
# 7: Markdown stored as the text its reader reads, with its layout; 8: outlines of documents;
# 9: lead (a passage's place: the document's or a section's first)
INDEX_FORMAT = f"{SCHEMA_VERSION}.{analysis.ANALYSIS_VERSION}"
CURRENT_FILE = "CURRENT"
RACY_NS = 2_000_000_000  # a file modified this recently may change again within the same mtime
LOCK_FILE = ".reindex.lock"
JMDICT_CACHE = "jmdict-cache"  # in the index folder: jamdict.db when an install ships only the .xz

Progress = Callable[[str], None]
Phase = Callable[[str], None]  # told "files-added", "segments-written", "committed", "current-swapped"


def _no_phase(name: str) -> None:
    return None


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


def engine_of(current: dict) -> str:
    """The engine that built a generation (indexes from before the choice were Whoosh)."""
    return current.get("engine") or "whoosh"


def serving(index_dir: Path, engine: str) -> dict:
    """The serving generation's ``CURRENT`` record, checked against the engine asked
    for (IndexMissing / IndexUnusable / EngineMismatch)."""
    current = read_current(index_dir)
    if current is None:
        raise IndexMissing(f"Index not found at {index_dir}")
    if current.get("format") != INDEX_FORMAT:
        raise IndexUnusable(
            f"Index at {index_dir} has format {current.get('format')}, this casearch reads {INDEX_FORMAT}"
        )
    built = engine_of(current)
    if built != engine:
        raise EngineMismatch(
            f"Index at {index_dir} was built by the {built} engine, not {engine}",
            hint=f"Use --engine {built} (or CASEARCH_ENGINE={built}), or rebuild it: casearch reindex --full --engine {engine}",
        )
    return current


def open_reader(index_dir: Path, engine: str) -> tuple[Reader, dict]:
    """A reader of the serving generation and its ``CURRENT`` record."""
    current = serving(index_dir, engine)
    backend = engines.backend(engine)
    try:
        return backend.open(index_dir / current["name"]), current
    except IndexUnusable:
        raise
    except Exception as exc:  # engines raise many kinds for a damaged index
        raise IndexUnusable(f"Index at {index_dir} cannot be opened: {exc}") from exc


def _write_current(index_dir: Path, name: str, userdict: str, engine: str) -> None:
    tmp = index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump({"format": INDEX_FORMAT, "engine": engine, "name": name, "userdict": userdict}, out)
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
    progress: Progress | None = None, phase: Phase | None = None, engine: str | None = None,
    jobs: int | None = None,
) -> ReindexReport:
    """Bring the index at ``index_dir`` up to date with ``corpus_dir`` (see module doc),
    with ``engine`` (None: the configured one); an index built by another engine is rebuilt.

    ``phase`` is told when the writer passes each step (used by the crash tests).
    ``jobs``: processes for a full build (None: one per core for a large corpus).
    """
    began = time.perf_counter()
    backend = engines.backend(engine or config.engine())
    say = progress or (lambda message: None)
    phase = phase or _no_phase
    if not Path(corpus_dir).is_dir():  # before the lock: nothing may be left behind
        discover(corpus_dir)
    with reindex_lock(index_dir):
        files, skipped = discover(corpus_dir)
        user_words = _read_reserved(corpus_dir, userdict.FILE_NAME, max_file_bytes, skipped)
        glossary = _read_reserved(corpus_dir, GLOSSARY_FILE, max_file_bytes, skipped)
        user_synonyms = _read_reserved(corpus_dir, synonyms.FILE_NAME, max_file_bytes, skipped)
        context = _Context(
            max_file_bytes, say, phase, glossary, _dictionary(index_dir, say), backend, jobs, user_synonyms
        )
        previous_words = (read_current_or_none(index_dir) or {}).get("userdict", "")
        userdict_text, userdict_digest = user_words or ("", previous_words)  # unreadable: as before
        current = _usable_current(index_dir, full, userdict_digest, say, backend)
        report = ReindexReport(skipped=list(skipped), full=current is None)
        if current is None:
            name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
            (index_dir / name).mkdir(parents=True)
            compiled = _compile_user_dictionary(userdict_text, index_dir / name, say)
            with analysis.user_dictionary(compiled):
                _build_generation(index_dir / name, files, report, context)
            previous = read_current_or_none(index_dir)
            _write_current(index_dir, name, userdict_digest, backend.name)
            phase("current-swapped")
            keep = {name} | ({previous["name"]} if previous else set())
        else:
            name = current["name"]
            with analysis.user_dictionary(user_dictionary_path(index_dir / name)):
                _update_generation(index_dir / name, files, report, context)
            keep = {name}
        _remove_stale_generations(index_dir, keep)
        report.passages = count_passages(backend, index_dir / name)
    report.seconds = time.perf_counter() - began
    return report


def read_current_or_none(index_dir: Path) -> dict | None:
    try:
        return read_current(index_dir)
    except IndexUnusable:
        return None


def _usable_current(index_dir: Path, full: bool, userdict_digest: str, say: Progress, backend: Backend) -> dict | None:
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
    if engine_of(current) != backend.name:
        say(f"index built by {engine_of(current)}, reindexing with {backend.name}: rebuilding")
        return None
    try:
        backend.open(index_dir / current["name"]).totals()
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
    backend: Backend
    jobs: int | None = None  # processes for a full build (None: chosen by corpus size)
    synonyms: tuple[str, str] | None = None  # _synonyms.tsv: text, digest; None when unreadable


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

    db = jmdict.database_path(index_dir / JMDICT_CACHE)
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
    writer = context.backend.create(path, context.phase)
    try:
        documents = DocumentRecords(writer, context.dictionary, passage_records, context.say)
        jobs = parallel.jobs_for(len(files), context.jobs)
        if jobs > 1 and hasattr(context.backend, "part_writer"):
            parallel.add_in_parts(
                context.backend, path, files, documents, report, _load, context.max_bytes, jobs, context.say,
            )
        else:
            for n, file in enumerate(files, start=1):
                loaded = _load(file, context.max_bytes, report)
                if loaded is not None:
                    documents.add(*loaded)
                    report.added += 1
                _tick(context.say, n, len(files))
        documents.finish()
        glossary = _write_glossary(writer, context, replace=False)
        _write_synonyms(writer, context, replace=False)
        _commit(writer, context, documents.passages)
    except BaseException:
        writer.cancel()
        raise
    _write_store(path, context, documents.pairs_by_owner, glossary, removed=[])


def _update_generation(path: Path, files: list[CorpusFile], report: ReindexReport, context: _Context) -> None:
    reader = context.backend.open(path)
    try:
        indexed, glossary_digest = indexed_records(reader)
        writer = context.backend.update(path, context.phase)
        try:
            documents = DocumentRecords(writer, context.dictionary, passage_records, context.say)
            seen: set[str] = set()
            for n, file in enumerate(files, start=1):
                seen.add(file.doc_id)
                _update_file(documents, file, indexed.get(file.doc_id), report, context.max_bytes)
                _tick(context.say, n, len(files))
            removed = sorted(set(indexed) - seen - _kept_despite_skip(indexed, report.skipped))
            if documents.pending or removed:
                documents.finish(lambda: indexed_profiles(reader), removed, reader.find_pid(MINED_PID) or {})
            for doc_id in removed:
                writer.delete_document(doc_id)
                report.removed += 1
            glossary = None
            if context.glossary is not None and glossary_digest != context.glossary[1]:
                glossary = _write_glossary(writer, context, replace=True)
            synonyms_digest = next(iter(reader.records(synonyms.SYNONYMS_KIND)), {}).get("digest")
            if context.synonyms is not None and synonyms_digest != context.synonyms[1]:
                _write_synonyms(writer, context, replace=synonyms_digest is not None)
            _commit(writer, context, documents.passages)
        except BaseException:
            writer.cancel()
            raise
    finally:
        reader.close()
    _write_store(path, context, documents.pairs_by_owner, glossary, removed)


WRITE_NOTICE_PASSAGES = 500  # a commit of this many passages takes a while (Whoosh sorts them all): say so


def _commit(writer: Writer, context: _Context, passages: int = 0) -> None:
    """The engine's atomic commit, with the phases the crash tests wait at."""
    context.phase("files-added")
    if passages >= WRITE_NOTICE_PASSAGES:
        context.say(f"writing {passages:,} passages into the index")
    writer.commit()
    context.phase("committed")


def _write_store(
    path: Path, context: _Context, pairs: dict[str, list[Pair]], glossary: list[Pair] | None, removed: list[str]
) -> None:
    """The run's pair changes into the generation's ``bridgestore``, after the engine's
    commit (a run killed in between leaves a stale store, rebuilt when next read)."""
    changes = {bridgestore.document_owner(doc_id): found for doc_id, found in pairs.items()}
    changes.update({bridgestore.document_owner(doc_id): [] for doc_id in removed})
    if glossary is not None:
        changes[bridgestore.GLOSSARY_OWNER] = glossary
    if changes or bridgestore.stamp_of(path) is None:
        bridgestore.apply(path, changes, context.backend.stamp(path))


def _kept_despite_skip(indexed: dict[str, dict], skipped: list[Skipped]) -> set[str]:
    """Documents whose file (or folder, a path ending in /) could not be read this time:
    their previous version stays; only a file that is really gone is removed."""
    files = {s.path.rsplit(".", 1)[0] for s in skipped if not s.path.endswith("/")}
    folders = tuple(s.path for s in skipped if s.path.endswith("/"))
    return {doc_id for doc_id in indexed if doc_id in files or (folders and doc_id.startswith(folders))}


def _write_glossary(writer: Writer, context: _Context, replace: bool) -> list[Pair]:
    if replace:
        writer.delete_pid(GLOSSARY_PID)
    text, digest = context.glossary or ("", "")
    pairs, problems = glossary_pairs(text)
    for problem in problems:
        context.say(problem)
    writer.add(glossary_record(pairs, digest))
    return pairs


def _write_synonyms(writer: Writer, context: _Context, replace: bool) -> None:
    if replace:
        writer.delete_pid(synonyms.SYNONYMS_PID)
    text, digest = context.synonyms or ("", "")
    groups, problems = synonyms.read_groups(text)
    for problem in problems:
        context.say(problem)
    if groups:
        context.say(f"{synonyms.FILE_NAME}: {len(groups)} groups")
    writer.add(synonyms_record(groups, digest))


def _update_file(
    documents: DocumentRecords, file: CorpusFile, old: dict | None, report: ReindexReport, max_bytes: int
) -> None:
    """Index one file if it changed since ``old`` (its document record, None if new)."""
    state = file_state(file)
    if old is not None and state is not None and recorded_state(old) == state:
        return  # same size and modification time as when it was indexed: not even read
    try:
        raw = read_bytes(file, max_bytes)
    except CorpusError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return
    if old is not None and old.get("digest") == digest_of(raw):
        if state is not None:  # touched, not changed: remember its new time
            documents.writer.delete_pid(old["pid"])
            documents.writer.add(with_state(old, state))
        return
    document = _parse(file, raw, report)
    if document is None:
        return  # the previous version, if any, stays searchable
    documents.writer.delete_document(file.doc_id)
    documents.add(document, state)
    if old is None:
        report.added += 1
    else:
        report.updated += 1


def file_state(file: CorpusFile) -> tuple[int, int] | None:
    """(size, mtime in ns) of a corpus file, taken before reading it; None when it cannot
    be trusted to tell a change (unreadable, or modified within the last RACY_NS)."""
    try:
        info = os.stat(file.path)
    except OSError:
        return None
    if time.time_ns() - info.st_mtime_ns < RACY_NS:
        return None
    return info.st_size, info.st_mtime_ns


def recorded_state(record: dict) -> tuple[int, int] | None:
    state = (record.get("meta") or {}).get("state")
    return (state[0], state[1]) if isinstance(state, (list, tuple)) and len(state) == 2 else None


def with_state(record: dict, state: tuple[int, int]) -> dict:
    return {**record, "meta": {**(record.get("meta") or {}), "state": list(state)}}


def _load(file: CorpusFile, max_bytes: int, report: ReindexReport) -> tuple[Document, tuple[int, int] | None] | None:
    state = file_state(file)
    try:
        raw = read_bytes(file, max_bytes)
    except CorpusError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return None
    document = _parse(file, raw, report)
    return None if document is None else (document, state)


def _parse(file: CorpusFile, raw: bytes, report: ReindexReport) -> Document | None:
    try:
        return read_document(file, raw)
    except CorpusError as exc:
        report.skipped.append(Skipped(file.rel, str(exc)))
        return None


def _tick(say: Progress, n: int, total: int) -> None:
    if n == total or n % 100 == 0:
        say(f"checked {n}/{total} files")  # not "indexed": skipped files count too


def indexed_records(reader: Reader) -> tuple[dict[str, dict], str | None]:
    """doc_id -> its document record (path, digest, recorded size and time); and the
    glossary's digest."""
    records = {fields["doc_id"]: fields for fields in reader.records(DOC_KIND)}
    glossary = next(iter(reader.records(GLOSSARY_KIND)), {}).get("digest")
    return records, glossary


def indexed_digests(reader: Reader) -> tuple[dict[str, str], str | None]:
    """doc_id -> digest of the file its passages came from; and the glossary's digest."""
    records, glossary = indexed_records(reader)
    return {doc_id: record["digest"] for doc_id, record in records.items()}, glossary


def count_passages(backend: Backend, path: Path) -> int:
    """Passages served (deleted records, kept until a merge, are not counted)."""
    reader = backend.open(path)
    try:
        return reader.totals()["passages"]
    finally:
        reader.close()
