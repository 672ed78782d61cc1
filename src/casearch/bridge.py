"""Bridge: Japanese <-> English term pairs, built at reindex time, used to expand queries.

At reindex time, per document (``document_pairs``), from the tokens the indexer has:

    gloss       UniDic lemma glosses of loanwords (エネルギー-energy). A run of adjacent
                glossed katakana tokens is skipped: it is a compound or a name the
                dictionary split apart (シルダリヤ -> シル-sill + ダリヤ-dahlia)
    corpus      a Japanese term followed by English in brackets, as Japanese writers
                gloss terms: 相互支援(mutual assistance), 一帯一路(Belt and Road Initiative、BRI)
    dictionary  JMdict / JMnedict through the optional jamdict-data package: the
                document's content words (and noun pairs such as 天然ガス) looked up

and once per run from ``corpus/_glossary.tsv`` (``glossary``). Each pair is stored with
its analyzed terms on the document's record in the index, so it commits atomically with
the postings and is replaced when the document changes.

At query time ``Bridge`` gathers the pairs of the serving index into two maps keyed by
content terms (base forms / English stems): a query word found in one map is also
searched, at a lower weight, as its counterparts in the other language.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence


from . import analysis
from .analysis import ENGLISH_STOP_WORDS, Token
from .textnorm import is_katakana, reading_key

GLOSSARY_FILE = "_glossary.tsv"
SOURCES = ("glossary", "corpus", "gloss", "dictionary", "mined", "transliteration")

# Japanese run (kanji, katakana, 々, ・; one の inside: 永遠の友好) before a bracket holding English.
_BRACKETED = re.compile(
    r"((?:[\u4e00-\u9fff\u3400-\u4dbf々\u30a1-\u30fa\u30fc・]+の)?[\u4e00-\u9fff\u3400-\u4dbf々\u30a1-\u30fa\u30fc・]{2,})"
    r"[」』]?[(（]"
    r"([A-Za-z][A-Za-z .'\-]*[A-Za-z.])(?:[、,，]\s*([A-Za-z][A-Za-z.\-]*))?[)）]"
)
_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞"})
_ALL_JAPANESE = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff々・]+")


@dataclass(frozen=True)
class Pair:
    """One bridge: written forms, their analyzed terms, where it came from, and how sure
    that source is of it (0..1; mined pairs carry their association strength)."""

    ja: str
    en: str
    source: str
    ja_terms: tuple[str, ...]
    en_terms: tuple[str, ...]
    confidence: float = 1.0

    def stored(self) -> list:
        return [self.ja, self.en, self.source, list(self.ja_terms), list(self.en_terms), self.confidence]

    @classmethod
    def from_stored(cls, row: Sequence) -> "Pair":
        """Rows written before confidences existed (five cells) read as fully confident."""
        confidence = float(row[5]) if len(row) > 5 else 1.0
        return cls(row[0], row[1], row[2], tuple(row[3]), tuple(row[4]), confidence)


@lru_cache(maxsize=65536)
def english_terms(phrase: str) -> tuple[str, ...]:
    """Stems of an English word or phrase, as the index stores them.

    >>> english_terms("Natural gas pipelines")
    ('natur', 'gas', 'pipelin')
    """
    return tuple(t.term for t in analysis.analyze(phrase) if t.indexed)


@lru_cache(maxsize=65536)
def japanese_terms(written: str) -> tuple[str, ...]:
    """Base-form terms of a Japanese written form (MeCab splits compounds)."""
    return tuple(t.term for t in analysis.analyze(written) if t.indexed)


@lru_cache(maxsize=65536)
def japanese_key(written: str) -> tuple[str, ...]:
    """The content terms a query word made of this form would have (particles left out)."""
    return tuple(t.term for t in analysis.analyze(written) if t.indexed and not t.stop)


def _pair(ja: str, en: str, source: str, ja_terms: tuple[str, ...] | None = None) -> Pair | None:
    ja_terms = ja_terms or japanese_terms(ja)
    en_terms = english_terms(en)
    if not ja_terms or not en_terms or not _content(en_terms):
        return None
    return Pair(ja, en.strip(), source, ja_terms, en_terms)


def _content(terms: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for t in terms if t not in ENGLISH_STOP_WORDS)


# --- reindex side -----------------------------------------------------------------


def gloss_pairs(tokens: Sequence[Token]) -> list[Pair]:
    """Pairs from UniDic glosses, skipping runs of several glossed katakana tokens."""
    pairs: list[Pair] = []
    for i, token in enumerate(tokens):
        if not token.gloss or not token.indexed:
            continue
        if _in_glossed_run(tokens, i):
            continue
        pair = _pair(token.base, token.gloss, "gloss", (token.term,))
        if pair:
            pairs.append(pair)
    return pairs


def _in_glossed_run(tokens: Sequence[Token], i: int) -> bool:
    """Whether token i sits next to another glossed katakana token (シル|ダリヤ)."""
    token = tokens[i]
    if not token.gloss or not is_katakana(token.surface):
        return False
    for j in (i - 1, i + 1):
        if 0 <= j < len(tokens):
            other = tokens[j]
            adjacent = other.end == token.start or token.end == other.start
            if adjacent and other.gloss and is_katakana(other.surface):
                return True
    return False


def bracket_pairs(text: str) -> list[Pair]:
    """Pairs a Japanese text states itself: 用語(English term[、ABBR]).

    >>> [(p.ja, p.en) for p in bracket_pairs("「一帯一路」(Belt and Road Initiative、BRI)のもと")]
    [('一帯一路', 'Belt and Road Initiative'), ('一帯一路', 'BRI')]
    """
    pairs: list[Pair] = []
    for match in _BRACKETED.finditer(text):
        japanese = match.group(1).strip("・")
        for english in (match.group(2), match.group(3)):
            pair = _pair(japanese, english, "corpus") if english else None
            if pair:
                pairs.append(pair)
    return pairs


def lookup_candidates(tokens: Sequence[Token]) -> tuple[set[str], set[str]]:
    """Japanese words and noun pairs, and English words, worth a dictionary look-up."""
    japanese: set[str] = set()
    english: set[str] = set()
    glossed_runs = {id(t) for i, t in enumerate(tokens) if _in_glossed_run(tokens, i)}
    content = [t for t in tokens if t.indexed and not t.stop and id(t) not in glossed_runs]
    for i, token in enumerate(content):
        if token.pos == "英単語":
            if token.norm.isalpha() and len(token.norm) > 2 and token.norm not in ENGLISH_STOP_WORDS:
                english.add(token.norm)
        elif token.pos in _CONTENT_POS and len(token.base) > 1:
            japanese.add(token.base)
            nxt = content[i + 1] if i + 1 < len(content) else None
            if nxt is not None and nxt.start == token.end and token.pos == nxt.pos == "名詞":
                japanese.add(token.surface + nxt.surface)
    return japanese, english


def dictionary_pairs(db: Path | None, japanese: Iterable[str], english: Iterable[str]) -> list[Pair]:
    """JMdict/JMnedict pairs for the given words (nothing when jamdict-data is absent).

    JMdict lists a word's senses and a gloss's words most usual first (declaration:
    宣言 before 声明 and 明言), so a pair's confidence falls with its place in the answer
    for the word looked up: 1 / sqrt(1 + place), multiplied over both directions when
    both words were looked up (声明's first gloss is declaration, but declaration's
    second word is 声明)."""
    if db is None:
        return []
    from . import jmdict

    weights: dict[tuple[str, str], float] = {}
    for side, found in (("ja", jmdict.lookup(db, sorted(japanese), [])), ("en", jmdict.lookup(db, [], sorted(english)))):
        places: dict[str, int] = defaultdict(int)
        for entry in found:
            key = entry.ja if side == "ja" else entry.en
            weight = 1 / (1 + places[key]) ** 0.5
            places[key] += 1
            weights[(entry.ja, entry.en)] = weight * weights.get((entry.ja, entry.en), 1.0)
    pairs: list[Pair] = []
    for (ja, en), weight in weights.items():
        pair = _pair(ja, en, "dictionary")
        if pair:
            pairs.append(dataclasses.replace(pair, confidence=round(weight, 3)))
    return pairs


@lru_cache(maxsize=4096)
def english_word(db: Path | None, word: str, katakana: str) -> bool:
    """Whether a Latin word that spells romaji (``katakana``) is an English word: the
    dictionary (JMdict, not its names) has it as the gloss of a word not read that way
    (kite: 凧, カイト, never キテ), while romaji spells the word it glosses (sushi: 寿司
    スシ) or a name (tetsudou)."""
    if db is None:
        return False
    from . import jmdict

    found = jmdict.lookup(db, [], [word.lower()])
    pairs = [p for p in found if p.source == "dictionary" and p.en.lower() == word.lower()]
    spoken = _loose_reading(katakana)
    return bool(pairs) and not any(_loose_reading(_reading_of(p.ja)) == spoken for p in pairs)


def _reading_of(written: str) -> str:
    tokens = analysis.analyze(written)
    readings = [t.reading for t in tokens if t.indexed]
    return "".join(readings) if readings and all(readings) else ""


def _loose_reading(katakana: str) -> str:
    """A reading as romaji may spell it: long vowels not written (tokyo: トウキョウ).

    >>> _loose_reading("トウキョウ"), _loose_reading("チュウオウ")
    ('トキヨ', 'チユオ')
    """
    key = reading_key(katakana)
    return re.sub(r"(?<=[ウクグスズツヅヌフブプムユルオコゴソゾトドノホボポモヨロヲ])ウ|ー", "", key)


def glossary_pairs(text: str) -> tuple[list[Pair], list[str]]:
    """Pairs of ``_glossary.tsv`` (Japanese, tab, English) and one message per bad line."""
    pairs: list[Pair] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        pair = _pair(cells[0], cells[1], "glossary") if len(cells) >= 2 and cells[0] and cells[1] else None
        if pair is None:
            problems.append(f"{GLOSSARY_FILE} line {number}: expected 'Japanese term<TAB>English term'")
        else:
            pairs.append(pair)
    return pairs, problems


def unique(pairs: Iterable[Pair]) -> list[Pair]:
    return list({(p.ja_terms, p.en_terms, p.source): p for p in pairs}.values())


# --- query side -------------------------------------------------------------------

LEARNED = ("mined", "transliteration")  # pairs whose Japanese side is an index term already
MAX_COUNTERPARTS = 2  # each one is another posting list to walk: the most trusted few
MIN_CONFIDENCE = 0.3  # below this a counterpart costs more than it finds


@dataclass(frozen=True)
class Counterpart:
    field: str  # where to search the other language's side
    terms: tuple[str, ...]  # searched as a phrase
    via: str
    written: str = ""  # as written: Japanese searched by its characters, or the English word
    confidence: float = 1.0  # weighs the counterpart in the expanded query


def japanese_side(pair: Pair, confidence: float = 1.0) -> Counterpart:
    """Japanese is searched by its characters: MeCab may split a name differently in
    context (習近平 alone vs in 習近平国家主席), but the characters are the same. Learned
    pairs hold the index's own terms and are searched as those."""
    if pair.source not in LEARNED and _ALL_JAPANESE.fullmatch(pair.ja):
        return Counterpart("body_ngram", tuple(analysis.query_grams(pair.ja)), pair.source, pair.ja, confidence)
    return Counterpart("body", pair.ja_terms, pair.source, "", confidence)


