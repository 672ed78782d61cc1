"""Segment files are read straight from the mmap, not from a BytesIO copy of each part.

These tests reach into Whoosh's reader objects (whoosh-reloaded 2.7.5) to find the file
behind the postings: the copy is invisible from search results, only from structure.
"""

from __future__ import annotations

import io
import mmap
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.query import Term

from casearch import index as index_mod
from casearch.engines import whoosh_engine
from casearch.engines.whoosh_engine import segments
from casearch.index import reindex
from casearch.search import Engine, validate_request

from conftest import write

# Whoosh's own storage: these tests read its segment files.
WHOOSH_ONLY = pytest.mark.parametrize("engine_name", ["whoosh"], indirect=True)

# terms, phrases, prefixes, negation, OR, readings: each finds passages in the test corpus
QUERIES = ["パイプライン", "pipeline", "天然 ガス", "鉄道", "pre*", '"natural gas"', "目的", "Kazakhstan",
           "-gas pipeline", "ガス OR 石油", "ぱいぷらいん"]


def open_index(index_dir: Path):
    """The serving generation as a Whoosh index read through our mmap storage."""
    name = index_mod.read_current(index_dir)["name"]
    return segments.open_generation(index_dir / name), name


def _postings_files(searcher) -> list:
    """The object each segment reads its postings through."""
    return [leaf._terms._postfile.file for leaf, _ in searcher.reader().leaf_readers()]


def _segment_maps(searcher) -> list[mmap.mmap]:
    """The mmap of each segment's compound file (OverlayStorage.a is the compound storage)."""
    return [leaf._storage.a._file.file.map for leaf, _ in searcher.reader().leaf_readers()]


