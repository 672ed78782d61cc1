"""Judged relevance (issue 15, "How it is checked"): queries a bilingual reader asks of
the article and of documents of the kinds users bring, each with the passage that answers
it best, written before anyone tuned search (tests/data/judged/, scored by
bench/judged.py).

    the set        well formed: at least 60 queries, both languages, every judged passage
                   exists in the judged corpus (no index needed)
    the scores     MRR@10 (passage and document level) and the share of queries whose
                   best passage comes first hold floors, overall and per query language
    the marks      through /api/search, as users see them: every hit of every judged
                   query carries at least one mark, and every mark lies inside a word that
                   matches the query (``mark_matches`` in bench/judged_marks.py says what
                   "matches" means; pinned here on the cases issue 15 names)

The floors sit a little below what main scored when the set was written, and the queries
main got wrong then are listed as non-strict xfails: the lead raises the floors and
removes the xfails as the quality fixes of issue 15 land.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from casearch.corpus import discover, passages, read_document
from casearch.web import create_app

REPO = Path(__file__).resolve().parents[1]


def _load_bench():
    """bench/judged.py as a module (it imports bench/judged_marks.py beside it)."""
    spec = importlib.util.spec_from_file_location("judged_bench", REPO / "bench" / "judged.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


judged = _load_bench()
marks = sys.modules["judged_marks"]
QUERIES = judged.load_queries()
BY_ID = {query.id: query for query in QUERIES}

# Floors, a little below what both engines score once issue 15's fixes landed (0.930 /
# 91 % / 0.973 overall; bench/judged.py, bench/RESULTS.md). Before them, at 02bcd75:
# 0.814 / 79 % / 0.846.
FLOORS = {
    # query language: (passage MRR@10, best passage first, document MRR@10)
    "all": (0.91, 0.88, 0.95),  # now: 0.930 / 91 % / 0.973 (110 queries)
    "ja": (0.89, 0.85, 0.92),  # now: 0.917 / 89 % / 0.944 (54)
    "en": (0.94, 0.92, 0.98),  # now: 0.959 / 94 % / 1.000 (53)
}

# Every hit of every judged query carries a mark now (02bcd75 left 31 of the 110 queries
# with unmarked hits: title and heading words, translations that joined without a word
# of the query, counterparts the snippet did not mark). Kept as a set so that a known
# exception can be named here with its reason.
UNMARKED_ON_MAIN: set[str] = set()
# Marks on words the judge does not accept, left as known: sake read as romaji サケ marks
# 酒造り (a fair reading, but not the word typed); てすと is read as the conjunction て,
# whose base form で marks every で; operating costs marks operator and 運営会社 (Snowball
# stems operating and operator alike). Fixed since 02bcd75: ガスパイ, university,
# グリーンエネルギー, and the dictionary counterparts of translations (judged as declared
# counterparts: the hit's note names the word and its source).
STRAY_MARKS_ON_MAIN = {"s08", "c09", "u10"}


# --- the judged set itself (no index) -----------------------------------------------------

def test_judged_set_has_enough_queries_of_every_kind() -> None:
    assert len(QUERIES) >= 60
    assert len(BY_ID) == len(QUERIES), "query ids are unique"
    by_lang = {lang: sum(q.qlang == lang for q in QUERIES) for lang in ("ja", "en", "mixed")}
    assert by_lang["ja"] >= 25 and by_lang["en"] >= 25 and by_lang["mixed"] >= 2, by_lang
    kinds = {q.kind for q in QUERIES}
    assert {"question", "word", "compound", "kana", "romaji", "inflection", "cross", "number", "name", "partial"} <= kinds
    assert {q.lang for q in QUERIES} == {"all", "ja", "en"} and {q.cross for q in QUERIES} == {True, False}
    cross = [q for q in QUERIES if q.kind == "cross"]
    assert any(q.qlang == "en" and q.lang == "ja" for q in cross) and any(q.qlang == "ja" and q.lang == "en" for q in cross)
    assert all(q.intent and q.q.strip() for q in QUERIES)


def _documents(corpus: Path) -> dict[str, object]:
    """doc_id -> Document, as the indexer reads them."""
    files, skipped = discover(corpus)
    assert not skipped
    return {file.doc_id: read_document(file, file.path.read_bytes()) for file in files}


def test_judged_passages_exist_and_translation_pairs_point_both_ways() -> None:
    documents = {**_documents(REPO / "corpus"), **_documents(judged.JUDGED / "corpus")}
    assert 6 <= len(_documents(judged.JUDGED / "corpus")) <= 10
    for query in QUERIES:
        for passage in (query.best, *query.also):
            doc_id, _, anchor = passage.partition("#s")
            assert doc_id in documents and 1 <= int(anchor) <= len(documents[doc_id].sections), (query.id, passage)
            # one passage per section, so that a section's anchor names the passage judged
            assert len(passages(documents[doc_id])) == len(documents[doc_id].sections)
    pairs = {(doc_id, other) for doc_id, document in documents.items() for other in document.translations}
    assert len(pairs) >= 6 and all((other, doc_id) in pairs for doc_id, other in pairs)
    assert all(len(documents[a].sections) == len(documents[b].sections) >= 4 for a, b in pairs)


# --- the mark judge, on cases issue 15 names ----------------------------------------------

@dataclass(frozen=True)
class _Asked:
    q: str
    cross: bool = False
    counterparts: tuple[str, ...] = ()


def _judge(q: str, text: str, marked: str, counterparts: tuple[str, ...] = ()) -> bool:
    start = text.index(marked)
    words = marks.query_words(None, _Asked(q, counterparts=counterparts))
    return marks.mark_matches(text, start, start + len(marked), words)


@pytest.mark.parametrize(("q", "text", "marked"), [
    ("ガスパイ", "天然ガスパイプラインが稼働", "ガスパイ"),  # the characters typed
    ("pipeline", "natural gas pipelines and", "pipelines"),  # an inflection
    ("operate refinery", "are operating steadily", "operating"),
    ("cooperating", "cooperation projects", "cooperation"),
    ("ぱいぷらいん", "原油・天然ガスパイプラインと", "パイプライン"),  # a reading typed in hiragana
    ("tetsudou", "中国の鉄道計画", "鉄道"),  # a reading typed in romaji
    ("四千三百億", "4300億立方メートル", "4300億"),  # the same number, marked as one word
    ("ｼﾑｹﾝﾄ", "シムケント製油所", "シムケント"),  # width
    ("GitHub Actions", "GitHub Actionsの設定", "GitHub Actions"),
    ("四つの原則", "次の4つの原則です", "4つ"),
])
def test_mark_judge_accepts_marks_on_matching_words(q: str, text: str, marked: str) -> None:
    assert _judge(q, text, marked)


@pytest.mark.parametrize(("q", "text", "marked"), [
    ("ガス", "クリーンエネルギー化する", "化する"),  # issue 15: a reading across words
    ("kite", "地域で協力", "地域で"),
    ("ジェン", "相互支援", "支援"),  # voicing ignored for a short query
    ("university", "universal security", "universal"),  # one Porter stem, two words
    ("ガスパイ", "天然ガスパイプラインが", "ガスパイプライン"),  # a whole compound for a part of it
    ("鉄道", "鉄道計画です", "鉄道計画"),
    ("天然ガス", "中国の天然ガス", "中国"),
])
def test_mark_judge_rejects_marks_outside_matching_words(q: str, text: str, marked: str) -> None:
    assert not _judge(q, text, marked)


def test_mark_judge_takes_counterparts_from_the_judged_set() -> None:
    assert _judge("railway", "中国の鉄道計画", "鉄道", counterparts=("鉄道",))
    assert not _judge("railway", "中国の鉄道計画", "鉄道")


def test_marked_spans_index_the_unescaped_text() -> None:
    text, spans = marks.marked_spans("A &amp; <mark>B&lt;C</mark> and <mark>D</mark>…")
    assert text == "A & B<C and D…"
    assert [text[a:b] for a, b in spans] == ["B<C", "D"]


# --- scores and marks on the judged index (per engine) --------------------------------------

@pytest.fixture(scope="session")
def judged_index(engine_name: str, tmp_path_factory: pytest.TempPathFactory):
    """The article and the judged documents, indexed once per engine."""
    workdir = tmp_path_factory.mktemp(f"judged-{engine_name}")
    return workdir, judged.build_index(workdir, engine_name)


@pytest.fixture(scope="session")
def judged_responses(judged_index, engine_name: str) -> dict[str, dict]:
    """Every judged query's first page, as /api/search answers it (status and JSON)."""
    workdir, _ = judged_index
    app = create_app({
        "INDEX_DIR": str(workdir / "index"), "CORPUS_DIR": str(workdir / "corpus"), "ENGINE": engine_name, "TESTING": True,
    })
    client = app.test_client()
    answers = {}
    for query in QUERIES:
        response = client.get("/api/search", query_string=query.params())
        answers[query.id] = {"status": response.status_code, "json": response.get_json()}
    return answers