@lru_cache(maxsize=65536)
def _as_one_word(counterpart: Counterpart) -> Counterpart:
    """A character-searched counterpart that MeCab reads as one dictionary word of two
    or more characters (ファイル, 宇宙) is searched as that word instead: the text splits
    it the same way, and one posting list costs far less than a phrase of bigrams."""
    if counterpart.field != "body_ngram" or len(counterpart.written) < 2:
        return counterpart
    tokens = [t for t in analysis.analyze(counterpart.written) if t.indexed]
    if len(tokens) != 1 or tokens[0].unknown or tokens[0].reading is None or len(tokens[0].surface) < 2:
        return counterpart
    return Counterpart("body", (tokens[0].term,), counterpart.via, "", counterpart.confidence)


LOOKED_UP = 3  # a query word's dictionary senses worth searching


def looked_up_counterparts(db: Path | None, written: str) -> list[Counterpart]:
    """English counterparts of a Japanese word the corpus did not pair, looked up in the
    dictionary at query time (JMdict's own order and weights), most trusted first."""
    pairs = [p for p in dictionary_pairs(db, [written], []) if p.ja == written and p.en_terms]
    pairs.sort(key=lambda p: -p.confidence)
    return [Counterpart("body", p.en_terms, "dictionary", p.en, p.confidence) for p in pairs[:LOOKED_UP]]


