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
                   matches the query (``mark_matches`` below says what "matches" means)

The floors sit a little below what main scored when the set was written, and the queries
main got wrong then are listed as non-strict xfails: the lead raises the floors and
removes the xfails as the quality fixes of issue 15 land.
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from casearch.analysis import Token, analyze
from casearch.corpus import discover, passages, read_document
from casearch.querylang import parse
from casearch.textnorm import romaji_to_katakana, to_katakana
from casearch.web import create_app

REPO = Path(__file__).resolve().parents[1]


def _load_bench():
    spec = importlib.util.spec_from_file_location("judged_bench", REPO / "bench" / "judged.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


judged = _load_bench()
QUERIES = judged.load_queries()
BY_ID = {query.id: query for query in QUERIES}

# Floors, set a little below what main scored at commit 02bcd75 (bench/judged.py; the two
# engines scored the same; see bench/RESULTS.md): the lead raises them once the quality
# fixes of issue 15 land.
FLOORS = {
    # query language: (passage MRR@10, best passage first, document MRR@10)
    "all": (0.79, 0.76, 0.82),  # main: 0.814 / 79 % / 0.846 (110 queries)
    "ja": (0.73, 0.69, 0.75),  # main: 0.759 / 72 % / 0.778 (54)
    "en": (0.85, 0.84, 0.88),  # main: 0.877 / 87 % / 0.906 (53)
}

# Queries that main (02bcd75, both engines) answers with hits that carry no mark: title or
# heading words that match every passage of a document (運賃, RAG, 米国向け, student
# housing), translations that join the results without a word of the query (事業費 lists
# news/rail-en#s2), counterparts the snippet does not mark (pipeline cost in Japanese).
UNMARKED_ON_MAIN = {
    "a10", "a15", "a17", "a20", "r03", "r04", "r05", "r06", "r07", "r09", "r10", "r11", "r12", "r13",
    "r14", "r17", "r20", "r21", "r22", "p02", "p06", "p11", "p12", "p13", "p14", "p16", "s02", "g01",
    "c01", "c06", "u01",
}
# Queries for which main (02bcd75, both engines) marks a word that does not match: ガスパイ
# marks the whole ガスパイプライン, university marks Universal (one Porter stem),
# グリーンエネルギー marks クリーンエネルギー (voicing ignored), sake (read as romaji サケ)
# marks 酒造り and 生酒 whole, てすと marks the particle で.
STRAY_MARKS_ON_MAIN = {"a07", "a09", "a20", "s08", "c09"}


# --- what "a mark matches the query" means ------------------------------------------

@dataclass(frozen=True)
class QueryWords:
    """What a mark may match: the query's words as analyzed, the readings of its kana
    and romaji words, and the counterparts search offers for it (the bridge's, from the
    parsed query, and the ones written in the judged set)."""

    tokens: tuple[Token, ...]
    typed: str  # the query's characters, folded, without spaces or syntax
    readings: tuple[str, ...]  # folded katakana of the query's hiragana and romaji words
    counterpart_terms: frozenset[str]  # index terms of the counterparts search offers
    counterparts: frozenset[str]  # folded words: the judged set's, and n-gram counterparts


_SYNTAX = re.compile(r'["()*]|(?<!\S)(?:OR|NOT|AND)(?!\S)|(?<!\S)-|\b(?:title|section|body):')
_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_VOWELS = {kana: vowel for vowel, row in (
    ("ア", "アカガサザタダナハバパマヤラワ"), ("イ", "イキギシジチヂニヒビピミリ"),
    ("ウ", "ウクグスズツヅヌフブプムユルヴ"), ("エ", "エケゲセゼテデネヘベペメレ"),
    ("オ", "オコゴソゾトドノホボポモヨロヲ"),
) for kana in row}


def fold(text: str) -> str:
    """NFKC, lower case, hiragana as katakana: spelling differences that never change
    a word (half-width ｼﾑｹﾝﾄ, full-width Ｇｉｔ, てすと for テスト).

    >>> fold("ｼﾑｹﾝﾄ GitHub てすと")
    'シムケント github テスト'
    """
    return to_katakana(unicodedata.normalize("NFKC", text).lower())


def reading_fold(katakana: str) -> str:
    """A katakana reading with small kana written large and ー as the vowel it
    lengthens (voicing kept: ガス is not カス).

    >>> reading_fold("パイプライン"), reading_fold("グローバル"), reading_fold("キャッシュ")
    ('パイプライン', 'グロオバル', 'キヤツシユ')
    """
    out: list[str] = []
    for c in katakana.translate(_SMALL):
        out.append(_VOWELS.get(out[-1], c) if c == "ー" and out else c)
    return "".join(out)


_INFLECTIONS = ("ings", "ing", "ions", "ion", "ers", "ies", "ied", "es", "ed", "s", "e")


def english_key(word: str) -> str:
    """An English word without its inflection (and -ion and -ers, the act and the
    people of a verb): pipelines / pipeline, operating / operate / operation, countries /
    country, planned / plan, commuters / commuting agree; university and universal do not.

    >>> [english_key(w) for w in ("pipelines", "pipeline", "operating", "operation", "university", "universal")]
    ['pipelin', 'pipelin', 'operat', 'operat', 'universit', 'universal']
    >>> english_key("countries"), english_key("country"), english_key("planned"), english_key("days")
    ('countr', 'countr', 'plan', 'day')
    """
    word = word.lower()
    for suffix in _INFLECTIONS:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            if suffix in ("ings", "ing", "ed") and len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]  # planned -> plan, running -> run
            word = stem
            break
    return word[:-1] if word.endswith("y") and len(word) > 3 else word  # country / countries