@pytest.fixture()
def small_index(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    write(corpus / "rail.md", "---\ntitle: 鉄道\n---\n中国とキルギスの鉄道計画。\n")
    write(corpus / "gas.txt", "Gas\nNatural gas pipelines cross Kazakhstan.\n")
    reindex(corpus, tmp_path / "ix")
    return tmp_path / "ix"


@WHOOSH_ONLY
def test_postings_are_read_from_the_segment_mmap_not_a_copy(index_dir: Path) -> None:
    ix, _ = open_index(index_dir)
    with ix.searcher() as searcher:
        files, maps = _postings_files(searcher), _segment_maps(searcher)
        assert files and all(isinstance(m, mmap.mmap) for m in maps)
        assert all(f.map is m for f, m in zip(files, maps))  # a range of the segment's own map
        assert not any(isinstance(f, io.BytesIO) for f in files)


@WHOOSH_ONLY
def test_plain_whoosh_copies_postings_into_bytesio(index_dir: Path) -> None:
    """The control for the test above: the probe does see Whoosh's copy."""
    generation = index_dir / index_mod.read_current(index_dir)["name"]
    with whoosh_index.open_dir(str(generation)).searcher() as searcher:
        assert all(isinstance(f, io.BytesIO) for f in _postings_files(searcher))


def test_searcher_reopened_after_commit_reads_the_map(small_index: Path) -> None:
    engine = Engine(small_index)
    try:
        assert [h.doc_id for h in engine.search(validate_request({"q": "鉄道"})).hits] == ["rail"]
        with engine.reader() as reader:
            first = reader.searcher
        write(small_index.parent / "corpus" / "road.md", "---\ntitle: 道路\n---\n新しい鉄道と道路。\n")
        assert reindex(small_index.parent / "corpus", small_index).added == 1  # an incremental commit
        assert {h.doc_id for h in engine.search(validate_request({"q": "鉄道"})).hits} == {"rail", "road"}
        with engine.reader() as reader:
            reopened = reader.searcher
        assert reopened is not first
        assert all(isinstance(f, segments._MappedReader) for f in _postings_files(reopened))
    finally:
        engine.close()


@WHOOSH_ONLY
@pytest.mark.parametrize("q", QUERIES)
def test_search_results_match_plain_whoosh_storage(index_dir: Path, q: str, monkeypatch) -> None:
    def results(engine: Engine) -> dict:
        try:
            data = engine.search(validate_request({"q": q, "per_page": "50"})).to_json()
        finally:
            engine.close()
        data.pop("took_ms")
        return data

    mapped = results(Engine(index_dir))
    with monkeypatch.context() as patch:
        patch.setattr(whoosh_engine, "open_generation", lambda path: whoosh_index.open_dir(str(path)))
        plain = results(Engine(index_dir))
    assert mapped == plain
    assert mapped["total"] > 0 and mapped["hits"]


def test_stored_fields_match_plain_whoosh_storage(small_index: Path) -> None:
    generation = small_index / index_mod.read_current(small_index)["name"]
    with segments.open_generation(generation).searcher() as mapped, \
            whoosh_index.open_dir(str(generation)).searcher() as plain:
        assert list(mapped.documents()) == list(plain.documents()) != []


def test_closing_searchers_after_generation_deleted(small_index: Path) -> None:
    ix, name = open_index(small_index)
    searchers = [ix.searcher() for _ in range(2)]
    for searcher in searchers:
        assert [h["doc_id"] for h in searcher.search(Term("body", "鉄道"))] == ["rail"]
        list(searcher.documents())  # opens the stored-fields column too
    maps = [m for s in searchers for m in _segment_maps(s)]
    shutil.rmtree(small_index / name)  # what a full rebuild does to the old generation
    assert [h["doc_id"] for h in searchers[0].search(Term("body", "鉄道"))] == ["rail"]
    for searcher in searchers:
        searcher.close()  # must not raise BufferError (or anything else)
    assert all(m.closed for m in maps)


def test_writer_from_open_index_merges_mapped_segments(small_index: Path) -> None:
    ix, _ = open_index(small_index)
    before = ix.searcher()
    old_segments = {name for name in ix.storage.list() if name.endswith(".seg")}
    writer = ix.writer()
    writer.add_document(pid="extra#1", kind="passage", doc_id="extra", lang="en", body="zyxwvu marker")
    writer.commit(optimize=True)  # reads every mapped segment to merge it, then deletes it
    assert old_segments and not old_segments & set(ix.storage.list())
    with ix.searcher() as after:
        assert [h["doc_id"] for h in after.search(Term("body", "zyxwvu"))] == ["extra"]
        assert after.doc_count() == before.doc_count() + 1
    # the searcher opened before the merge still reads its segment: the file is gone, the map is not
    assert [h["doc_id"] for h in before.search(Term("body", "鉄道"))] == ["rail"]
    before.close()


def _ops():
    size = st.one_of(st.none(), st.integers(-1, 40))
    return st.lists(st.one_of(
        st.tuples(st.just("read"), size),
        st.tuples(st.just("readline"), size),
        st.tuples(st.just("seek"), st.integers(-40, 40), st.sampled_from([os.SEEK_SET, os.SEEK_CUR, os.SEEK_END])),
        st.tuples(st.just("tell")),
    ), max_size=20)


def _outcome(call):
    try:
        return call()
    except ValueError:
        return ValueError


@given(prefix=st.binary(max_size=20), data=st.binary(max_size=60), suffix=st.binary(max_size=20), ops=_ops())
def test_mapped_reader_reads_like_bytesio(prefix: bytes, data: bytes, suffix: bytes, ops: list) -> None:
    whole = prefix + data + suffix + b"\n"  # never empty (mmap refuses that); readline must stop at the range end
    mapping = mmap.mmap(-1, len(whole))
    mapping.write(whole)
    mapped, copied = segments._MappedReader(mapping, len(prefix), len(data)), io.BytesIO(data)
    for name, *args in ops:
        assert _outcome(lambda: getattr(mapped, name)(*args)) == _outcome(lambda: getattr(copied, name)(*args))
        ahead = data[copied.tell():]
        peeked = mapped.peek(16)  # what pickle.load prefetches: some bytes ahead, position unmoved
        assert ahead.startswith(peeked) and (peeked or not ahead) and mapped.tell() == copied.tell()
    mapped_file = segments._MappedFile(mapping, len(prefix), len(data), "part")
    assert [mapped_file.get(i, 7) for i in range(len(data) + 2)] == [data[i : i + 7] for i in range(len(data) + 2)]
    mapped_file.close()
    assert not mapping.closed  # a part does not own the map
    mapping.close()
