"""Search: query syntax, phrase correctness, filters, ordering, paging, snippets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casearch.index import reindex
from casearch.search import Engine, validate_request

from conftest import write


def search(engine: Engine, q: str, **params: str):
    """Plain search: these tests pin the query language, so no cross-lingual expansion."""
    return engine.search(validate_request({"q": q, "cross": "0", **params}))


def sections(result) -> list[tuple[str, str | None]]:
    return [(h.doc_id, h.section) for h in result.hits]


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("toy")
    write(root / "together.md", "---\ntitle: 一\n---\n天然ガスの輸送。\n")
    write(root / "apart.md", "---\ntitle: 二\n---\n天然の資源とガスの輸送。\n")
    write(root / "rail.md", "---\ntitle: 三\n---\n中国の鉄道が延びる。中国と鉄道。\n")
    write(root / "order.md", "---\ntitle: 四\n---\n中国が鉄道を語る。\n")
    write(root / "en.md", "---\ntitle: Pipes\nlang: en\n---\nNatural gas pipelines and railways.\n")
    write(root / "tie-b.md", "---\ntitle: 同点\n---\n同じ本文。\n")
    write(root / "tie-a.md", "---\ntitle: 同点\n---\n同じ本文。\n")
    ix = root.parent / (root.name + "-ix")
    reindex(root, ix)
    return Engine(ix)


def ids(result) -> list[str]:
    return sorted(h.doc_id for h in result.hits)


def test_split_japanese_word_matches_only_contiguous(toy: Engine) -> None:
    assert ids(search(toy, "天然ガス")) == ["together"]
    assert ids(search(toy, "天然 ガス")) == ["apart", "together"]


def test_particles_split_a_run_into_anded_parts(toy: Engine) -> None:
    assert ids(search(toy, "中国の鉄道")) == ["order", "rail"]


def test_quoted_phrase_keeps_its_particles_in_order(toy: Engine) -> None:
    assert ids(search(toy, '"中国の鉄道"')) == ["rail"]
    assert ids(search(toy, "＂中国が鉄道＂")) == ["order"]  # full-width quotes act as ASCII


def test_or_not_minus_and_grouping(toy: Engine) -> None:
    assert ids(search(toy, "天然ガス OR railways")) == ["en", "together"]
    assert ids(search(toy, "輸送 NOT 資源")) == ["together"]
    assert ids(search(toy, "輸送 -資源")) == ["together"]
    assert ids(search(toy, "(資源 OR 鉄道) 輸送")) == ["apart"]
    assert ids(search(toy, "輸送 ＯＲ 鉄道")) == ["apart", "order", "rail", "together"]


def test_field_prefixes_and_literal_colons(toy: Engine) -> None:
    assert ids(search(toy, "title:pipes")) == ["en"]
    assert ids(search(toy, "body:pipes")) == []
    assert search(toy, "foo:bar").total == 0  # any other x: is literal text


def test_prefix_query(toy: Engine) -> None:
    assert ids(search(toy, "pipe*")) == ["en"]
    assert ids(search(toy, "rail*")) == ["en"]


@pytest.mark.parametrize("q", ['"天然ガス', "(天然ガス", "天然ガス)", "天然ガス OR", "OR 天然ガス", "天然ガス NOT"])
def test_syntax_errors_are_searched_as_plain_text(toy: Engine, q: str) -> None:
    """Unbalanced quotes and brackets, and dangling operators, leave the words searched."""
    result = search(toy, q)
    assert ids(result) == ["together"] and result.total == 1 and result.hint is None


@pytest.mark.parametrize("q", ["OR", "NOT", "- -", "((", '"'])
def test_operators_alone_find_nothing_and_say_why(toy: Engine, q: str) -> None:
    result = search(toy, q)
    assert result.total == 0 and result.hits == [] and "operators" in result.hint


def test_stop_only_query_has_no_hits_and_a_hint(toy: Engine) -> None:
    result = search(toy, "の")
    assert result.total == 0 and result.hits == [] and "の" in result.hint
    assert search(toy, "the and").hint


def test_language_filter(toy: Engine) -> None:
    assert ids(search(toy, "gas", lang="en")) == ["en"]
    assert search(toy, "gas", lang="ja").total == 0


def test_ties_are_ordered_by_doc_id(toy: Engine) -> None:
    result = search(toy, "同じ本文")
    assert [h.doc_id for h in result.hits] == ["tie-a", "tie-b"]
    assert result.hits[0].score == result.hits[1].score


def test_paging_and_page_past_the_end(toy: Engine) -> None:
    everything = search(toy, "輸送 OR 鉄道 OR 本文", per_page="50")
    pages = [search(toy, "輸送 OR 鉄道 OR 本文", per_page="2", page=str(n)) for n in (1, 2, 3)]
    assert [h.doc_id for p in pages for h in p.hits] == [h.doc_id for h in everything.hits]
    beyond = search(toy, "輸送 OR 鉄道 OR 本文", per_page="2", page="99")
    assert beyond.hits == [] and beyond.total == everything.total == 6


def test_scores_are_ordered(engine: Engine) -> None:
    scores = [h.score for h in search(engine, "中央アジア").hits]
    assert scores == sorted(scores, reverse=True)


def test_article_pipeline_hit_in_energy_section(engine: Engine) -> None:
    result = search(engine, "パイプライン")
    top = result.hits[0]
    assert (top.doc_id, top.section) == ("summit-2025/ja", "エネルギー・インフラで結びつく6カ国")
    assert "<mark>パイプライン</mark>" in top.snippet and top.url == "/doc/summit-2025/ja#s5"


def test_titles_and_headings_are_searchable(engine: Engine) -> None:
    heading_hit = search(engine, "数字で見る貿易と投資").hits[0]
    assert heading_hit.section == "数字で見る貿易と投資"
    # Every passage carries the title, but a title match lists the document's first passage once.
    titled = search(engine, "title:鉄道", lang="ja")
    assert titled.total == 1 and titled.hits[0].url == "/doc/summit-2025/ja#s1"
    assert "<mark>鉄道</mark>" in titled.hits[0].title_html


# --- snippets ---------------------------------------------------------------------


def plain(snippet: str) -> str:
    return re.sub(r"</?mark>", "", snippet)


def test_snippet_is_bounded_and_marks_every_match(engine: Engine) -> None:
    for q in ["中央アジア", "エネルギー", "Kazakhstan", "サミット", "pipeline"]:
        for hit in search(engine, q, per_page="50").hits:
            text = plain(hit.snippet)
            assert len(text) <= 170, (q, text)
        top = search(engine, q).hits[0]  # titles match every passage; the top hit is a body match
        assert "<mark>" in top.snippet, (q, top.snippet)


def test_snippet_marks_repeated_words_at_each_place(toy: Engine) -> None:
    snippet = search(toy, "中国", lang="ja").hits
    rail = next(h for h in snippet if h.doc_id == "rail")
    assert rail.snippet.count("<mark>中国</mark>") == 2


def test_phrase_marks_only_the_phrase(toy: Engine) -> None:
    hit = search(toy, '"中国と鉄道"').hits[0]
    assert hit.snippet.count("<mark>") == 1 and "<mark>中国と鉄道</mark>" in hit.snippet


def test_snippet_marks_original_characters_after_normalization(tmp_path: Path) -> None:
    write(tmp_path / "c/w.md", "半角の天然ｶﾞｽﾊﾟｲﾌﾟﾗｲﾝと<script>alert(1)</script>です。\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    hit = Engine(tmp_path / "ix").search(validate_request({"q": "パイプライン"})).hits[0]
    assert "<mark>ﾊﾟｲﾌﾟﾗｲﾝ</mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet


def test_long_sentence_is_cut_with_ellipsis(tmp_path: Path) -> None:
    sentence = "前置き" * 80 + "目的の語" + "後続" * 80 + "。"
    write(tmp_path / "c/long.md", sentence + "\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    hit = Engine(tmp_path / "ix").search(validate_request({"q": "目的"})).hits[0]
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "<mark>目的</mark>" in hit.snippet and len(plain(hit.snippet)) <= 165


@pytest.mark.parametrize(
    ("params", "param"),
    [({"q": ""}, "q"), ({"q": "\u3000 "}, "q"), ({}, "q"), ({"q": "x" * 501}, "q"),
     ({"q": "a", "lang": "fr"}, "lang"), ({"q": "a", "page": "0"}, "page"),
     ({"q": "a", "page": "1001"}, "page"), ({"q": "a", "page": "x"}, "page"),
     ({"q": "a", "per_page": "51"}, "per_page"), ({"q": "a", "per_page": "-1"}, "per_page")],
)
def test_invalid_parameters_name_the_parameter(params: dict, param: str) -> None:
    from casearch.errors import QueryError

    with pytest.raises(QueryError) as raised:
        validate_request(params)
    assert raised.value.param == param and raised.value.code == "invalid_parameter"


def test_query_of_500_characters_is_accepted(engine: Engine) -> None:
    result = search(engine, " ".join(["鉄道"] * 166)[:500])
    assert result.total >= 1


def test_facets_count_matches_per_language_whatever_the_filter(engine: Engine) -> None:
    everything = search(engine, "中国 OR China")
    only_en = search(engine, "中国 OR China", lang="en")
    assert everything.facets == only_en.facets
    assert everything.facets["all"] == everything.total == everything.facets["ja"] + everything.facets["en"]
    assert only_en.total == only_en.facets["en"]


def test_sort_by_date_puts_newest_first_and_undated_last(tmp_path: Path) -> None:
    write(tmp_path / "c/old.md", "---\ndate: 2020-01-01\n---\n鉄道の話。\n")
    write(tmp_path / "c/new.md", "---\ndate: 2025-06-17\n---\n鉄道の話。鉄道。鉄道。\n")
    write(tmp_path / "c/none.md", "鉄道の話。鉄道。鉄道。鉄道。鉄道。\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    engine = Engine(tmp_path / "ix")
    by_date = search(engine, "鉄道", sort="date")
    assert [h.doc_id for h in by_date.hits] == ["new", "old", "none"]
    assert by_date.hits[0].score > by_date.hits[1].score  # scores are still real scores
    assert [h.doc_id for h in search(engine, "鉄道").hits][0] == "none"


def test_time_cap_answers_query_too_complex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from casearch.engines.whoosh_engine import reader as search_mod
    from casearch.errors import QueryError

    for n in range(300):
        write(tmp_path / f"c/d{n:03}.md", f"鉄道 {n}\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    engine = Engine(tmp_path / "ix")
    assert search(engine, "鉄道", lang="ja").total == 300
    monkeypatch.setattr(search_mod, "SEARCH_SECONDS", -1.0)
    with pytest.raises(QueryError) as raised:
        search(engine, "鉄道", lang="ja")
    assert raised.value.code == "query_too_complex"


@pytest.mark.parametrize("q", ["の", "です", "ですが", "のです", "the", "of the"])
def test_function_words_alone_find_nothing_and_say_why(engine: Engine, q: str) -> None:
    result = search(engine, q)
    assert result.total == 0 and result.hint


def test_kana_word_that_mecab_splits_into_particles_is_found_by_reading(engine: Engine) -> None:
    hit = search(engine, "せいゆじょ").hits[0]
    assert hit.section_no == 5 and "<mark>製油所</mark>" in hit.snippet
    assert {"term": "せいゆじょ", "via": "reading", "field": "reading"} in hit.matched
