"""Numbers with kanji units: one value whichever way they are written (Arabic, full-width,
kanji numerals, mixed, 3.5万), in the text and in the query, marked where they stand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casearch.analysis import analyze
from casearch.index import reindex
from casearch.textnorm import numeral_value
from casearch.web import create_app

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("written", "value"), [
    ("350万", "3500000"), ("三百五十万", "3500000"), ("3.5百万", "3500000"), ("3,500,000", "3500000"),
    ("3.5万", "35000"), ("三万五千", "35000"), ("3万5千", "35000"), ("0.5万", "5000"),
    ("948億", "94800000000"), ("九百四十八億", "94800000000"), ("94.8億", "9480000000"),
    ("1億2千万", "120000000"), ("一億二千万", "120000000"), ("1億2000万", "120000000"),
    ("1兆2000億", "1200000000000"), ("4300億", "430000000000"), ("一千万", "10000000"),
    ("四千三百", "4300"), ("二〇二五", "2025"), ("二千二十五", "2025"), ("十五", "15"), ("百", "100"),
    ("1.23456万", "12345.6"),
])
def test_numeral_value_of_every_notation(written: str, value: str) -> None:
    assert numeral_value(written) == value


@pytest.mark.parametrize("written", ["万", "億", "億万", "五億万", "3百千", "数", "", "万一", "3万万"])
def test_numeral_value_refuses_what_is_not_a_number(written: str) -> None:
    assert numeral_value(written) is None


# text -> indexed tokens as surface/term: the number is one token spanning its characters
GOLDEN = [
    ("350万人", "350万/3500000 人/人"),
    ("３５０万人", "３５０万/3500000 人/人"),
    ("三百五十万人", "三百五十万/3500000 人/人"),
    ("3.5百万人", "3.5百万/3500000 人/人"),
    ("3,500,000人", "3,500,000/3500000 人/人"),
    ("3.5万人が参加", "3.5万/35000 人/人 が/が* 参加/参加"),
    ("948億ドル", "948億/94800000000 ドル/ドル"),
    ("九百四十八億ドル", "九百四十八億/94800000000 ドル/ドル"),
    ("1億2千万円", "1億2千万/120000000 円/円"),
    ("一億二千万円", "一億二千万/120000000 円/円"),
    ("350万世帯", "350万/3500000 世帯/世帯"),
    ("5カ国", "5/5 カ国/箇国"),
    ("五か国", "五/5 か国/箇国"),
    ("５ヶ国", "５/5 ヶ国/箇国"),
    ("2025年6月", "2025/2025 年/年 6/6 月/月"),
    ("二〇二五年", "二〇二五/2025 年/年"),
    # words made of numeral characters stay words
    ("億万長者", "億/億 万/万 長者/長者"),
    ("数万人", "数/数 万/万 人/人"),
    ("万一の場合", "万一/万一 の/の* 場合/場合"),
    ("一帯一路", "一帯/一帯 一路/一路"),
    ("千葉", "千葉/チバ"),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_numbers_golden_tokens(text: str, expected: str) -> None:
    tokens = [f"{t.surface}/{t.term}{'*' if t.stop else ''}" for t in analyze(text) if t.indexed]
    assert " ".join(tokens) == expected


@pytest.mark.parametrize("pair", [
    ("350万人", "三百五十万人"), ("350万人", "３５０万人"), ("350万人", "3,500,000人"),
    ("3.5万人", "三万五千人"), ("948億ドル", "九百四十八億ドル"), ("1億2千万円", "120,000,000円"),
    ("5カ国", "五ヶ国"),
])
def test_numbers_written_differently_index_the_same_terms(pair: tuple[str, str]) -> None:
    first, second = ([t.term for t in analyze(text) if t.indexed] for text in pair)
    assert first == second


_NUMBER_PIECES = list("0123456789０１２３.,万億兆千百十〇一二三四五六七八九人円ドル年カ国数 ") + ["ヶ国", "3.5", "1,500", "万人"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NUMBER_PIECES), max_size=20).map("".join))
def test_number_offsets_index_the_original_text(text: str) -> None:
    previous_end = 0
    for token in analyze(text):
        assert text[token.start : token.end] == token.surface
        assert token.start >= previous_end
        previous_end = token.end


# --- through the contract, both engines, on the article plus a few numbers ----------

NUMBER_DOCS = {
    "pop-arabic": "東部の都市の人口は350万人に達した。",
    "pop-kanji": "西部の州の人口は三百五十万人とされる。",
    "households": "この地域には350万世帯が暮らす。",
    "visitors": "観光客は3.5万人を超えた。",
    "budget": "事業の予算は1億2千万円だった。",
}


@pytest.fixture(scope="module")
def numbers_client(tmp_path_factory: pytest.TempPathFactory, engine_name: str):
    root = tmp_path_factory.mktemp(f"numbers-{engine_name}")
    shutil.copytree(REPO / "corpus" / "summit-2025", root / "c" / "summit-2025")
    for name, text in NUMBER_DOCS.items():
        (root / "c" / f"{name}.md").write_text(f"---\ntitle: 統計\nlang: ja\n---\n{text}\n", encoding="utf-8")
    assert not reindex(root / "c", root / "ix", engine=engine_name).skipped
    app = create_app({"INDEX_DIR": str(root / "ix"), "CORPUS_DIR": str(root / "c"), "ENGINE": engine_name, "TESTING": True})
    return app.test_client()


def search(client, q: str, **params: str) -> list[dict]:
    response = client.get("/api/search", query_string={"q": q, "per_page": "50", "cross": "0", **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["hits"]


@pytest.mark.parametrize("query", ["350万人", "三百五十万人", "３５０万人", "3,500,000人", "3.5百万人"])
def test_search_people_count_in_any_notation_finds_both_spellings(numbers_client, query: str) -> None:
    hits = {hit["doc_id"]: hit["snippet"] for hit in search(numbers_client, query)}
    assert set(hits) == {"pop-arabic", "pop-kanji"}  # not 350万世帯, not 3.5万人
    assert "<mark>350万人</mark>" in hits["pop-arabic"]
    assert "<mark>三百五十万人</mark>" in hits["pop-kanji"]


@pytest.mark.parametrize("query", ["948億ドル", "九百四十八億ドル", "９４８億ドル", "94,800,000,000ドル"])
def test_search_article_trade_value_in_any_notation(numbers_client, query: str) -> None:
    hits = search(numbers_client, query, lang="ja")
    assert hits and hits[0]["doc_id"] == "summit-2025/ja" and hits[0]["url"].endswith("#s6")
    assert "<mark>948億ドル</mark>" in hits[0]["snippet"]
    assert "<mark>54億ドル</mark>" not in hits[0]["snippet"]


@pytest.mark.parametrize("query", ["三万五千人", "35,000人", "3.5万人"])
def test_search_decimal_with_unit(numbers_client, query: str) -> None:
    hits = search(numbers_client, query)
    assert [hit["doc_id"] for hit in hits] == ["visitors"]
    assert "<mark>3.5万人</mark>" in hits[0]["snippet"]


@pytest.mark.parametrize("query", ["一億二千万円", "120,000,000円", "1.2億円"])
def test_search_mixed_digits_and_kanji(numbers_client, query: str) -> None:
    hits = search(numbers_client, query)
    assert [hit["doc_id"] for hit in hits] == ["budget"]
    assert "<mark>1億2千万円</mark>" in hits[0]["snippet"]


def test_search_article_volume_written_in_kanji(numbers_client) -> None:
    hits = search(numbers_client, "四千三百億立方メートル", lang="ja")
    assert hits[0]["doc_id"] == "summit-2025/ja" and "<mark>4300億立方メートル</mark>" in hits[0]["snippet"]
