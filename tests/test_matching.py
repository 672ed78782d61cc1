"""How much of a query must match: partial matching when every word together finds
nothing, function words alone, fragments of words, boosts and a lower-case "or".

Through the JSON endpoint (validated against the OpenAPI document), the page and the
CLI, on both engines, plus unit tests of the pieces and tiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch import querytree as qt
from casearch.cli import main
from casearch.index import reindex
from casearch.messages import MESSAGES
from casearch.partial import MAX_PIECES, Piece, needed, tiers
from casearch.querylang import FUNCTION_WORDS, parse
from casearch.search import validate_request
from casearch.web import create_app

from conftest import write
from test_facets import assert_counts_add_up
from test_openapi import check

STOP_HINT = "only holds particles or common words, which are not searched on their own"


def api(client, q: str, **params: str) -> dict:
    response = client.get("/api/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    check(client.get("/api/openapi.json").get_json(), "/api/search", response)
    return response.get_json()


# --- 1. partial matching ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "lang", "answer", "marked"),
    [
        ("投資額", "ja", "summit-2025/ja#s6", "投資"),  # the passage with both 投資 and 額
        ("貿易額はいくら", "ja", "summit-2025/ja#s6", "貿易額"),  # いくら is a question word
        ("アスタナ宣言", "ja", "summit-2025/ja#s1", "アスタナ"),
        ("Xi Jinping speech", "en", "summit-2025/en#s2", "Xi"),
    ],
)
def test_partial_matching_answers_what_a_strict_and_misses(client, q: str, lang: str, answer: str, marked: str) -> None:
    body = api(client, q, lang=lang, cross="0")
    assert body["matching"] == "partial"
    assert body["total"] > 0 and body["hits"][0]["url"] == f"/doc/{answer}"
    assert f"<mark>{marked}" in body["hits"][0]["snippet"]


def test_partial_matching_puts_the_passage_with_the_typed_characters_first(client) -> None:
    """タン鉄道 is the end of ウズベキスタン鉄道 (no word タン in the text): the passage
    holding those characters leads the ones that only have 鉄道."""
    body = api(client, "タン鉄道", lang="ja", cross="0")
    assert body["matching"] == "partial" and body["total"] > 1
    assert body["hits"][0]["url"] == "/doc/summit-2025/ja#s4"
    assert "<mark>タン鉄道</mark>" in body["hits"][0]["snippet"]


@pytest.mark.parametrize("q", ["天然ガス", "パイプライン", "中国の鉄道", "railway pipeline"])
def test_a_query_with_strict_matches_stays_exactly_the_strict_search(client, q: str) -> None:
    body = api(client, q, per_page="50")
    assert body["matching"] == "all" and body["total"] > 0


def test_partial_matching_keeps_exclusions_and_never_widens_or(client) -> None:
    excluded = api(client, "投資額 -ドル", lang="ja", cross="0")  # s6 has 投資, 額 and ドル
    assert excluded["matching"] == "partial" and excluded["hits"]
    assert "/doc/summit-2025/ja#s6" not in [hit["url"] for hit in excluded["hits"]]
    either = api(client, "投資額 OR 存在しない語彙")
    assert either["matching"] == "all" and either["total"] == 0


@pytest.mark.parametrize("q", ["投資額", "貿易額はいくら", "アスタナ宣言", "Xi Jinping speech", "タン鉄道"])
@pytest.mark.parametrize("cross", ["0", "1"])
def test_partial_matches_are_counted_like_any_other(engine, q: str, cross: str) -> None:
    """The facets count the listed partial matches, the same in every view."""
    assert_counts_add_up(engine, q, cross)
    assert engine.search(validate_request({"q": q, "cross": cross})).facets["all"] > 0  # the case is real


@pytest.mark.parametrize("ui", ["ja", "en"])
def test_the_page_says_when_it_shows_partial_matches(client, ui: str) -> None:
    partial = client.get("/search", query_string={"q": "投資額", "ui": ui}).get_data(as_text=True)
    strict = client.get("/search", query_string={"q": "天然ガス", "ui": ui}).get_data(as_text=True)
    assert MESSAGES[ui]["partial"] in partial and MESSAGES[ui]["partial"] not in strict


def test_the_cli_says_when_it_shows_partial_matches(index_dir: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["search", "投資額", "--index", str(index_dir), "--no-cross"])
    assert text.exit_code == 0 and "Partial matches" in text.stdout and "[投資]" in text.stdout
    strict = runner.invoke(main, ["search", "天然ガス", "--index", str(index_dir)])
    assert strict.exit_code == 0 and "Partial matches" not in strict.stdout
    as_json = runner.invoke(main, ["search", "投資額", "--json", "--index", str(index_dir)])
    assert json.loads(as_json.stdout)["matching"] == "partial"


def test_a_compound_is_relaxed_into_its_content_words() -> None:
    pieces = parse("貿易額はいくら", relaxed=True).pieces
    assert [(p.label, p.weak) for p in pieces] == [("貿易", False), ("額", False), ("いくら", True)]
    assert [p.label for p in parse("Xi Jinping speech", relaxed=True).pieces] == ["Xi", "Jinping", "speech"]
    assert parse("投資額").pieces == []  # only a relaxed parse cuts pieces


def test_only_an_empty_strict_result_of_a_few_words_is_widened() -> None:
    assert needed(0, 2) and needed(0, MAX_PIECES)
    assert not needed(1, 2) and not needed(0, 1) and not needed(0, MAX_PIECES + 1)


def test_tiers_count_strong_pieces_from_all_down_to_one() -> None:
    a, b, c = (qt.Term("body", w) for w in "abc")
    weak = qt.Term("body", "what")
    found = tiers([Piece("a", a), Piece("b", b), Piece("c", c), Piece("what", weak, weak=True)], None)
    assert len(found) == 3  # all three, all but one, any one; the weak word is never required
    assert found[0].children[0] == qt.And((a, b, c))
    assert found[1].children[0] == qt.Or((qt.And((a, b)), qt.And((a, c)), qt.And((b, c))))
    assert found[-1] == qt.And((qt.Or((a, b, c)), qt.Or((qt.Every(), qt.Term("body", "what", 0.2)))))
    many = [Piece(str(n), qt.Term("body", str(n))) for n in range(6)]
    assert [len(tier.children) for tier in tiers(many, None)] == [6, 6, 6]  # all six; all but one (6 ANDs); any


# --- 4. function words alone -------------------------------------------------------------

PARTICLES_AND_AUXILIARIES = sorted(FUNCTION_WORDS | {"しかし", "そして", "および"})


@pytest.mark.parametrize("q", PARTICLES_AND_AUXILIARIES)
def test_a_function_word_alone_finds_nothing_and_says_why(client, q: str) -> None:
    """が and から alone (tagged conjunctions), まで (an interjection to MeCab), の and は:
    one rule for all."""
    body = api(client, q)
    assert (body["total"], body["hits"], body["matching"]) == (0, [], "all")
    assert body["hint"].startswith(f"「{q}」 ") and STOP_HINT in body["hint"]


def test_function_words_still_count_inside_a_phrase_and_beside_content_words(client) -> None:
    assert api(client, "鉄道 が", lang="ja", cross="0")["total"] == api(client, "鉄道", lang="ja", cross="0")["total"]
    assert api(client, '"中国と中央アジア"', lang="ja")["total"] > 0


# --- 5. fragments ------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "inside"), [("ア研", "アジア研究"), ("ン鉄道", "ウズベキスタン鉄道")])
def test_a_query_that_starts_inside_a_word_finds_those_characters(client, q: str, inside: str) -> None:
    body = api(client, q, lang="ja", cross="0")
    assert body["total"] == 1 and body["matching"] == "all"
    assert f"<mark>{q}</mark>" in body["hits"][0]["snippet"]
    # never searched as 鉄道: its characters, found by the character field
    assert body["hits"][0]["matched"] == [{"term": q, "via": "surface", "field": "ngram"}]


@pytest.fixture(scope="module")
def fragments(tmp_path_factory: pytest.TempPathFactory, engine_name: str):
    root = tmp_path_factory.mktemp("fragments")
    write(root / "c" / "parts.md", "# 製品\n\nヤンケント製の部品が届いた。\n")
    write(root / "c" / "other.md", "# 鉄道\n\nケント氏は鉄道を語った。\n")
    reindex(root / "c", root / "i", engine=engine_name)
    return create_app({"INDEX_DIR": str(root / "i"), "CORPUS_DIR": str(root / "c"), "ENGINE": engine_name, "TESTING": True})


def test_a_query_that_starts_and_ends_inside_words_finds_that_text(fragments) -> None:
    body = api(fragments.test_client(), "ンケント製")
    assert [hit["doc_id"] for hit in body["hits"]] == ["parts"]
    assert "<mark>ンケント製</mark>" in body["hits"][0]["snippet"]


# --- 12. query syntax --------------------------------------------------------------------


@pytest.mark.parametrize(("boosted", "plain"), [("鉄道^3", "鉄道"), ('"天然ガス"^3', '"天然ガス"'), ("pipeline^3", "pipeline")])
def test_a_boost_multiplies_the_score_of_the_same_passages(client, boosted: str, plain: str) -> None:
    weighted, unweighted = api(client, boosted, cross="0", per_page="50"), api(client, plain, cross="0", per_page="50")
    assert weighted["total"] == unweighted["total"] > 0
    assert [h["url"] for h in weighted["hits"]] == [h["url"] for h in unweighted["hits"]]
    assert weighted["hits"][0]["score"] == pytest.approx(3 * unweighted["hits"][0]["score"], rel=1e-3)


def test_a_boost_changes_which_word_ranks_first(client) -> None:
    """鉄道^5 パイプライン: the passage richer in 鉄道 moves up."""
    plain = api(client, "鉄道 OR パイプライン", lang="ja", cross="0")
    boosted = api(client, "鉄道^5 OR パイプライン", lang="ja", cross="0")
    assert plain["total"] == boosted["total"]
    assert "鉄道" in boosted["hits"][0]["snippet"]
    assert [h["url"] for h in plain["hits"]] != [h["url"] for h in boosted["hits"]]


def test_a_caret_without_a_number_is_text(client) -> None:
    assert api(client, "鉄道^", cross="0")["total"] == api(client, "鉄道", cross="0")["total"] > 0


def test_lower_case_or_is_a_word_and_the_hint_says_to_use_or(client) -> None:
    missed = api(client, "鉄道 or 存在しない語彙")
    assert "Use OR for either word" in missed["hint"]
    found = api(client, "railway or pipeline")
    assert found["matching"] == "all" and found["total"] > 0 and found["hint"] is None
    either = api(client, "鉄道 OR 存在しない語彙")
    assert either["total"] > 0 and either["hint"] is None
