"""Cross-lingual search: each source of the bridge, both directions, the switch, ranking
below direct matches, counterparts, and the bridge committing with the index."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from casearch import index as index_mod
from casearch import search as search_mod
from casearch.bridge import Bridge, bracket_pairs, gloss_pairs
from casearch.analysis import analyze
from casearch.index import reindex
from casearch.search import Engine, validate_request

from conftest import write

JA, EN = "summit-2025/ja", "summit-2025/en"
needs_jmdict = pytest.mark.skipif(
    importlib.util.find_spec("jamdict_data") is None, reason="jamdict-data (the cross-lingual extra) is not installed"
)


def search(engine: Engine, q: str, **params: str):
    return engine.search(validate_request({"q": q, **params}))


def pairs(engine: Engine) -> set[tuple[str, str, str]]:
    with engine.reader() as reader:
        return {(p.ja, p.en.lower(), p.source) for p in engine.bridge(reader).pairs}


def test_gloss_pairs_skip_names_split_into_glossed_pieces() -> None:
    found = {(p.ja, p.en) for p in gloss_pairs(analyze("エネルギーとインフラ。シルダリヤ州のサミット。"))}
    assert {("エネルギー", "energy"), ("インフラ", "infrastructure"), ("サミット", "summit")} <= found
    assert not {en for _, en in found} & {"sill", "dahlia"}


def test_bracket_pairs_from_the_article_style() -> None:
    found = {(p.ja, p.en) for p in bracket_pairs(
        "相互支援(mutual assistance)、中国石油天然気集団(CNPC)、「一帯一路」(Belt and Road Initiative、BRI)、崔征(ツイ・ジェン)")}
    assert found == {("相互支援", "mutual assistance"), ("中国石油天然気集団", "CNPC"),
                     ("一帯一路", "Belt and Road Initiative"), ("一帯一路", "BRI")}


def test_every_source_is_in_the_article_bridge(engine: Engine) -> None:
    bridge = pairs(engine)
    assert ("エネルギー", "energy", "gloss") in bridge
    assert ("相互支援", "mutual assistance", "corpus") in bridge
    assert ("トカエフ", "tokayev", "glossary") in bridge
    assert not any(en in ("sill", "dahlia") for _, en, _ in bridge)


@needs_jmdict
def test_dictionary_source(engine: Engine) -> None:
    bridge = pairs(engine)
    assert ("鉄道", "railway", "dictionary") in bridge and ("パイプライン", "pipeline", "dictionary") in bridge


@pytest.mark.parametrize(
    ("q", "lang", "doc", "section", "via"),
    [("mutual assistance", "ja", JA, 3, "corpus"), ("Tokayev", "ja", JA, 2, "glossary"),
     ("summit", "ja", JA, 2, "gloss"), ("CNPC", "en", EN, 5, "surface"),
     ("Kassym-Jomart Tokayev", "ja", JA, 2, "glossary")],
)
def test_english_finds_japanese_and_back(engine: Engine, q, lang, doc, section, via) -> None:
    result = search(engine, q, lang=lang)
    assert result.total >= 1
    assert (doc, section) in [(h.doc_id, h.section_no) for h in result.hits[:3]]
    assert any(m["via"] == via for h in result.hits[:3] for m in h.matched)


@needs_jmdict
def test_dictionary_directions_on_the_article(engine: Engine) -> None:
    pipeline = search(engine, "pipeline", lang="ja").hits[0]
    assert (pipeline.doc_id, pipeline.section_no) == (JA, 5) and "<mark>パイプライン</mark>" in pipeline.snippet
    assert {"term": "pipeline", "via": "dictionary", "field": "body", "word": "パイプライン"} in pipeline.matched
    back = search(engine, "パイプライン", lang="en").hits[0]
    assert (back.doc_id, back.section_no) == (EN, 5) and "<mark>pipelines</mark>" in back.snippet
    assert search(engine, "鉄道", lang="en").total >= 1


def test_switch_off_gives_plain_search(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    queries = ["pipeline", "パイプライン", "mutual assistance", "鉄道 OR railway", "Tokayev", "サミット"]
    off = {q: search(engine, q, cross="0") for q in queries}
    monkeypatch.setattr(search_mod.Engine, "bridge", lambda self, reader: Bridge([]))
    monkeypatch.setattr(search_mod, "_translations", lambda stored, parsed, plain, expanded: {})
    empty = Engine(engine.index_dir)
    for q in queries:
        plain = search(empty, q)
        assert [(h.doc_id, h.section_no, h.score) for h in off[q].hits] == \
               [(h.doc_id, h.section_no, h.score) for h in plain.hits]
        assert off[q].total == plain.total
    assert search(engine, "Tokayev", cross="0", lang="ja").total == 0


def test_expansion_never_outranks_a_direct_match(engine: Engine) -> None:
    for q in ["pipeline", "Kazakhstan", "summit", "railway", "energy", "パイプライン", "鉄道", "サミット"]:
        direct = {(h.doc_id, h.section_no) for h in search(engine, q, cross="0", per_page="50").hits}
        ranked = [(h.doc_id, h.section_no) for h in search(engine, q, per_page="50").hits]
        assert direct <= set(ranked), q
        last_direct = max(ranked.index(d) for d in direct) if direct else -1
        first_expanded = min((i for i, d in enumerate(ranked) if d not in direct), default=len(ranked))
        assert last_direct < first_expanded, (q, ranked)


def test_results_in_the_other_language_rank_typed_words_and_counterparts_together(tmp_path: Path) -> None:
    # An English word inside Japanese text (an option name) is no better evidence for
    # lang=ja than the Japanese word for it: the page about ソケット comes first there,
    # while lang=all keeps the words as typed first.
    write(tmp_path / "c/_glossary.tsv", "ソケット\tsocket\n")
    write(tmp_path / "c/option.md", "---\nlang: ja\n---\n設定は --socket オプションで渡す。ほかの説明が続く。\n")
    write(tmp_path / "c/about.md", "---\nlang: ja\n---\nソケットを開く。ソケットを閉じる。ソケットの一覧。\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    engine = Engine(tmp_path / "ix")
    assert [h.doc_id for h in search(engine, "socket", lang="ja").hits] == ["about", "option"]
    assert [h.doc_id for h in search(engine, "socket").hits] == ["option", "about"]
    assert [h.doc_id for h in search(engine, "socket", lang="ja", cross="0").hits] == ["option"]


def test_counterpart_is_the_same_section_in_the_other_language(engine: Engine) -> None:
    hit = search(engine, "天然ガス", lang="ja").hits[0]
    assert hit.counterpart == {"doc_id": EN, "section": "Six countries linked by energy and infrastructure",
                               "url": "/doc/summit-2025/en#s5"}
    lead = search(engine, "整理", lang="ja").hits[0]
    assert lead.counterpart == {"doc_id": EN, "section": None, "url": "/doc/summit-2025/en#s1"}


def test_aligned_translation_finds_what_no_bridge_knows(engine: Engine) -> None:
    hit = search(engine, "オリンピックシティ", lang="en").hits[0]  # in no dictionary or glossary
    assert (hit.doc_id, hit.section_no) == (EN, 5)
    # It matches no word of the query; the dictionary's pairs of its own words mark City.
    assert hit.matched == [{"term": "オリンピックシティ", "via": "translation", "field": "body", "word": "City"}]
    assert "<mark>City</mark>" in hit.snippet
    assert search(engine, "オリンピックシティ", lang="en", cross="0").total == 0


def test_no_counterpart_without_translation(tmp_path: Path) -> None:
    write(tmp_path / "c/a.md", "鉄道の話。\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    assert search(Engine(tmp_path / "ix"), "鉄道").hits[0].counterpart is None


def test_bridge_follows_documents_and_glossary_through_reindex(tmp_path: Path, monkeypatch) -> None:
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    write(corpus / "a.md", "原則は独自工法(zorblax method)です。\n")
    write(corpus / "b.md", "別の記事でも独自工法を使う。\n")
    reindex(corpus, ix)

    def via(engine: Engine, q: str) -> dict[str, list]:
        return {h.doc_id: h.matched for h in search(engine, q, lang="ja").hits}

    assert via(Engine(ix), "zorblax method")["b"] == [
        {"term": "zorblax method", "via": "corpus", "field": "ngram", "word": "独自工法"}
    ]
    write(corpus / "_glossary.tsv", "原則\tguidestone\n")
    write(corpus / "a.md", "原則は独自工法です。\n")  # the pair is gone from the corpus

    def crash(self, *args):
        raise RuntimeError("killed before the commit")

    real_finish = index_mod.DocumentRecords.finish
    monkeypatch.setattr(index_mod.DocumentRecords, "finish", crash)
    with pytest.raises(RuntimeError):
        reindex(corpus, ix)
    engine = Engine(ix)
    assert "b" in via(engine, "zorblax method") and via(engine, "guidestone") == {}  # the old bridge, whole
    monkeypatch.setattr(index_mod.DocumentRecords, "finish", real_finish)
    reindex(corpus, ix)
    engine = Engine(ix)
    assert "b" not in via(engine, "zorblax method")
    assert via(engine, "guidestone")["a"] == [{"term": "guidestone", "via": "glossary", "field": "body", "word": "原則"}]


def test_bracket_pairs_keep_a_no_phrase_whole() -> None:
    assert [(p.ja, p.en) for p in bracket_pairs("- 永遠の友好(everlasting friendship)")] == [
        ("永遠の友好", "everlasting friendship")]


def test_glossary_command_lists_pairs_with_sources(index_dir: Path) -> None:
    import json

    from click.testing import CliRunner

    from casearch.cli import main

    runner = CliRunner()
    listed = runner.invoke(main, ["glossary", "トカエフ", "--index", str(index_dir)])
    assert listed.exit_code == 0 and "トカエフ\tTokayev\tglossary" in listed.stdout
    corpus = json.loads(runner.invoke(main, ["glossary", "--source", "corpus", "--json", "--index", str(index_dir)]).stdout)
    assert {"ja": "相互支援", "en": "mutual assistance", "source": "corpus"} in corpus["pairs"]
    assert all(p["source"] == "corpus" for p in corpus["pairs"])


def test_no_cross_flag_and_parameter(index_dir: Path, client) -> None:
    import json

    from click.testing import CliRunner

    from casearch.cli import main

    crossed = json.loads(CliRunner().invoke(main, ["search", "Tokayev", "--lang", "ja", "--json", "--index", str(index_dir)]).stdout)
    plain = json.loads(CliRunner().invoke(main, ["search", "Tokayev", "--lang", "ja", "--no-cross", "--json",
                                                 "--index", str(index_dir)]).stdout)
    assert crossed["total"] >= 1 and plain["total"] == 0
    assert client.get("/api/search?q=Tokayev&lang=ja&cross=0").get_json()["total"] == 0
    assert client.get("/api/search?q=Tokayev&lang=ja&cross=2").status_code == 400


def test_page_explains_matches_and_links_counterparts(client) -> None:
    page = client.get("/search?q=Tokayev&lang=ja&ui=en").get_data(as_text=True)
    assert "Matched" in page and "glossary" in page
    assert 'class="counterpart" href="/doc/summit-2025/en?q=Tokayev&amp;ui=en&amp;at=s2#s2"' in page
    assert 'href="/search?q=Tokayev&amp;lang=ja&amp;ui=en&amp;cross=0"' in page


def test_document_side_by_side_with_its_translation(client) -> None:
    page = client.get("/doc/summit-2025/ja?parallel=1&q=天然ガス&ui=en").get_data(as_text=True)
    assert page.count('class="parallel-row"') == 8
    assert "<mark>天然ガス</mark>" in page and "Six countries linked by energy and infrastructure" in page
    single = client.get("/doc/summit-2025/ja?ui=en").get_data(as_text=True)
    assert "parallel-row" not in single and "parallel=1" in single


# The passage about a word, across languages: each heading or key term of the article,
# searched in the other language, puts the section that is about it first.
@pytest.mark.parametrize(("q", "lang", "doc", "section"), [
    ("trade", "ja", JA, 6), ("investment", "ja", JA, 6), ("declaration", "ja", JA, 4), ("summit", "ja", JA, 2),
    ("pipeline", "ja", JA, 5), ("refinery", "ja", JA, 5),
    ("貿易", "en", EN, 6), ("投資", "en", EN, 6), ("宣言", "en", EN, 4), ("製油所", "en", EN, 5),
    # 一帯一路 has two counterparts (Belt and Road Initiative, BRI): a passage naming both
    # is not twice about it, so the section headed by it still comes first.
    ("一帯一路", "en", EN, 7), ("Belt and Road", "ja", JA, 7), ("共同体", "en", EN, 3), ("community", "ja", JA, 3),
])
def test_the_passage_about_the_counterpart_comes_first(client, q, lang, doc, section) -> None:
    body = client.get("/api/search", query_string={"q": q, "lang": lang}).get_json()
    assert body["hits"], q
    assert body["hits"][0]["url"] == f"/doc/{doc}#s{section}", (q, [h["url"] for h in body["hits"]])


@needs_jmdict
@pytest.mark.parametrize(("q", "lang", "counterpart"), [("railway", "ja", "鉄道"), ("鉄道", "en", "railway")])
def test_railway_puts_the_project_section_first_in_the_other_language(client, q, lang, counterpart) -> None:
    # On the Japanese side a plain search for 鉄道 puts the short lead first (one mention
    # in few words); the project section's translation is the best English passage for
    # railway, and it inherits that passage's score.
    crossed = [h["url"] for h in client.get("/api/search", query_string={"q": q, "lang": lang}).get_json()["hits"]]
    plain = [h["url"] for h in client.get("/api/search", query_string={
        "q": counterpart, "lang": lang, "cross": "0"}).get_json()["hits"]]
    doc = JA if lang == "ja" else EN
    assert crossed[0] == f"/doc/{doc}#s4", crossed  # the section about the railway project
    assert f"/doc/{doc}#s4" in plain[:2] and set(crossed[:3]) <= set(plain)


@needs_jmdict
def test_a_dictionary_word_with_several_senses_prefers_the_first(engine: Engine) -> None:
    with engine.reader() as reader:
        found = engine.bridge(reader).counterparts(("declar",))
    assert found[0].terms == ("宣言",) and found[0].confidence > found[1].confidence
