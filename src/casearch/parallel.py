"""Full reindex on several cores: the files are dealt to worker processes, each reads,
parses, analyzes and indexes its share into a segment of its own; the parent commits
every segment at once.

    parent   new generation, its own writer (the index lock) -> fork N workers
    worker   files[i::N] -> load -> DocumentRecords.add (passages into a part writer:
             analysis, offsets, bridge candidates; a long file's progress messages
             go up the pipe as it goes) -> finished segment + pending documents +
             counts -> back through the same pipe
    parent   adopts the segments, DocumentRecords.finish over every pending document
             (dictionary look-ups, per-document records) -> one atomic commit

Only an engine whose writer runs in Python gains (Whoosh: ``part_writer``); tantivy
indexes in its own threads. Workers are forked, so they start with the parent's loaded
modules and settings, and die with it (PDEATHSIG): a killed reindex leaves only
unreferenced segment files, removed by the next run, and the previous index serving.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable

from .corpus import CorpusFile, Skipped
from .records import DocumentRecords, passage_records

MIN_FILES = 200  # fewer files than this are indexed in one process: forking costs more
PROGRESS_SECONDS = 0.5

Load = Callable  # (file, max_bytes, report) -> (Document, state) | None


@dataclass
class PartReport:
    """What one worker did (the parent adds it to the run's report)."""

    added: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def jobs_for(files: int, requested: int | None) -> int:
    """Worker processes for a full build: as asked, else one per core for a corpus large
    enough to gain from it."""
    if requested is not None:
        return max(1, requested)
    return min(os.cpu_count() or 1, 4) if files >= MIN_FILES else 1


def add_in_parts(
    backend, path: Path, files: list[CorpusFile], documents: DocumentRecords, report, load: Load,
    max_bytes: int, jobs: int, say: Callable[[str], None],
) -> None:
    """Index ``files`` in ``jobs`` forked workers; their segments join ``documents.writer``
    and their pending documents join ``documents`` (finished by the caller)."""
    context = multiprocessing.get_context("fork")
    done = context.Value("i", 0)
    workers: list[tuple[multiprocessing.Process, Connection]] = []
    try:
        for part in range(jobs):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_work, args=(send, backend, path, files[part::jobs], load, max_bytes, done), daemon=True,
            )
            process.start()
            send.close()
            workers.append((process, receive))
        results = _gather(workers, done, len(files), say)
    finally:
        for process, receive in workers:
            if process.is_alive():
                process.kill()
            process.join()
            receive.close()
    for segment, pending, part in results:
        documents.writer.adopt(segment)
        documents.pending += pending
        report.added += part.added
        report.skipped += part.skipped


def _gather(workers, done, total: int, say: Callable[[str], None]) -> list:
    """Each worker's result, in part order; progress while they work."""
    results: dict[int, tuple] = {}
    waiting = {receive: n for n, (_, receive) in enumerate(workers)}
    told = 0
    while waiting:
        for receive in wait(list(waiting), timeout=PROGRESS_SECONDS):
            try:
                outcome = receive.recv()
            except EOFError:
                raise RuntimeError(f"reindex worker {waiting[receive] + 1} of {len(workers)} died") from None
            if outcome[0] == "say":  # a long file's progress, passage by passage
                say(outcome[1])
                continue
            n = waiting.pop(receive)
            if outcome[0] == "error":
                raise RuntimeError(f"reindex worker {n + 1} failed: {outcome[1]}")
            results[n] = outcome[1:]
        count = done.value
        if count // 100 > told // 100 or (count == total and told != total):
            say(f"checked {count}/{total} files")  # skipped files count too
            told = count
    return [results[n] for n in range(len(workers))]


def _work(send: Connection, backend, path: Path, files: list[CorpusFile], load: Load, max_bytes: int, done) -> None:
    """A worker: index these files into a segment of its own and send it back."""
    _die_with_parent()
    try:
        writer = backend.part_writer(path)
        documents = DocumentRecords(writer, None, passage_records, lambda message: send.send(("say", message)))
        part = PartReport()
        for file in files:
            loaded = load(file, max_bytes, part)
            if loaded is not None:
                documents.add(*loaded)
                part.added += 1
            with done.get_lock():
                done.value += 1
        send.send(("ok", writer.finish_part(), documents.pending, part))
    except BaseException as exc:  # the parent reports it; nothing may escape a fork
        send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()
        os._exit(0)  # no atexit handlers or flushing of the parent's inherited state


def _die_with_parent() -> None:
    """Ask the kernel to kill this worker when the parent dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