def pair_keys(pair: Pair) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The query terms that reach this pair from either side (``bridgestore`` files
    each pair under these)."""
    ja_key = pair.ja_terms if len(pair.ja_terms) == 1 or pair.source in LEARNED else japanese_key(pair.ja)
    return ja_key, _content(pair.en_terms)


MINED_SCALE = 3.0  # a Dice of 1/3 over aligned units is as sure as a dictionary's first sense
DOUBTED = 0.5  # a dictionary sense the aligned documents did not teach, where they taught another


def confidences(pairs: Sequence[Pair]) -> tuple[dict[Pair, float], dict[Pair, float]]:
    """How much to trust each pair in the expanded query, towards English and towards
    Japanese: its stored confidence (mining's association, scaled up to the dictionary's,
    or its spelling score; for the dictionary, JMdict's order weighed by the aligned
    documents' agreement), full when mining found a dictionary pair on its own, and
    halved for a dictionary sense where mining learned the word's counterpart but not
    that one (書き込む: "fill in" is JMdict's, the man pages say "write"). Glosses,
    bracketed definitions and the glossary are trusted fully."""
    keyed = [(pair, *pair_keys(pair)) for pair in pairs]
    confirmed = {(ja_key, en_key) for pair, ja_key, en_key in keyed if pair.source == "mined"}
    taught_ja = {ja_key for ja_key, _ in confirmed}
    taught_en = {en_key for _, en_key in confirmed}

    def weight(pair: Pair, keys: tuple, taught: bool) -> float:
        if pair.source == "mined":
            return round(min(1.0, pair.confidence * MINED_SCALE), 4)
        if pair.source != "dictionary":
            return pair.confidence
        if keys in confirmed:
            return 1.0
        return round(pair.confidence * DOUBTED, 4) if taught else pair.confidence

    # Each direction doubts by what was taught for the word looked up: the store reads
    # every pair filed under that word, so it answers as a bridge of all pairs does.
    to_english = {pair: weight(pair, (j, e), j in taught_ja) for pair, j, e in keyed}
    to_japanese = {pair: weight(pair, (j, e), e in taught_en) for pair, j, e in keyed}
    return to_english, to_japanese


class Bridge:
    """Both directions of the bridge of one index generation: for a query word's content
    terms, the other language's counterparts, most trusted first."""

    def __init__(self, pairs: Iterable[Pair]) -> None:
        self.pairs = unique(pairs)
        self._to_english: dict[tuple[str, ...], list[Counterpart]] = defaultdict(list)
        self._to_japanese: dict[tuple[str, ...], list[Counterpart]] = defaultdict(list)
        to_en, to_ja = confidences(self.pairs)
        # Most trusted first, then by source; equals keep the order they were written in
        # (a dictionary's answers come in its own order of preference).
        for pair in sorted(self.pairs, key=lambda p: (-to_en[p], _source_rank(p.source))):
            ja_key, _ = pair_keys(pair)
            self._add(self._to_english, ja_key, Counterpart("body", pair.en_terms, pair.source, pair.en, to_en[pair]))
        for pair in sorted(self.pairs, key=lambda p: (-to_ja[p], _source_rank(p.source))):
            _, en_key = pair_keys(pair)
            self._add(self._to_japanese, en_key, japanese_side(pair, to_ja[pair]))

    @staticmethod
    def _add(table: dict, key: tuple[str, ...], value: Counterpart) -> None:
        if key and all(value.terms != known.terms for known in table[key]):
            table[key].append(value)

    def counterparts(self, terms: tuple[str, ...], limit: int = MAX_COUNTERPARTS) -> list[Counterpart]:
        """The other language's phrases for these content terms (either language), the
        most trusted first."""
        found = self._to_english.get(terms, []) + [_as_one_word(c) for c in self._to_japanese.get(terms, [])]
        best: dict[tuple, Counterpart] = {}
        for counterpart in sorted(found, key=lambda c: -c.confidence):
            if counterpart.confidence >= MIN_CONFIDENCE:
                best.setdefault((counterpart.field, counterpart.terms), counterpart)
        return list(best.values())[:limit]

    def looked_up(self, written: str) -> list[Counterpart]:
        """A Japanese word's English counterparts from the dictionary (none here: an
        in-memory bridge has no dictionary; see ``bridgestore.BridgeStore``)."""
        return []

    def matching(self, text: str) -> list[Pair]:
        """Pairs whose Japanese or English side contains ``text`` (for the CLI)."""
        needle = text.lower()
        return [p for p in self.pairs if needle in p.ja.lower() or needle in p.en.lower()]

    def __len__(self) -> int:
        return len(self.pairs)


def _source_rank(source: str) -> int:
    return SOURCES.index(source) if source in SOURCES else len(SOURCES)
