"""Incremental reindex without hashing unchanged files: a file whose size and
modification time are those recorded when it was indexed is not read again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from casearch import index as index_mod
from casearch.index import reindex
from casearch.search import Engine, validate_request

from conftest import write

PAST = time.time() - 3600  # older than the racy window, so the recorded time is trusted


def _corpus(root: Path, count: int) -> Path:
    for n in range(count):
        path = write(root / f"d{n:02}.md", f"# Doc {n}\n\nrailway number {n}\n")
        os.utime(path, (PAST, PAST))
    return root


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    original = index_mod.read_bytes

    def counting(file, max_bytes):
        read.append(file.doc_id)
        return original(file, max_bytes)

    monkeypatch.setattr(index_mod, "read_bytes", counting)
    return read


def test_one_changed_file_is_the_only_file_read(tmp_path: Path, engine_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path / "c", 12)
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    write(corpus / "d03.md", "# Doc 3\n\nrefinery now\n")
    read = _reads(monkeypatch)
    report = reindex(corpus, tmp_path / "ix", engine=engine_name)
    assert read == ["d03"] and (report.added, report.updated, report.removed) == (0, 1, 0)
    hits = Engine(tmp_path / "ix", engine_name).search(validate_request({"q": "refinery"})).hits
    assert [h.doc_id for h in hits] == ["d03"]


def test_a_touched_file_is_hashed_once_then_trusted(tmp_path: Path, engine_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path / "c", 3)
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    later = PAST + 60
    os.utime(corpus / "d01.md", (later, later))  # same bytes, new time
    read = _reads(monkeypatch)
    report = reindex(corpus, tmp_path / "ix", engine=engine_name)
    assert read == ["d01"] and (report.added, report.updated) == (0, 0)  # hashed: unchanged
    read.clear()
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    assert read == []  # its new time was recorded
    assert Engine(tmp_path / "ix", engine_name).stats() == {"documents": 3, "passages": 3}


def test_a_file_changed_within_the_racy_window_is_always_hashed(tmp_path: Path, engine_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "c"
    write(corpus / "fresh.md", "# Fresh\n\nrailway\n")  # modified just now: its time is not trusted
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    read = _reads(monkeypatch)
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    assert read == ["fresh"]
