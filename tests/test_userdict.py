"""The user dictionary (corpus/_userdict.csv) is honoured at reindex and search time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.index import reindex
from casearch.search import Engine, validate_request
from casearch.userdict import read_entries

from conftest import write


def body_terms(engine: Engine) -> set[str]:
    with engine.reader() as reader:
        return {term for term, _ in reader.vocabulary("body")}


@pytest.mark.slow
def test_user_words_become_single_tokens_and_changes_rebuild(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    write(corpus / "a.md", "シムケント製油所が稼働しています。\n")
    ix = tmp_path / "ix"
    reindex(corpus, ix)
    assert "シムケント" not in body_terms(Engine(ix))  # UniDic splits it: シム + ケント

    write(corpus / "_userdict.csv", "# surface,reading,pos\nシムケント,しむけんと,地名\nbad\n")
    messages: list[str] = []
    report = reindex(corpus, ix, progress=messages.append)
    engine = Engine(ix)
    assert report.full and "シムケント" in body_terms(engine)
    assert any("line 3" in m for m in messages)
    hit = engine.search(validate_request({"q": "シムケント"})).hits[0]
    assert "<mark>シムケント</mark>" in hit.snippet
    assert not reindex(corpus, ix).full  # unchanged dictionary: incremental again


def test_read_entries_validates_lines() -> None:
    entries, problems = read_entries("トカエフ,とかえふ,人名\n,x\nワード,ワード,動詞\n\n# comment\nアスタナ,アスタナ\n")
    assert [(e.surface, e.reading, e.pos[2]) for e in entries] == [("トカエフ", "トカエフ", "人名"), ("アスタナ", "アスタナ", "一般")]
    assert len(problems) == 2 and "line 2" in problems[0] and "動詞" in problems[1]


def test_analyze_reads_text_as_the_index_does_with_the_user_dictionary(tmp_path: Path) -> None:
    write(tmp_path / "c" / "a.md", "# t\n\nシムケントではない\n")
    write(tmp_path / "c" / "_userdict.csv", "シムケント,しむけんと,地名\n")
    reindex(tmp_path / "c", tmp_path / "i")

    def surfaces(*args: str) -> list[str]:
        result = CliRunner().invoke(main, ["analyze", "シムケントではない", "--json", *args])
        assert result.exit_code == 0, result.output
        return [t["surface"] for t in json.loads(result.stdout)["tokens"]]

    assert surfaces("--index", str(tmp_path / "i"))[0] == "シムケント"
    assert surfaces("--index", str(tmp_path / "none"))[:2] == ["シム", "ケント"]  # no index: UniDic alone
