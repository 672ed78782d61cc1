"""The bridge read from disk: the store answers what an in-memory bridge of every pair
answers, follows incremental reindexing, and is rebuilt when it lags the engine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from casearch import bridgestore
from casearch.bridge import Bridge, Pair, pair_keys
from casearch.index import read_current, reindex
from casearch.search import Engine, stored_pairs, validate_request

from conftest import write


def _generation(index_dir: Path) -> Path:
    return index_dir / read_current(index_dir)["name"]


def test_the_store_answers_as_a_bridge_of_every_pair(engine: Engine) -> None:
    with engine.reader() as reader:
        every = [pair for _, pairs in stored_pairs(reader) for pair in pairs]
        store = engine.bridge(reader)
    whole = Bridge(every)
    assert len(store) == len(whole) > 100
    keys = {key for pair in every for key in pair_keys(pair) if key}
    for key in sorted(keys):  # equally trusted counterparts keep the order they were written in
        assert set(store.counterparts(key, limit=50)) == set(whole.counterparts(key, limit=50)), key
    assert {(p.ja, p.en) for p in store.matching("pipeline")} == {(p.ja, p.en) for p in whole.matching("pipeline")}


def _ids(engine: Engine, q: str, lang: str) -> list[str]:
    return [h.doc_id for h in engine.search(validate_request({"q": q, "lang": lang})).hits]


def test_incremental_reindex_updates_the_store(tmp_path: Path, engine_name: str) -> None:
    corpus = tmp_path / "c"
    write(corpus / "ja.md", "---\nlang: ja\n---\n# 話\n\n浮遊式洋上風力(floating wind)の計画。\n")
    write(corpus / "en.md", "# Note\n\nA floating wind farm is planned.\n")
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    assert _ids(Engine(tmp_path / "ix", engine_name), "浮遊式洋上風力", "en") == ["en"]  # a bracketed pair
    (corpus / "ja.md").unlink()
    write(corpus / "ja2.md", "---\nlang: ja\n---\n# 話\n\n潮力発電(tidal power)の計画。\n")
    write(corpus / "en2.md", "# Tide\n\nTidal power is planned.\n")
    report = reindex(corpus, tmp_path / "ix", engine=engine_name)
    assert (report.added, report.removed, report.full) == (2, 1, False)
    engine = Engine(tmp_path / "ix", engine_name)
    assert _ids(engine, "潮力発電", "en") == ["en2"]
    with engine.reader() as reader:
        store = engine.bridge(reader)
        assert not store.matching("floating wind") and store.matching("tidal power")
    assert bridgestore.stamp_of(_generation(tmp_path / "ix")) is not None


def test_a_store_behind_the_engine_is_rebuilt_from_the_records(tmp_path: Path, engine_name: str) -> None:
    corpus = tmp_path / "c"
    write(corpus / "ja.md", "---\nlang: ja\n---\n# 話\n\n潮力発電(tidal power)の計画。\n")
    write(corpus / "en.md", "# Tide\n\nTidal power is planned.\n")
    reindex(corpus, tmp_path / "ix", engine=engine_name)
    generation = _generation(tmp_path / "ix")
    right = bridgestore.stamp_of(generation)
    bridgestore.apply(generation, {bridgestore.document_owner("ja"): []}, stamp=right + 1)  # as if a run died half-way
    assert _ids(Engine(tmp_path / "ix", engine_name), "潮力発電", "en") == ["en"]
    assert bridgestore.stamp_of(generation) == right
    (generation / bridgestore.STORE_FILE).unlink()
    assert _ids(Engine(tmp_path / "ix", engine_name), "潮力発電", "en") == ["en"]


def test_a_pair_many_documents_hold_is_stored_once_and_outlives_each(tmp_path: Path) -> None:
    pair = Pair("ファイル", "file", "dictionary", ("ファイル",), ("file",))
    other = Pair("鉄道", "railway", "dictionary", ("鉄道",), ("railwai",))
    generation = tmp_path / "gen"
    generation.mkdir()
    bridgestore.apply(generation, {"doc:a": [pair], "doc:b": [pair, other]}, stamp=1)
    con = sqlite3.connect(generation / bridgestore.STORE_FILE)
    assert con.execute("SELECT count(*) FROM pairs").fetchone()[0] == 2
    bridgestore.apply(generation, {"doc:b": []}, stamp=2)  # b removed: a still holds the pair
    assert [p.en for p in bridgestore.BridgeStore(generation).pairs] == ["file"]
    bridgestore.apply(generation, {"doc:a": []}, stamp=3)
    assert con.execute("SELECT count(*) FROM pairs").fetchone()[0] == 0
    assert bridgestore.stamp_of(generation) == 3


def test_a_store_of_the_old_layout_is_rebuilt(tmp_path: Path) -> None:
    generation = tmp_path / "gen"
    generation.mkdir()
    old = sqlite3.connect(generation / bridgestore.STORE_FILE)
    old.executescript("CREATE TABLE pairs (owner TEXT, ja_key TEXT, en_key TEXT, row TEXT);"
                      "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('stamp', '7');")
    old.close()
    assert bridgestore.stamp_of(generation) is None  # so ensure() rebuilds it
    bridgestore.ensure(generation, 7, lambda: [("doc:a", [Pair("鉄道", "railway", "dictionary", ("鉄道",), ("railwai",))])])
    assert bridgestore.stamp_of(generation) == 7
    assert [p.ja for p in bridgestore.BridgeStore(generation).pairs] == ["鉄道"]
