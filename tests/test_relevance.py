"""Relevance, judged: queries a reader would ask of the article, with the passage they
expect first. Each must rank in the top 3; the mean reciprocal rank (MRR@10) over the
set is printed for the README (run: pytest tests/test_relevance.py -s)."""

from __future__ import annotations

import pytest

from casearch.search import Engine, validate_request

JA, EN = "summit-2025/ja", "summit-2025/en"

# query, acceptable first passages as (doc, section number)
JUDGED: list[tuple[str, set[tuple[str, int]]]] = [
    # Japanese words and compounds
    ("パイプライン", {(JA, 5)}),
    ("天然ガス", {(JA, 5)}),
    ("シムケント製油所", {(JA, 5)}),
    ("4300億立方メートル", {(JA, 5)}),
    ("中国石油天然気集団", {(JA, 5)}),
    ("高速道路", {(JA, 5)}),
    ("稼働する", {(JA, 5)}),
    ("鉄道計画", {(JA, 4)}),
    ("ユーラシア横断ルート", {(JA, 4)}),
    ("西安宣言", {(JA, 4)}),
    ("貿易額", {(JA, 6)}),
    ("948億ドル", {(JA, 6)}),
    ("農産物加工", {(JA, 6)}),
    ("相互支援", {(JA, 3)}),
    ("ロードマップ", {(JA, 3)}),
    ("2022年1月25日", {(JA, 3)}),
    ("トカエフ", {(JA, 2)}),
    ("習近平", {(JA, 2)}),
    ("遼寧大学", {(JA, 2)}),
    ("出発点", {(JA, 7)}),
    ("南南協力", {(JA, 8)}),
    ("グローバル・サウス", {(JA, 8)}),
    ("中国の鉄道", {(JA, 4)}),
    ('"共同の未来"', {(JA, 2), (JA, 8)}),
    ("深める", {(JA, 1), (JA, 2)}),
    # kana and romaji
    ("てつどう", {(JA, 4)}),
    ("ぱいぷらいん", {(JA, 5)}),
    ("しむけんと", {(JA, 5)}),
    ("せいゆじょ", {(JA, 5)}),
    ("tetsudou", {(JA, 4)}),
    # width and number variants
    ("４３００億", {(JA, 5)}),
    ("四千三百億", {(JA, 5)}),
    ("ｼﾑｹﾝﾄ", {(JA, 5)}),
    ("ｱｽﾀﾅ", {(JA, 1), (JA, 2)}),
    ("ＣＮＰＣ", {(JA, 5), (EN, 5)}),
    # mixed Japanese and English
    ("相互支援 mutual assistance", {(JA, 3)}),
    ("一帯一路 Belt and Road Initiative", {(JA, 4)}),
    ("CNPC 天然ガス", {(JA, 5)}),
    # English
    ("pipeline", {(EN, 5), (EN, 8)}),
    ("railway project", {(EN, 4)}),
    ("Shymkent refinery", {(EN, 5)}),
    ("cubic metres", {(EN, 5)}),
    ("Xi'an Declaration", {(EN, 4)}),
    ("Global South", {(EN, 8)}),
    ("starting point", {(EN, 7)}),
    ("Tokayev", {(EN, 2)}),
    ("roadmap", {(EN, 3)}),
    ("trade billion", {(EN, 6)}),
]


def first_relevant_rank(engine: Engine, query: str, relevant: set[tuple[str, int]]) -> int | None:
    result = engine.search(validate_request({"q": query, "per_page": "10"}))
    for rank, hit in enumerate(result.hits, start=1):
        if (hit.doc_id, hit.section_no) in relevant:
            return rank
    return None


@pytest.mark.parametrize(("query", "relevant"), JUDGED, ids=[q for q, _ in JUDGED])
def test_expected_passage_ranks_in_top_3(engine: Engine, query: str, relevant) -> None:
    rank = first_relevant_rank(engine, query, relevant)
    assert rank is not None and rank <= 3, (query, rank)


def test_mean_reciprocal_rank(engine: Engine) -> None:
    ranks = [first_relevant_rank(engine, q, relevant) for q, relevant in JUDGED]
    mrr = sum(1 / r for r in ranks if r) / len(ranks)
    print(f"\nMRR@10 over {len(JUDGED)} judged queries: {mrr:.3f}")
    assert len(JUDGED) >= 40 and mrr >= 0.8