@pytest.mark.slow
def test_judged_scores_hold_their_floors(judged_index, engine_name: str) -> None:
    _, engine = judged_index
    outcomes = judged.evaluate(engine)
    groups = judged.groups(outcomes)
    print("\n" + judged.report(outcomes, engine_name))
    for group, (mrr, first, doc_mrr) in FLOORS.items():
        scores = judged.score(groups[group])
        assert scores.passage_mrr >= mrr, (group, scores)
        assert scores.best_first >= first, (group, scores)
        assert scores.document_mrr >= doc_mrr, (group, scores)


@pytest.mark.slow
def test_judged_api_ranks_as_the_library_does(judged_index, judged_responses) -> None:
    """The bench scores Engine.search; users get /api/search: the same first page."""
    _, engine = judged_index
    for query in QUERIES:
        answer = judged_responses[query.id]
        assert answer["status"] == 200, (query.id, answer)
        listed = [f"{hit['doc_id']}#s{hit['url'].rpartition('#s')[2]}" for hit in answer["json"]["hits"]]
        assert listed == judged.run_query(engine, query).passages, query.id


def _known(failing: set[str], reason: str) -> list:
    """Every query id, those main fails marked xfail (not strict) with the query named."""
    return [
        pytest.param(q.id, marks=pytest.mark.xfail(strict=False, reason=f"{reason}: {q.q!r}")) if q.id in failing else q.id
        for q in QUERIES
    ]


@pytest.mark.slow
@pytest.mark.parametrize("query_id", _known(UNMARKED_ON_MAIN, "issue 15: main lists hits without a mark for"))
def test_every_judged_hit_has_a_mark(judged_index, judged_responses, query_id: str) -> None:
    _, engine = judged_index
    unmarked, _ = marks.mark_problems(engine, BY_ID[query_id], judged_responses[query_id]["json"]["hits"])
    assert not unmarked, f"{BY_ID[query_id].q!r}: hits without a mark: {unmarked}"


@pytest.mark.slow
@pytest.mark.parametrize("query_id", _known(STRAY_MARKS_ON_MAIN, "issue 15: main marks words that do not match"))
def test_every_judged_mark_lies_in_a_matching_word(judged_index, judged_responses, query_id: str) -> None:
    _, engine = judged_index
    _, stray = marks.mark_problems(engine, BY_ID[query_id], judged_responses[query_id]["json"]["hits"])
    assert not stray, f"{BY_ID[query_id].q!r}: marks outside matching words: {stray}"
