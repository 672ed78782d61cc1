"""What the index sees: GET /api/analyze (a text's tokens, a query's expansion) and
``casearch analyze`` with the user dictionary the index is built with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.index import reindex
from casearch.web import create_app

from conftest import write

USER_WORD = "シムケント,しむけんと,地名\n"  # UniDic alone splits it: シム + ケント
TEXT = "シムケントではない"


@pytest.fixture(scope="module")
def userdict_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("userdict") / "c"
    write(corpus / "a.md", "# 製油所\n\nシムケント製油所が稼働しています。\n")
    write(corpus / "_userdict.csv", USER_WORD)
    return corpus


def test_api_analyze_shows_the_user_dictionary_of_the_index(userdict_corpus: Path, engine_name: str, tmp_path: Path) -> None:
    reindex(userdict_corpus, tmp_path / "i", engine=engine_name)
    client = create_app({"INDEX_DIR": str(tmp_path / "i"), "ENGINE": engine_name, "TESTING": True}).test_client()
    response = client.get(f"/api/analyze?text={TEXT}&lang=ja")
    assert response.status_code == 200
    tokens = response.get_json()["tokens"]
    first = tokens[0]
    assert (first["surface"], first["start"], first["end"], first["reading"]) == ("シムケント", 0, 5, "シムケント")
    assert all(TEXT[t["start"]:t["end"]] == t["surface"] for t in tokens)  # offsets index the text as sent
    words = client.get("/api/analyze?q=シムケント").get_json()["words"]
    assert words[0]["lemma"] == ["シムケント"]


def test_api_analyze_expands_a_query(client) -> None:
    data = client.get("/api/analyze?q=天然ガス pipeline").get_json()
    assert data["query"] == "天然ガス pipeline"
    assert [t["surface"] for t in data["tokens"] if t["indexed"]] == ["天然", "ガス", "pipeline"]
    gas, pipeline = data["words"]
    assert (gas["word"], gas["lemma"], gas["reading"]) == ("天然ガス", ["天然", "ガス"], "テンネンガス")
    assert pipeline["lemma"] == ["pipelin"] and pipeline["surface"] == ["pipeline"] and pipeline["reading"] is None
    assert {"terms": ["パイプライン"], "source": "dictionary"}.items() <= pipeline["counterparts"][0].items()
    assert any(a["field"] == "body" and a["via"] == "base" for a in gas["alternatives"])
    plain = client.get("/api/analyze?q=pipeline&cross=0").get_json()["words"][0]
    assert plain["counterparts"] == []  # cross=0: the words as typed only


def test_api_analyze_reports_particle_only_words(client) -> None:
    data = client.get("/api/analyze?q=の").get_json()
    assert data["words"] == [] and data["stop_only"] == ["の"]


@pytest.mark.parametrize(
    ("url", "param"),
    [("/api/analyze", "text"), ("/api/analyze?text=a&q=b", "text"), ("/api/analyze?text=%E3%80%80", "text"),
     ("/api/analyze?text=" + "あ" * 2001, "text"), ("/api/analyze?text=a&lang=fr", "lang"),
     ("/api/analyze?q=" + "a" * 501, "q"), ("/api/analyze?q=a&cross=2", "cross")],
)
def test_api_analyze_rejects_bad_input_in_the_error_shape(client, url: str, param: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["param"]) == ("invalid_parameter", param) and error["message"]


def test_api_analyze_without_an_index_is_unavailable(tmp_path: Path) -> None:
    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    response = client.get("/api/analyze?text=a")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "index_unavailable"


def _analyze_cli(*args: str) -> dict:
    result = CliRunner().invoke(main, ["analyze", TEXT, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_cli_analyze_reads_with_the_corpus_user_dictionary_by_default(userdict_corpus: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEARCH_INDEX", str(tmp_path / "no-index"))  # nothing built yet
    data = _analyze_cli("--corpus", str(userdict_corpus))
    assert data["tokens"][0]["surface"] == "シムケント"
    assert data["user_dictionary"].endswith("_userdict.csv")
    monkeypatch.setenv("CASEARCH_CORPUS", str(userdict_corpus))
    assert _analyze_cli()["tokens"][0]["surface"] == "シムケント"  # the configured corpus


def test_cli_analyze_with_index_reads_as_that_index(userdict_corpus: Path, tmp_path: Path) -> None:
    reindex(userdict_corpus, tmp_path / "i")
    data = _analyze_cli("--index", str(tmp_path / "i"), "--corpus", str(tmp_path / "empty"))
    assert data["tokens"][0]["surface"] == "シムケント" and data["user_dictionary"].endswith("user.dic")
    bare = _analyze_cli("--index", str(tmp_path / "none"), "--corpus", str(userdict_corpus))
    assert [t["surface"] for t in bare["tokens"][:2]] == ["シム", "ケント"] and bare["user_dictionary"] is None