def is_english(token: Token) -> bool:
    return token.pos == "英単語"


def query_words(engine, query) -> QueryWords:
    """The query as a mark is judged against (``engine``: the judged index's Engine)."""
    plain = _SYNTAX.sub(" ", unicodedata.normalize("NFKC", query.q))
    readings = []
    for chunk in plain.split():
        if re.fullmatch(r"[\u3041-\u309f]+", chunk):
            readings.append(reading_fold(to_katakana(chunk)))
        elif re.fullmatch(r"[A-Za-z]+", chunk) and (kana := romaji_to_katakana(chunk)):
            readings.append(reading_fold(kana))
    terms, spelled = _offered_counterparts(engine, query) if query.cross else (set(), set())
    return QueryWords(
        tokens=tuple(t for t in analyze(plain) if t.indexed),
        typed=fold("".join(plain.split())),
        readings=tuple(readings),
        counterpart_terms=frozenset(terms),
        counterparts=frozenset(spelled | {fold(word) for word in query.counterparts}),
    )


def _offered_counterparts(engine, query) -> tuple[set[str], set[str]]:
    """The counterparts and synonyms search may look for with this query: those it puts
    in the parsed query (for each language filter) and every one the bridge knows for a
    run of the query's words, not just the few it searches. Returns (index terms, words
    spelled out by their character n-grams)."""
    offered: list[tuple[str, tuple[str, ...]]] = []
    with engine.reader() as reader:
        bridge, synonyms = engine.bridge(reader), engine.synonyms(reader)
        for lang in ("all", "ja", "en"):
            for unit in parse(query.q, reader, bridge, lang, synonyms).units:
                offered += [(a.field, a.terms) for a in unit.alternatives if a.counterpart is not None or a.via == "synonym"]
        content = [t.term for t in analyze(_SYNTAX.sub(" ", query.q)) if t.indexed and not t.stop]
        for i in range(len(content)):
            for run in (tuple(content[i:j]) for j in range(i + 1, min(i + 4, len(content)) + 1)):
                offered += [(c.field, c.terms) for c in bridge.counterparts(run, limit=100)]
    terms: set[str] = set()
    spelled: set[str] = set()
    for name, found in offered:
        if name.endswith("_ngram"):  # overlapping: 圧縮 縮機 spell 圧縮機
            spelled.add(fold(found[0] + "".join(gram[-1] for gram in found[1:])))
        else:
            terms.update(found)
    return terms, spelled


def _direct(token: Token, words: QueryWords) -> bool:
    """One whole word of the text matches a word of the query as written, by its
    dictionary form, by its inflection (English) or by its value (numbers)."""
    surface = fold(token.surface)
    for word in words.tokens:
        if word.stop:
            continue
        if surface == fold(word.surface) or (token.base and token.base == word.base and not is_english(token)):
            return True
        if is_english(token) and is_english(word) and english_key(token.surface) == english_key(word.surface):
            return True
        if token.gloss and is_english(word) and english_key(token.gloss) == english_key(word.surface):
            return True  # a loanword UniDic glosses with the query word: ハルシネーション, hallucination
        if token.pos == word.pos == "数詞" and token.term == word.term:
            return True
        if fold(token.surface) and reading_fold(surface) == reading_fold(fold(word.surface)) and _is_katakana(surface):
            return True  # the same katakana word, with or without its long-vowel mark
    return False


def _is_katakana(text: str) -> bool:
    return bool(text) and all("\u30a0" <= c <= "\u30ff" for c in text)


def _by_reading(tokens: list[Token], words: QueryWords) -> bool:
    """Whole words whose reading is (part of) a word the query spelled in hiragana or
    romaji: てつどう marks 鉄道; 地域で never matches kite (its reading is チイキデ)."""
    reading = reading_fold("".join(t.reading or "" for t in tokens))
    return len(reading) >= 2 and any(reading in spelled for spelled in words.readings)


def _counterpart(token: Token, words: QueryWords) -> bool:
    surface = fold(token.surface)
    if token.term in words.counterpart_terms:
        return True
    return any(surface == c or (is_english(token) and english_key(surface) == english_key(c)) for c in words.counterparts)


