"""Synonyms a reader expects: a Japanese word reaches the Japanese words that share its
English counterpart (首脳会議 -> summit -> サミット), below the words as typed and noted
``via: synonym``; and the user's own groups in ``corpus/_synonyms.tsv``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.index import reindex
from casearch.search import Engine, validate_request
from casearch.synonyms import Synonyms, read_groups
from conftest import write

needs_jmdict = pytest.mark.skipif(
    importlib.util.find_spec("jamdict_data") is None, reason="jamdict-data (the cross-lingual extra) is not installed"
)


def search(engine: Engine, q: str, **params: str):
    return engine.search(validate_request({"q": q, "per_page": "50", **params}))


def test_groups_are_read_with_their_problems_named() -> None:
    groups, problems = read_groups("# comment\n鉄路\t鉄道\trailway\n\nひとつだけ\n首脳会議\tサミット\n")
    assert groups == [["鉄路", "鉄道", "railway"], ["首脳会議", "サミット"]]
    assert problems == ["_synonyms.tsv line 4: expected two or more words separated by tabs"]


def test_a_member_is_found_by_its_indexed_terms() -> None:
    synonyms = Synonyms([["鉄路", "鉄道", "Railways"]])
    assert [m.written for m in synonyms.of(("railway",))] == ["鉄路", "鉄道"]
    assert [m.written for m in synonyms.of(("鉄道",))] == ["鉄路", "Railways"]
    assert synonyms.of(("道",)) == []


@needs_jmdict
def test_summit_meeting_finds_the_summit_marked_as_a_synonym(engine: Engine) -> None:
    assert search(engine, "首脳会議", cross="0").total == 0  # the article never writes 首脳会議
    japanese = search(engine, "首脳会議", lang="ja")
    assert japanese.total >= 3
    for hit in japanese.hits:
        assert {"term": "首脳会議", "via": "synonym", "field": "body", "word": "サミット"} in hit.matched
        assert "<mark>サミット</mark>" in hit.snippet
    english = search(engine, "首脳会議", lang="en")
    assert english.total >= 3 and all("<mark>Summit</mark>" in h.snippet for h in english.hits[:3])


@pytest.fixture(scope="module")
def meetings(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Engine:
    """A passage that names 首脳会議, one that names サミット only, and an English one."""
    root = tmp_path_factory.mktemp("synonyms")
    write(root / "c" / "a-direct.md", "# 会議の記録\n\n首脳会議が北京で開かれた。\n")
    write(root / "c" / "b-summit.md", "# 会議の記録\n\nサミットが北京で開かれた。\n")
    write(root / "c" / "c-english.md", "# Record\n\nThe summit was held in Beijing.\n")
    write(root / "c" / "d-rail.md", "# 交通\n\n鉄道の整備が進んだ。\n")
    write(root / "c" / "_synonyms.tsv", "テツロン\t鉄道\n")  # a word no dictionary knows
    reindex(root / "c", root / "i", engine=engine_name)
    return Engine(root / "i", engine_name)


@needs_jmdict
def test_the_word_as_typed_ranks_above_its_synonym(meetings: Engine) -> None:
    result = search(meetings, "首脳会議", lang="ja")
    assert [h.doc_id for h in result.hits] == ["a-direct", "b-summit"]
    assert result.hits[0].matched[0]["via"] in ("surface", "base")
    assert result.hits[1].matched == [{"term": "首脳会議", "via": "synonym", "field": "body", "word": "サミット"}]
    assert result.hits[0].score > result.hits[1].score
    assert [h.doc_id for h in search(meetings, "首脳会議", lang="ja", cross="0").hits] == ["a-direct"]


def test_a_user_synonym_finds_and_marks_the_other_word(meetings: Engine) -> None:
    result = search(meetings, "テツロン")
    assert [h.doc_id for h in result.hits] == ["d-rail"]
    assert result.hits[0].matched == [{"term": "テツロン", "via": "synonym", "field": "body", "word": "鉄道"}]
    assert "<mark>鉄道</mark>" in result.hits[0].snippet
    assert search(meetings, "テツロン", cross="0").total == 0


def test_a_changed_synonym_file_is_served_after_the_next_reindex(tmp_path: Path, engine_name: str) -> None:
    corpus, index = tmp_path / "c", tmp_path / "i"
    write(corpus / "rail.md", "# 交通\n\n鉄道の整備が進んだ。\n")
    write(corpus / "_synonyms.tsv", "テツロン\t鉄道\nひとつ\n")
    runner = CliRunner()
    first = runner.invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(index), "--engine", engine_name])
    assert first.exit_code == 0, first.output
    assert "_synonyms.tsv line 2: expected two or more words separated by tabs" in first.stderr
    engine = Engine(index, engine_name)
    assert search(engine, "テツロン").total == 1 and search(engine, "レイロン").total == 0
    write(corpus / "_synonyms.tsv", "レイロン\t鉄道\n")
    second = runner.invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(index), "--engine", engine_name])
    assert second.exit_code == 0, second.output
    assert search(engine, "レイロン").total == 1 and search(engine, "テツロン").total == 0
    (corpus / "_synonyms.tsv").unlink()
    runner.invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(index), "--engine", engine_name])
    assert search(engine, "レイロン").total == 0
