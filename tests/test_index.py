"""Index: incremental reindex by content hash, full rebuilds, format version, atomicity."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

from casearch import index as index_mod
from casearch.errors import IndexLocked, IndexMissing, IndexUnusable
from casearch.index import INDEX_FORMAT, open_reader, reindex
from casearch.search import Engine, validate_request

from conftest import write


def hits(index_dir: Path, q: str) -> list[str]:
    """The documents matching the whole query (a result widened to partial matches,
    ``matching``, means none did)."""
    result = Engine(index_dir).search(validate_request({"q": q}))
    return [h.doc_id for h in result.hits] if result.matching == "all" else []


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write(root / "rail.md", "---\ntitle: 鉄道\n---\n中国とキルギスの鉄道計画。\n")
    write(root / "gas.txt", "Gas\nNatural gas pipelines cross Kazakhstan.\n")
    return root


def test_first_run_adds_then_nothing_changes(small_corpus: Path, tmp_path: Path) -> None:
    first = reindex(small_corpus, tmp_path / "ix")
    second = reindex(small_corpus, tmp_path / "ix")
    assert (first.added, first.updated, first.removed, first.passages) == (2, 0, 0, 2)
    assert (second.added, second.updated, second.removed, second.passages) == (0, 0, 0, 2)
    assert second.summary().startswith("added 0, updated 0, removed 0, skipped 0; 2 passages; ")


def test_changed_added_and_removed_files(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    write(small_corpus / "rail.md", "---\ntitle: 鉄道\n---\n新しい高速道路の話。\n")
    write(small_corpus / "new/power.md", "Power plants\n\n1500 MW gas-fired plant.\n")
    (small_corpus / "gas.txt").unlink()
    report = reindex(small_corpus, ix)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert hits(ix, "高速道路") == ["rail"] and hits(ix, "鉄道計画") == []
    assert hits(ix, "plant") == ["new/power"] and hits(ix, "Kazakhstan") == []


def test_full_rebuild_swaps_generations_and_keeps_results(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    before = json.loads((ix / "CURRENT").read_text())
    report = reindex(small_corpus, ix, full=True)
    after = json.loads((ix / "CURRENT").read_text())
    assert report.full and report.added == 2 and before["name"] != after["name"]
    assert after["format"] == INDEX_FORMAT
    assert hits(ix, "鉄道") == ["rail"]


def test_bad_files_are_skipped_with_reason_and_the_rest_indexed(small_corpus: Path, tmp_path: Path) -> None:
    (small_corpus / "broken.md").write_bytes(b"\xff\xfe\x00bad")
    report = reindex(small_corpus, tmp_path / "ix")
    assert [(s.path, "UTF-8" in s.reason) for s in report.skipped] == [("broken.md", True)]
    assert report.added == 2 and hits(tmp_path / "ix", "Kazakhstan") == ["gas"]


def test_previous_version_stays_when_a_file_turns_bad(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    (small_corpus / "rail.md").write_bytes(b"---\ntitle: x\n")  # front matter never closed
    report = reindex(small_corpus, ix)
    assert len(report.skipped) == 1 and report.removed == 0
    assert hits(ix, "鉄道計画") == ["rail"]


def test_other_format_version_is_rebuilt(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    (ix / "CURRENT").write_text(json.dumps({"format": "0.0", "name": "gen-old"}))
    with pytest.raises(IndexUnusable):
        open_reader(ix, "whoosh")
    report = reindex(small_corpus, ix)
    assert report.full and report.added == 2
    reader, _ = open_reader(ix, "whoosh")
    assert report.passages == 2 and reader.totals() == {"documents": 2, "passages": 2}
    assert len(list(reader.records("pairs"))) == 2 + 1  # per document, and the learned pairs
    assert len(list(reader.records("profile"))) == 2 and len(list(reader.records("glossary"))) == 1


def test_failure_during_full_build_leaves_previous_index_serving(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    before = (ix / "CURRENT").read_text()

    def explode(document):
        raise RuntimeError("disk on fire")
        yield  # pragma: no cover

    monkeypatch.setattr(index_mod, "passage_records", explode)
    with pytest.raises(RuntimeError):
        reindex(small_corpus, ix, full=True)
    assert (ix / "CURRENT").read_text() == before
    assert hits(ix, "鉄道") == ["rail"]


def test_failure_during_incremental_update_commits_nothing(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    write(small_corpus / "rail.md", "---\ntitle: 鉄道\n---\n変更後の本文。\n")
    write(small_corpus / "zz.md", "後から追加\n")
    real = index_mod.passage_records
    calls = {"n": 0}

    def second_call_fails(document):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        yield from real(document)

    monkeypatch.setattr(index_mod, "passage_records", second_call_fails)
    with pytest.raises(RuntimeError):
        reindex(small_corpus, ix)
    assert hits(ix, "鉄道計画") == ["rail"] and hits(ix, "変更後") == []
    monkeypatch.setattr(index_mod, "passage_records", real)
    report = reindex(small_corpus, ix)
    assert (report.added, report.updated) == (1, 1)


def test_a_second_reindex_is_refused_while_one_holds_the_lock(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    ix.mkdir()
    fd = os.open(ix / ".reindex.lock", os.O_CREAT | os.O_WRONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(IndexLocked):
            reindex(small_corpus, ix)
    finally:
        os.close(fd)
    assert reindex(small_corpus, ix).added == 2  # a stale lock file does not block


def test_missing_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        open_reader(tmp_path / "none", "whoosh")


def test_old_generations_are_cleaned_up(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    for _ in range(4):
        reindex(small_corpus, ix, full=True)
    assert len(list(ix.glob("gen-*"))) <= 2


def test_passage_count_leaves_out_replaced_records(small_corpus: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    reindex(small_corpus, ix)
    write(small_corpus / "rail.md", "---\ntitle: 鉄道\n---\n書き換えた本文。\n")
    assert reindex(small_corpus, ix).passages == 2