def mark_matches(text: str, start: int, end: int, words: QueryWords) -> bool:
    """Does the mark on ``text[start:end]`` lie inside a word that matches the query?

    Yes when the marked characters are characters the query typed (a part of a word
    typed as a part: ガスパイ marks ガスパイ; at least two characters, or a whole query
    word; English words and numbers are never cut), or when the mark covers whole words
    only (as ``analyze`` splits the text around it) and each content word among them
    matches: its spelling or dictionary form is a query word's, it is an English
    inflection of one (pipelines for pipeline; not universal for university), the same
    number, a loanword UniDic glosses with it, a counterpart search offers (the bridge's
    terms, the judged set's words), or, for words the query spelled in hiragana or
    romaji, its reading lies inside theirs. A mark that cuts a word and is not typed
    text, or covers a word that matches nothing (a particle alone included), does not.
    """
    marked = fold(text[start:end])
    covered = [t for t in analyze(text) if t.start < end and t.end > start]
    cut = [t for t in covered if t.indexed and (t.start < start or t.end > end)]
    typed = marked.strip() and marked in words.typed and (len(marked) >= 2 or any(marked == fold(t.surface) for t in words.tokens))
    if typed and not any(is_english(t) or t.pos == "数詞" for t in cut):
        return True  # Japanese typed as a part of a word is searched as such (n-grams)
    if marked in words.counterparts:
        return True
    if cut:
        return False  # the mark cuts a word
    content = [t for t in covered if t.indexed and not t.stop]
    if not content:
        return False
    if _by_reading(content, words):
        return True
    return all(_direct(t, words) or _counterpart(t, words) for t in content)


# --- marks as the JSON carries them ---------------------------------------------------

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def marked_spans(fragment: str) -> tuple[str, list[tuple[int, int]]]:
    """An HTML fragment with ``<mark>`` -> (its plain text, the marked spans in it)."""
    text, spans, at = [], [], 0
    for match in _MARK.finditer(fragment):
        text.append(html.unescape(fragment[at : match.start()]))
        begin = sum(map(len, text))
        text.append(html.unescape(match.group(1)))
        spans.append((begin, begin + len(text[-1])))
        at = match.end()
    text.append(html.unescape(fragment[at:]))
    return "".join(text), spans


def hit_marks(hit: dict) -> list[tuple[str, str, int, int]]:
    """Every mark of a hit: the snippet's, and a title's or heading's if the JSON marks
    them (any string field holding ``<mark>``), as (field, plain text, start, end)."""
    marks = []
    for name, value in hit.items():
        if isinstance(value, str) and "<mark>" in value:
            text, spans = marked_spans(value)
            marks += [(name, text, a, b) for a, b in spans]
    return marks


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
    return mark_matches(text, start, start + len(marked), query_words(None, _Asked(q, counterparts=counterparts)))


@pytest.mark.parametrize(("q", "text", "marked"), [
    ("ガスパイ", "天然ガスパイプラインが稼働", "ガスパイ"),  # the characters typed
    ("pipeline", "natural gas pipelines and", "pipelines"),  # an inflection
    ("operate refinery", "are operating steadily", "operating"),
    ("cooperating", "cooperation projects", "cooperation"),
    ("ぱいぷらいん", "原油・天然ガスパイプラインと", "パイプライン"),  # a reading typed in hiragana
    ("tetsudou", "中国の鉄道計画", "鉄道"),  # a reading typed in romaji
    ("四千三百億", "4300億立方メートル", "4300"),  # the same number
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
    text, spans = marked_spans("A &amp; <mark>B&lt;C</mark> and <mark>D</mark>…")
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
def test_every_judged_hit_has_a_mark(judged_responses, query_id: str) -> None:
    hits = judged_responses[query_id]["json"]["hits"]
    unmarked = [f"{hit['doc_id']}#{hit['url'].rpartition('#')[2]}" for hit in hits if not hit_marks(hit)]
    assert not unmarked, f"{BY_ID[query_id].q!r}: hits without a mark: {unmarked}"


@pytest.mark.slow
@pytest.mark.parametrize("query_id", _known(STRAY_MARKS_ON_MAIN, "issue 15: main marks words that do not match"))
def test_every_judged_mark_lies_in_a_matching_word(judged_index, judged_responses, query_id: str) -> None:
    _, engine = judged_index
    query = BY_ID[query_id]
    words = query_words(engine, query)
    stray = [
        f"{hit['doc_id']}#{hit['url'].rpartition('#')[2]} {name}: {text[a:b]!r} in …{text[max(0, a - 8):b + 8]}…"
        for hit in judged_responses[query_id]["json"]["hits"]
        for name, text, a, b in hit_marks(hit)
        if not mark_matches(text, a, b, words)
    ]
    assert not stray, f"{query.q!r}: marks outside matching words: {stray}"
