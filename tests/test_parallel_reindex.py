"""A full Whoosh reindex on several processes gives the index one process gives, reports
what its workers skipped, and a failing worker leaves the previous index serving."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from casearch import index as index_mod
from casearch.index import indexed_digests, open_reader, read_current, reindex
from casearch.search import Engine, validate_request

from conftest import write

QUERIES = ["パイプライン", "鉄道", "railway", "pipeline", "天然ガス", "summit -Kazakhstan", "note*", "文書 OR memo"]


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parallel") / "c"
    shutil.copytree(corpus_dir, root)
    for n in range(30):
        write(root / "extra" / f"ja{n:02}.md", f"---\nlang: ja\n---\n# 文書{n}\n\n鉄道とパイプライン{n}の話。\n")
        write(root / "extra" / f"en{n:02}.md", f"---\ntranslation_of: extra/ja{n:02}\n---\n# Note {n}\n\nA memo on railway {n}.\n")
    write(root / "broken.md", "---\ntitle: [unclosed\n")
    (root / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    return root


def _answers(index_dir: Path) -> dict:
    engine = Engine(index_dir, "whoosh")
    found = {}
    for q in QUERIES:
        for lang in ("all", "ja"):
            result = engine.search(validate_request({"q": q, "lang": lang, "per_page": "50"})).to_json()
            result.pop("took_ms")
            found[(q, lang)] = json.dumps(result, ensure_ascii=False, sort_keys=True)
    return found


def test_two_processes_build_what_one_builds(corpus: Path, tmp_path: Path) -> None:
    one = reindex(corpus, tmp_path / "one", engine="whoosh", jobs=1)
    two = reindex(corpus, tmp_path / "two", engine="whoosh", jobs=2)
    assert (two.added, two.passages) == (one.added, one.passages) and two.added > 60
    assert sorted(s.path for s in two.skipped) == sorted(s.path for s in one.skipped) == ["binary.txt", "broken.md"]
    assert _answers(tmp_path / "two") == _answers(tmp_path / "one")
    digests = [indexed_digests(open_reader(tmp_path / name, "whoosh")[0]) for name in ("one", "two")]
    assert digests[0] == digests[1]


def test_incremental_after_a_parallel_build(corpus: Path, tmp_path: Path) -> None:
    work = tmp_path / "c"
    shutil.copytree(corpus, work)
    reindex(work, tmp_path / "ix", engine="whoosh", jobs=2)
    write(work / "extra" / "ja03.md", "---\nlang: ja\n---\n# 文書3\n\n製油所の話。\n")
    (work / "extra" / "en04.md").unlink()
    report = reindex(work, tmp_path / "ix", engine="whoosh")
    assert (report.updated, report.removed, report.full) == (1, 1, False)
    engine = Engine(tmp_path / "ix", "whoosh")
    assert [h.doc_id for h in engine.search(validate_request({"q": "製油所", "lang": "ja"})).hits][:1] == ["extra/ja03"]
    removed = engine.search(validate_request({"q": "railway 4", "cross": "0"}))
    assert removed.total == 0 or removed.matching == "partial"  # no passage has both words any more


def test_a_failing_worker_leaves_the_previous_index(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reindex(corpus, tmp_path / "ix", engine="whoosh", jobs=1)
    before = read_current(tmp_path / "ix")
    original = index_mod._load

    def failing(file, max_bytes, report):
        if file.doc_id == "extra/ja07":
            raise MemoryError("out of memory in a worker")
        return original(file, max_bytes, report)

    monkeypatch.setattr(index_mod, "_load", failing)
    with pytest.raises(RuntimeError, match="MemoryError: out of memory in a worker"):
        reindex(corpus, tmp_path / "ix", engine="whoosh", jobs=2, full=True)
    assert read_current(tmp_path / "ix") == before
    assert Engine(tmp_path / "ix", "whoosh").search(validate_request({"q": "鉄道"})).total > 0
