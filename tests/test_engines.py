"""Choosing the engine: the index records which engine built it, the other engine refuses
it with what to run, a missing tantivy is a message (never a traceback), and both engines
answer the same through the seam (query tree, stored offsets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from casearch import analysis, engines
from casearch import querytree as qt
from casearch.cli import main
from casearch.errors import EngineMismatch, EngineUnavailable
from casearch.index import open_reader, read_current, reindex
from casearch.offsets import Offsets, encode
from casearch.search import Engine, validate_request
from casearch.textnorm import to_katakana
from casearch.web import create_app

from conftest import write

ARTICLE_QUERIES = ["パイプライン", "鉄道", "railway", "天然ガス", "summit", "製油所", '"natural gas"', "鉄道 -エネルギー",
                   "title:サミット", "pipe*", "てつどう", "Kazakhstan OR ウズベキスタン"]


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engines")
    write(root / "c" / "rail.md", "---\ntitle: 鉄道\n---\n中国と中央アジアを結ぶ鉄道の話。\n")
    write(root / "c" / "gas.md", "# Gas\n\nA natural gas pipeline runs west.\n")
    return root / "c"


def _run(*args: str) -> "CliRunner.Result":
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", engines.ENGINES)
def test_the_index_records_the_engine_that_built_it(small_corpus: Path, tmp_path: Path, name: str) -> None:
    report = reindex(small_corpus, tmp_path / "ix", engine=name)
    assert report.added == 2 and report.passages == 2
    assert read_current(tmp_path / "ix")["engine"] == name
    hits = Engine(tmp_path / "ix", name).search(validate_request({"q": "鉄道"})).hits
    assert [h.doc_id for h in hits] == ["rail"]


@pytest.mark.parametrize("built, asked", [("whoosh", "tantivy"), ("tantivy", "whoosh")])
def test_the_other_engine_refuses_the_index_with_what_to_run(
    small_corpus: Path, tmp_path: Path, built: str, asked: str
) -> None:
    reindex(small_corpus, tmp_path / "ix", engine=built)
    with pytest.raises(EngineMismatch) as raised:
        Engine(tmp_path / "ix", asked).search(validate_request({"q": "鉄道"}))
    assert f"--engine {built}" in raised.value.hint and f"reindex --full --engine {asked}" in raised.value.hint

    result = _run("search", "鉄道", "--index", str(tmp_path / "ix"), "--engine", asked)
    assert result.exit_code == 1
    assert f"built by the {built} engine" in result.output and "Traceback" not in result.output

    client = create_app({"INDEX_DIR": str(tmp_path / "ix"), "ENGINE": asked, "TESTING": True}).test_client()
    response = client.get("/api/search?q=鉄道")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "index_unavailable" and f"--engine {built}" in error["message"]
    assert client.get("/search?q=鉄道").status_code == 503


def test_reindex_with_the_other_engine_rebuilds_and_serves_with_it(small_corpus: Path, tmp_path: Path) -> None:
    reindex(small_corpus, tmp_path / "ix", engine="whoosh")
    report = reindex(small_corpus, tmp_path / "ix", engine="tantivy")
    assert report.full and report.added == 2
    assert read_current(tmp_path / "ix")["engine"] == "tantivy"
    assert Engine(tmp_path / "ix", "tantivy").search(validate_request({"q": "pipeline"})).total == 1


def test_a_missing_tantivy_is_a_message_and_exit_1(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reindex(small_corpus, tmp_path / "ix", engine="whoosh")
    before = read_current(tmp_path / "ix")
    monkeypatch.setattr(engines, "available", lambda name: name == "whoosh")
    for command in (["search", "鉄道"], ["reindex", "--corpus", str(small_corpus)], ["serve", "--port", "1"]):
        result = _run(*command, "--index", str(tmp_path / "ix"), "--engine", "tantivy")
        assert result.exit_code == 1, command
        assert "pip install 'casearch[tantivy]'" in result.output and "Traceback" not in result.output
    assert read_current(tmp_path / "ix") == before  # nothing was rebuilt
    with pytest.raises(EngineUnavailable):
        engines.backend("tantivy")


def test_engine_from_the_environment_and_a_bad_name(small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEARCH_ENGINE", "tantivy")
    result = _run("reindex", "--corpus", str(small_corpus), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0 and read_current(tmp_path / "ix")["engine"] == "tantivy"
    monkeypatch.setenv("CASEARCH_ENGINE", "lucene")
    result = _run("search", "鉄道", "--index", str(tmp_path / "ix"))
    assert result.exit_code == 2 and "CASEARCH_ENGINE must be one of whoosh, tantivy" in result.output


def test_incremental_reindex_on_tantivy_adds_updates_and_removes(small_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    for file in small_corpus.iterdir():
        write(corpus / file.name, file.read_text(encoding="utf-8"))
    reindex(corpus, tmp_path / "ix", engine="tantivy")
    write(corpus / "road.md", "# Road\n\nA new road beside the railway.\n")
    write(corpus / "gas.md", "# Gas\n\nThe refinery is new.\n")
    (corpus / "rail.md").unlink()
    report = reindex(corpus, tmp_path / "ix", engine="tantivy")
    assert (report.added, report.updated, report.removed, report.full) == (1, 1, 1, False)
    engine = Engine(tmp_path / "ix", "tantivy")
    assert engine.search(validate_request({"q": "pipeline"})).total == 0
    assert [h.doc_id for h in engine.search(validate_request({"q": "refinery"})).hits] == ["gas"]
    assert engine.search(validate_request({"q": "鉄道", "cross": "0"})).total == 0
    assert engine.stats() == {"documents": 2, "passages": 2}


def _comparable(engine: Engine, q: str) -> dict:
    result = engine.search(validate_request({"q": q, "per_page": "50"})).to_json()
    return {
        "total": result["total"], "facets": result["facets"],
        "hits": sorted((h["url"], h["snippet"], json.dumps(h["matched"], ensure_ascii=False)) for h in result["hits"]),
    }


@pytest.mark.parametrize("q", ARTICLE_QUERIES)
def test_both_engines_find_and_mark_the_same_passages(corpus_dir: Path, tmp_path_factory, q: str) -> None:
    found = {}
    for name in engines.ENGINES:
        target = tmp_path_factory.getbasetemp() / f"article-{name}"
        if not target.exists():
            reindex(corpus_dir, target, engine=name)
        found[name] = _comparable(Engine(target, name), q)
    assert found["whoosh"] == found["tantivy"]
    assert found["whoosh"]["total"] > 0 or " -" in q  # the exclusion may leave nothing


_TEXT = st.text(
    alphabet=st.sampled_from(list("鉄道天然ガスｶﾞｽﾊﾟｲﾌﾟ製油所のはとで。、 　\nABCabc１２３ＣＮＰＣーｰ㍻々")),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_stored_offsets_point_into_the_original_text(text: str) -> None:
    """Every looked-up occurrence indexes the original text, for every way of matching."""
    offsets = Offsets(encode(text))
    tokens = analysis.analyze(text)
    for token in tokens:
        if not token.indexed or not token.term:
            continue
        assert (token.position, token.start, token.end) in offsets.terms(token.term)
        assert (token.position, token.start, token.end) in offsets.norms(token.norm)
    for chain in analysis.reading_chains(tokens):  # a reading's key depends on the one before (ー)
        for token, key in chain:
            if len(key) >= 2:
                assert (token.start, token.end) in offsets.reading_spans(key)
    for term, _, start, end in analysis.field_grams("ngram", text):
        spans = offsets.character_spans(term)
        assert (start, end) in spans
        assert all(0 <= a < b <= len(text) for a, b in spans)
    for a, b in offsets.character_spans(to_katakana("ガス")):
        assert 0 <= a < b <= len(text)


@pytest.mark.parametrize("q", ["\u3099\u3099", "\uff9e\uff9e", "゛゛"])
def test_a_word_of_combining_marks_alone_is_searched_not_a_503(client, q: str) -> None:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200 and response.get_json()["total"] >= 0


@pytest.mark.parametrize("name", engines.ENGINES)
def test_best_counts_the_best_alternative_once(tmp_path: Path, name: str) -> None:
    # Each passage scores the best of the alternatives it matches, not their sum, and not
    # another passage's score (Whoosh's own DisjunctionMax gave a-one the score beta has
    # on b-other, the passage its other side stood on).
    write(tmp_path / "c" / "a-one.md", "# One\n\nalpha gamma delta epsilon zeta eta theta.\n")
    write(tmp_path / "c" / "b-other.md", "# Other\n\nbeta beta beta.\n")
    write(tmp_path / "c" / "c-both.md", "# Both\n\nalpha beta gamma.\n")
    reindex(tmp_path / "c", tmp_path / "ix", engine=name)
    reader, _ = open_reader(tmp_path / "ix", name)
    try:
        alpha, beta = qt.Term("body", "alpha"), qt.Term("body", "beta")

        def scores(node: qt.Node) -> dict[str, float]:
            scored, _ = reader.rank(node, 10, None)
            return {reader.stored(key)["doc_id"]: score for score, key in scored}

        each = [scores(alpha), scores(beta)]
        best = scores(qt.Best((alpha, beta)))
        assert set(best) == {"a-one", "b-other", "c-both"}
        for doc, score in best.items():
            assert score == pytest.approx(max(s.get(doc, 0.0) for s in each), rel=1e-3), doc
        assert best["a-one"] < best["b-other"]
        summed = scores(qt.Or((alpha, beta)))["c-both"]
        assert summed == pytest.approx(each[0]["c-both"] + each[1]["c-both"], rel=1e-3)
        assert summed > best["c-both"]
    finally:
        reader.close()
