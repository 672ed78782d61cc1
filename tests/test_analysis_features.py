"""Each analysis feature, seen from the search side: what a user types finds what the
document says, ranked sensibly, highlighted on the original characters, explained."""

from __future__ import annotations


import pytest

from casearch.analysis import analyze_full, ngrams, query_grams, reading_grams
from casearch.index import reindex
from casearch.search import Engine, validate_request

from conftest import write

DOCS = {
    "width": "ｱｽﾀﾅで開かれたｻﾐｯﾄ。ＣＮＰＣの報告。",
    "names": "佐々木氏と髙橋氏が会談した。",
    "vowel": "サーバーのエネルギー消費。",
    "verbs": "製油所が稼働しています。関係を深めようとしている。",
    "numbers": "取引量は４３００億立方メートル。貿易額は948億ドル。発電所は1,500メガワット。",
    "kanji-numbers": "累計は四千三百億立方メートルに達した。",
    "rail": "鉄道の建設が始まった。",
    "rail-kana": "てつどうの話をひらがなで書く。",
    "katakana": "スシとすしは同じ。",
    "name-split": "カシムジョマルト・トカエフ大統領が招いた。",
    "mixed": "相互支援(mutual assistance)を原則とした。",
    "english": "Kazakhstan's pipelines carry natural gas. The e-mail said so.",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("features")
    for name, text in DOCS.items():
        write(root / "c" / f"{name}.md", f"---\ntitle: {name}\n---\n{text}\n")
    reindex(root / "c", root / "ix")
    return Engine(root / "ix")


def hits(engine: Engine, q: str) -> list:
    return engine.search(validate_request({"q": q, "per_page": "50"})).hits


def ids(engine: Engine, q: str) -> list[str]:
    return [h.doc_id for h in hits(engine, q)]


@pytest.mark.parametrize(
    ("query", "doc", "marked"),
    [("アスタナ", "width", "ｱｽﾀﾅ"), ("サミット", "width", "ｻﾐｯﾄ"), ("cnpc", "width", "ＣＮＰＣ"),
     ("ＣＮＰＣ", "width", "ＣＮＰＣ"), ("ｴﾈﾙｷﾞｰ", "vowel", "エネルギー")],
)
def test_width_and_case_variants_match_and_mark_the_original(engine: Engine, query, doc, marked) -> None:
    top = hits(engine, query)[0]
    assert top.doc_id == doc and f"<mark>{marked}</mark>" in top.snippet


def test_iteration_marks_and_kanji_variants(engine: Engine) -> None:
    assert ids(engine, "佐佐木") == ["names"] and ids(engine, "佐々木") == ["names"]
    assert ids(engine, "高橋") == ["names"]
    assert "<mark>髙橋</mark>" in hits(engine, "高橋")[0].snippet


def test_katakana_long_vowel_stemming(engine: Engine) -> None:
    assert ids(engine, "エネルギ") == ["vowel"]
    assert ids(engine, "サーバ") == ["vowel"] and ids(engine, "サーバー") == ["vowel"]


def test_inflected_forms_find_each_other(engine: Engine) -> None:
    assert "verbs" in ids(engine, "稼働する")
    assert ids(engine, "深める") == ["verbs"]
    assert "<mark>深めよう</mark>" in hits(engine, "深める")[0].snippet


def test_numbers_in_any_notation(engine: Engine) -> None:
    for q in ["4300億", "４３００億", "四千三百億"]:
        assert sorted(ids(engine, q)) == ["kanji-numbers", "numbers"], q
    assert ids(engine, "948億ドル") == ["numbers"]
    assert ids(engine, "1500メガワット") == ["numbers"] and ids(engine, "1,500") == ["numbers"]


def test_reading_finds_kanji_below_surface_matches(engine: Engine) -> None:
    found = hits(engine, "てつどう")
    assert [h.doc_id for h in found] == ["rail-kana", "rail"]  # the written kana first
    assert "<mark>鉄道</mark>" in found[1].snippet
    assert {"term": "てつどう", "via": "reading", "field": "reading"} in found[1].matched
    assert ids(engine, "テツドウ")[-1] == "rail"


def test_hiragana_and_katakana_are_equivalent(engine: Engine) -> None:
    assert ids(engine, "すし") == ["katakana"] and ids(engine, "スシ") == ["katakana"]
    assert "rail" in ids(engine, "tetsudou")  # romaji


def test_unknown_names_by_full_form_and_parts(engine: Engine) -> None:
    for q in ["カシムジョマルト・トカエフ", "トカエフ", "カシムジョマルト", "トカエフ大統領"]:
        assert ids(engine, q) == ["name-split"], q


def test_any_japanese_substring_finds_its_passage(engine: Engine) -> None:
    for q, doc in [("ムジョマ", "name-split"), ("ルト・トカ", "name-split"), ("ネルギー消", "vowel"),
                   ("所が稼", "verbs")]:
        assert ids(engine, q)[:1] == [doc], q
    top = hits(engine, "ムジョマ")[0]
    assert top.doc_id == "name-split" and top.matched[0]["via"] == "surface"


def test_english_in_japanese_and_english_documents_is_stemmed(engine: Engine) -> None:
    assert ids(engine, "assist") == ["mixed"] and ids(engine, "assisting") == ["mixed"]
    assert ids(engine, "Kazakhstan") == ["english"] and ids(engine, "pipeline") == ["english"]
    assert ids(engine, "mail") == ["english"] and ids(engine, '"e-mail"') == ["english"]


def test_quoted_phrases_keep_particles_in_order(engine: Engine) -> None:
    assert ids(engine, '"鉄道の建設"') == ["rail"]
    assert ids(engine, '"建設の鉄道"') == []


def test_match_explanation_names_surface_and_base(engine: Engine) -> None:
    surface = hits(engine, "稼働")[0].matched
    base = next(h for h in hits(engine, "深める") if h.doc_id == "verbs").matched
    assert surface == [{"term": "稼働", "via": "surface", "field": "body"}]
    assert base == [{"term": "深める", "via": "base", "field": "body"}]


# Golden rows for the two gram fields (input -> grams as the index stores them).
GRAM_GOLDEN = [
    ("鉄道", "reading", ["テツ", "ツド", "ドウ"]),  # voicing kept: ガス is not カス
    ("中央アジア", "reading", ["チユ", "ユウ", "ウオ", "オウ", "ウア", "アジ", "ジア"]),
    ("製油所", "reading", ["セイ", "イユ", "ユシ", "シヨ"]),
    ("鉄道 railway 道路", "reading", ["テツ", "ツド", "ドウ", "ドウ", "ウロ"]),
    ("化が進む", "reading", ["スス", "スム"]),  # each word read on its own: no カガ, ガス
    ("長期的な地域で", "reading", ["チヨ", "ヨウ", "ウキ", "キテ", "テキ", "チイ", "イキ"]),  # a compound reads as one
    ("天然ガス", "ngram", ["天然", "然ガ", "ガス"]),
    ("ｶﾞｽと石油", "ngram", ["ガス", "スト", "ト石", "石油"]),
    ("すし", "ngram", ["スシ"]),
    ("州、国", "ngram", ["州", "国"]),
]


@pytest.mark.parametrize(("text", "kind", "grams"), GRAM_GOLDEN)
def test_gram_golden(text: str, kind: str, grams: list[str]) -> None:
    analysis = analyze_full(text)
    found = ngrams(analysis) if kind == "ngram" else reading_grams(analysis.tokens)
    assert [g[0] for g in found] == grams


def test_gram_offsets_point_at_original_characters() -> None:
    text = "ｶﾞｽ　鉄道"
    analysis = analyze_full(text)
    for gram, _, start, end in list(ngrams(analysis)) + list(reading_grams(analysis.tokens)):
        assert 0 <= start < end <= len(text) and text[start:end].strip()
    assert query_grams("てつどう") == ["テツ", "ツド", "ドウ"]


def test_explanation_of_a_title_match_with_the_query_characters_is_surface(tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("title-explain")
    write(root / "c" / "t.md", "---\ntitle: 鉄道の話\n---\n本文には出てこない。\n")
    reindex(root / "c", root / "ix")
    hit = Engine(root / "ix").search(validate_request({"q": "鉄道"})).hits[0]
    assert hit.matched == [{"term": "鉄道", "via": "surface", "field": "title"}]
    assert hit.title_html == "<mark>鉄道</mark>の話"
