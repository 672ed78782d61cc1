"""Marks of judged queries: does every hit carry a mark, and does every mark lie inside
a word that matches the query? (bench/judged.py reports it, tests/test_judged.py checks it.)

    hit_marks       a hit as the JSON shows it -> every mark: the snippet's, and a title's
                    or heading's when the JSON marks them (any string field with <mark>)
    query_words     the query -> what a mark may match: its words as analyzed, its typed
                    characters, the readings of words typed in kana or romaji, and the
                    counterparts the bridge offers (plus the judged set's own)
    mark_matches    one mark -> yes when it is typed text (a part of a Japanese word may
                    be), or covers whole words only and each content word matches one
                    of those: spelling, dictionary form, English inflection, number,
                    UniDic gloss, counterpart, reading inside a word typed in kana/romaji
    mark_problems   a query's hits -> the hits without a mark, the marks that match nothing

The judge is written independently of search's own matching (its own English inflection
rule, its own reading fold that keeps voicing), so that it can disagree with it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, replace

from casearch.analysis import Token, analyze
from casearch.querylang import parse
from casearch.textnorm import romaji_to_katakana, to_katakana


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
    """The query as a mark is judged against. ``query``: a judged query (``q``, ``cross``,
    ``counterparts``); ``engine``: the judged index's Engine, whose bridge is asked for
    counterparts when the query is asked with ``cross`` (None otherwise is fine)."""
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


def mark_problems(engine, query, hits: list[dict]) -> tuple[list[str], list[str]]:
    """The hits (as JSON) without any mark, and the marks outside matching words."""
    words = query_words(engine, query)
    unmarked = [_where(hit) for hit in hits if not hit_marks(hit)]
    stray = [
        f"{_where(hit)} {name}: {text[a:b]!r} in …{text[max(0, a - 8):b + 8]}…"
        for hit in hits
        for name, text, a, b in hit_marks(hit)
        if not mark_matches(text, a, b, _with_declared(words, hit))
    ]
    return unmarked, stray


# Match notes whose ``word`` is a counterpart of a query word, found by the bridge
# (dictionary, same sound, learned pairs…) or in a translation: the mark on that word
# is explained by the note, which names the query word and the source.
COUNTERPART_VIAS = frozenset({
    "dictionary", "corpus", "glossary", "translation", "mined", "transliteration", "synonym", "gloss",
})


def _with_declared(words: QueryWords, hit: dict) -> QueryWords:
    declared = {fold(note["word"]) for note in hit.get("matched") or []
                if note.get("word") and note.get("via") in COUNTERPART_VIAS}
    return replace(words, counterparts=words.counterparts | declared) if declared else words


def _where(hit: dict) -> str:
    return f"{hit['doc_id']}#{hit['url'].rpartition('#')[2]}"
