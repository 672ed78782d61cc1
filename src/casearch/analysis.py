"""Analysis: text -> tokens with offsets into the original text. No I/O.

The pipeline, in order:

    normalize      NFKC per character cluster, kanji variants (髙 -> 高), control
                   characters -> space; keeps a map from every normalized character back
                   to its original span (ｶﾞ -> ガ is two characters -> one, ㍻ -> 平成 one
                   -> two). See ``textnorm``.
    split          the normalized text is cut into lines, and each line into Latin runs
                   (English words, numbers such as 1,500 or 94.8) and the rest (Japanese,
                   handed to fugashi)
    tokenize       fugashi + unidic-lite (MeCab with UniDic) for Japanese; a word regex
                   for Latin script, possessives ('s) removed; unknown katakana names are
                   split at ・ (カシムジョマルト・トカエフ -> two words)
    features       surface, base form (UniDic lemma without its English gloss
                   ``エネルギー-energy``; a Snowball stem for English, see ``stemming``), katakana reading,
                   part of speech; unknown words fall back to their surface
    numbers        a number with kanji units is one token whose terms are its value in
                   digits, however it is written: 350万, ３５０万, 三百五十万 and 3.5百万
                   -> 3500000 (digits with units are cut out before MeCab; runs of kanji
                   numerals are merged after it); the counter after it (人, ドル, カ国)
                   stays a word of its own
    fold           iteration marks expanded (人々 -> 人人), katakana long vowel stemmed
                   (サーバー -> サーバ), lower case
    stop rules     symbols and whitespace are dropped (``indexed=False``); particles,
                   auxiliary verbs, dependent verbs (し, い in しています) and English stop
                   words are kept as ``stop`` tokens: indexed so that quoted phrases match
                   in order, never searched on their own
    map back       each token's normalized offsets -> ``start``/``end`` in the original
                   text, so ``text[start:end]`` is what the user sees highlighted

``analyze()`` returns every token (the ``casearch analyze`` view). ``CasearchTokenizer``
is the Whoosh side; its ``kind`` picks what a field indexes:

    term     base forms (the main field)        norm     surface forms
    reading  bigrams of the katakana readings   ngram    bigrams of Japanese characters

The tokenizer is pickled into the index schema, so it holds no fugashi ``Tagger``:
taggers are created lazily, one per thread.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer

from .stemming import stem as english_stem
from .textnorm import (
    NUMERAL_CHARS, NUMERAL_UNITS, Normalized, fold_term, is_katakana, normalize, numeral_value,
    reading_key, to_katakana,
)

# Bump whenever a change here alters the terms written to the index: an index of another
# format version is rebuilt by the next reindex.
ANALYSIS_VERSION = 7  # 5: Snowball English stems (stemming.py); 6: numbers with units as one value;
# 7: a reading stays inside one word or compound noun, voicing kept

DROPPED_POS = frozenset({"補助記号", "記号", "空白"})
STOP_POS = frozenset({"助詞", "助動詞"})
DEPENDENT_POS = frozenset({"動詞", "形容詞"})  # with pos2 非自立可能: する, いる, ない ...
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be but by for from has have if in into is it its of on or "
    "such that the their then there these they this to was were which will with".split()
)

_DIGITS = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_LATIN_WORD = re.compile(
    # digits with kanji units (350万, 3.5万, 1億2000万, 3千万): one number, cut before MeCab,
    # which would read 万人 as one word (バンニン) and 万世帯 as 万世 + 帯
    rf"{_DIGITS}(?:[{NUMERAL_UNITS}]+(?:{_DIGITS})?)+"
    r"|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![0-9A-Za-z])"
    r"|[0-9]+\.[0-9]+(?![0-9A-Za-z])"
    r"|[0-9A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)?"
)
_HAS_WORD_CHAR = re.compile(r"[^\W_]")
_SYMBOL_RUN = re.compile(r"\S+")
_JAPANESE_CHAR = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")


@dataclass(frozen=True, slots=True)
class Token:
    surface: str  # the original text at [start, end)
    start: int
    end: int
    term: str  # the form indexed in the main field (folded base form)
    norm: str  # folded normalized surface
    base: str  # dictionary form without gloss, or the English stem
    reading: str | None  # katakana, or None
    pos: str  # part of speech (UniDic pos1, or "英単語"/"数詞" for Latin runs)
    gloss: str | None  # English gloss UniDic attaches to loanword lemmas
    stop: bool  # particle / auxiliary / stop word: only inside phrases
    indexed: bool  # False for symbols: not in the index at all
    position: int  # phrase position among indexed tokens (-1 when not indexed)
    unknown: bool = False  # not in the dictionary (MeCab guessed the word's extent)


@dataclass(frozen=True)
class Analysis:
    text: str
    normalized: Normalized
    tokens: list[Token]


# --- taggers ----------------------------------------------------------------------

_local = threading.local()
# The compiled user dictionary of the index being written or searched ("" for none); a
# context variable, so that each request thread sees the one its engine set.
_user_dictionary: ContextVar[str] = ContextVar("casearch_user_dictionary", default="")


@contextmanager
def user_dictionary(path: Path | None) -> Iterator[None]:
    """Analyze with this compiled MeCab user dictionary inside the ``with`` block."""
    token = _user_dictionary.set(str(path) if path else "")
    try:
        yield
    finally:
        _user_dictionary.reset(token)


def tagger():
    """This thread's fugashi Tagger (MeCab is not safe to share between threads)."""
    key = _user_dictionary.get()
    cached = getattr(_local, "taggers", None)
    if cached is None:
        cached = _local.taggers = {}
    if key not in cached:
        cached[key] = _new_tagger(key)
    return cached[key]


def _new_tagger(user_dictionary: str):
    import fugashi

    args = f'-u "{user_dictionary}"' if user_dictionary else ""
    try:
        return fugashi.Tagger(args)
    except RuntimeError as exc:  # fugashi raises this when no dictionary is found
        from .errors import CasearchError

        raise CasearchError(
            f"Cannot start the Japanese tokenizer: {exc}",
            hint="Install the dictionary with: pip install unidic-lite "
            "(and report it at the casearch issue tracker if that does not help)",
        ) from exc


# --- analysis ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Raw:
    """A token in normalized coordinates, before folding and offset mapping."""

    start: int
    end: int
    norm: str
    base: str
    reading: str | None
    pos: str
    gloss: str | None
    stop: bool
    indexed: bool
    unknown: bool = False


def analyze(text: str) -> list[Token]:
    """Every token of ``text`` (dropped symbols included), with original offsets.

    >>> [(t.surface, t.term, t.stop) for t in analyze("天然ガスの パイプライン")]
    [('天然', '天然', False), ('ガス', 'ガス', False), ('の', 'の', True), ('パイプライン', 'パイプライン', False)]
    """
    return analyze_full(text).tokens


def analyze_full(text: str) -> Analysis:
    """Tokens plus the normalized text; the last few results are cached per thread
    because Whoosh runs one analyzer per field over the same passage."""
    cache = getattr(_local, "recent", None)
    if cache is None:
        cache = _local.recent = {}
    key = (_user_dictionary.get(), text)
    found = cache.get(key)
    if found is not None:
        return found
    result = _analyze(text)
    if len(cache) >= 4:
        cache.pop(next(iter(cache)))
    cache[key] = result
    return result


def _analyze(text: str) -> Analysis:
    normalized = normalize(text)
    tokens: list[Token] = []
    position = 0
    for raw in _merge_numbers(list(_raw_tokens(normalized.text))):
        start, end = normalized.span(raw.start, raw.end)
        term = fold_term(raw.base)
        tokens.append(
            Token(
                text[start:end], start, end, term, fold_term(raw.norm), raw.base, raw.reading,
                raw.pos, raw.gloss, raw.stop, raw.indexed, position if raw.indexed else -1, raw.unknown,
            )
        )
        position += raw.indexed
    return Analysis(text, normalized, tokens)


def _raw_tokens(norm_text: str) -> Iterator[_Raw]:
    line_start = 0
    for line in norm_text.split("\n"):
        cursor = 0
        for match in _LATIN_WORD.finditer(line):
            yield from _japanese(line, cursor, match.start(), line_start)
            yield _latin(match, line_start)
            cursor = match.end()
        yield from _japanese(line, cursor, len(line), line_start)
        line_start += len(line) + 1


def _latin(match: re.Match[str], offset: int) -> _Raw:
    word = match.group(0)
    start, end = match.start() + offset, match.end() + offset
    lowered = word.lower()
    if lowered.endswith(("'s", "\u2019s")):
        lowered = lowered[:-2]
        end -= 2
    if lowered[0].isdigit() and lowered.replace(",", "").replace(".", "").isdigit():
        number = lowered.replace(",", "")
        return _Raw(start, end, number, number, None, "数詞", None, False, True)
    if lowered[0].isdigit() and any(c in NUMERAL_UNITS for c in lowered):
        number = numeral_value(lowered) or lowered.replace(",", "")
        return _Raw(start, end, number, number, None, "数詞", None, False, True)
    base = english_stem(lowered.replace("'", "").replace("\u2019", ""))
    return _Raw(start, end, lowered, base, None, "英単語", None, lowered in ENGLISH_STOP_WORDS, True)


def _japanese(line: str, begin: int, end: int, offset: int) -> Iterator[_Raw]:
    chunk = line[begin:end]
    if not _HAS_WORD_CHAR.search(chunk):
        # only spaces and punctuation: no need to ask MeCab, it would call them symbols
        for match in _SYMBOL_RUN.finditer(chunk):
            start = begin + match.start() + offset
            yield _Raw(start, start + len(match.group()), match.group(), match.group(), None, "補助記号",
                       None, False, False)
        return
    cursor = 0
    for node in tagger()(chunk):
        surface = node.surface
        found = chunk.find(surface, cursor)
        if not surface or found < 0 or not surface.strip():
            continue
        cursor = found + len(surface)
        start = begin + found + offset
        if node.is_unk and "・" in surface and is_katakana(surface):
            yield from _split_name(surface, start)
        else:
            yield _japanese_token(node, surface, start)


def _split_name(surface: str, start: int) -> Iterator[_Raw]:
    """An unknown katakana name with ・ -> its parts (the dot is dropped)."""
    at = start
    for part in surface.split("・"):
        if part:
            yield _Raw(at, at + len(part), part, part, part, "名詞", None, False, True, unknown=True)
        at += len(part) + 1


def _japanese_token(node, surface: str, start: int) -> _Raw:
    feature = node.feature
    pos = feature.pos1 or "名詞"
    norm = surface.lower()
    base, gloss = split_lemma(getattr(feature, "lemma", None))
    base = unicodedata.normalize("NFKC", base).lower() if base else norm
    reading = getattr(feature, "kana", None) or None
    if reading in ("*", "") or reading is None:
        reading = to_katakana(surface) if _is_kana_word(surface) else None
    stop = pos in STOP_POS or (pos in DEPENDENT_POS and getattr(feature, "pos2", "") == "非自立可能")
    return _Raw(start, start + len(surface), norm, base, reading, pos, gloss, stop, pos not in DROPPED_POS,
                unknown=bool(node.is_unk))


def _is_kana_word(text: str) -> bool:
    return all("\u3041" <= c <= "\u309f" or "\u30a1" <= c <= "\u30ff" for c in text)


def _merge_numbers(raws: list[_Raw]) -> list[_Raw]:
    """Each run of adjacent kanji-numeral tokens (三百 五十 万) -> one token whose terms
    are the number's value in digits (3500000), as ``350万`` is indexed; a run that is
    not a number (億万 in 億万長者) keeps its words."""
    merged: list[_Raw] = []
    run: list[_Raw] = []
    for raw in raws:
        numeral = _is_kanji_numeral(raw)
        if numeral and run and run[-1].end == raw.start:
            run.append(raw)
            continue
        merged += _as_number(run) if run else []
        run = [raw] if numeral else []
        if not numeral:
            merged.append(raw)
    return merged + (_as_number(run) if run else [])


def _is_kanji_numeral(raw: _Raw) -> bool:
    return raw.pos == "名詞" and raw.indexed and all(c in NUMERAL_CHARS for c in raw.norm)


def _as_number(run: list[_Raw]) -> list[_Raw]:
    written = "".join(raw.norm for raw in run)
    value = numeral_value(written)
    if value is None or written == "一":
        return run  # 一 alone is as often "one of" as the number; keep the word
    reading = run[0].reading if len(run) == 1 else None
    return [replace(run[0], end=run[-1].end, norm=value, base=value, reading=reading, pos="数詞")]


def split_lemma(lemma: str | None) -> tuple[str | None, str | None]:
    """UniDic lemma -> (base form, English gloss or None).

    >>> split_lemma("エネルギー-energy"), split_lemma("タイヘイ-外国"), split_lemma("鉄道")
    (('エネルギー', 'energy'), ('タイヘイ', None), ('鉄道', None))
    """
    if not lemma or lemma == "*":
        return None, None
    base, sep, suffix = lemma.partition("-")
    if not sep or not base:
        return lemma, None
    gloss = suffix if suffix.isascii() and suffix.replace(" ", "").isalpha() else None
    return base, gloss


# --- character and reading grams --------------------------------------------------

_JAPANESE_RUN = re.compile(_JAPANESE_CHAR.pattern + "+")
Gram = tuple[str, int, int, int]  # (text, position, start, end) in original offsets


def ngrams(analysis: Analysis) -> Iterator[Gram]:
    """Bigrams of each run of Japanese characters of the normalized text; a run of one
    character is its own gram. Positions leave a gap between runs."""
    normalized = analysis.normalized
    position = 0
    for run in japanese_runs(normalized.text):
        text, offset = to_katakana(run.group()), run.start()
        if len(text) == 1:
            yield (text, position, *normalized.span(offset, offset + 1))
        for i in range(len(text) - 1):
            yield (text[i : i + 2], position + i, *normalized.span(offset + i, offset + i + 2))
        position += len(text) + 1


def japanese_runs(text: str) -> Iterator[re.Match[str]]:
    """The runs of Japanese characters that character bigrams are taken from."""
    return _JAPANESE_RUN.finditer(text)


# Between two members of a compound with readings, these join them into one chain
# (グローバル・サウス, read as typed without the dot); other symbols and Latin words break it.
_JOINING = frozenset("・=")
# Parts of speech whose words are members of one compound noun (中国石油天然気集団, 製油所,
# 長期的): read as one chain. Any other word (a verb, a particle) is read on its own, so a
# reading never runs across a word boundary (が + 進ん is not ガス).
COMPOUND_POS = frozenset({"名詞", "接頭辞", "接尾辞", "形状詞"})


def _member(token: Token) -> bool:
    return token.pos in COMPOUND_POS and not token.stop


def _read_together(before: Token, token: Token) -> bool:
    """Two members of a compound noun, or two words written in kana (where a reading
    is the text itself, as the character bigrams see it: てつどう that MeCab cut in two)."""
    return (_member(before) and _member(token)) or (_is_kana_word(before.surface) and _is_kana_word(token.surface))


def reading_chains(tokens: list[Token]) -> Iterator[list[tuple[Token, str]]]:
    """Runs of tokens whose readings are read together, each token with its reading key
    (the long-vowel mark resolved across tokens): the members of a compound noun side by
    side (a middle dot or ``=`` between them joins them; whitespace is not a token, so
    words split by spaces chain as well), and runs of words written in kana; any other
    word is a chain of its own."""
    chain: list[tuple[Token, str]] = []
    for token in tokens:
        if token.indexed and token.reading:
            if chain and not _read_together(chain[-1][0], token):
                yield chain
                chain = []
            chain.append((token, reading_key(token.reading, chain[-1][1] if chain else "")))
            continue
        if chain and not token.indexed and token.norm in _JOINING:
            continue
        if chain:
            yield chain
        chain = []
    if chain:
        yield chain


def reading_grams(tokens: list[Token]) -> Iterator[Gram]:
    """Bigrams of the reading keys of each chain of tokens (``reading_chains``); each
    gram points at the tokens its two characters came from."""
    position = 0
    for chain in reading_chains(tokens):
        chars = [(c, token.start, token.end) for token, key in chain for c in key]
        for i in range(len(chars) - 1):
            yield (chars[i][0] + chars[i + 1][0], position + i, chars[i][1], chars[i + 1][2])
        position += len(chars) + 1


def query_grams(text: str) -> list[str]:
    """The bigrams a query string is looked up by (kana folded to katakana).

    >>> query_grams("てつどう")
    ['テツ', 'ツド', 'ドウ']
    """
    folded = to_katakana(text)
    if len(folded) == 1:
        return [folded]
    return [folded[i : i + 2] for i in range(len(folded) - 1)]


# --- Whoosh -----------------------------------------------------------------------


class CasearchTokenizer(Tokenizer):
    """Whoosh tokenizer over ``analyze_full()``; ``kind`` picks the indexed form.

    The instance is pickled into the schema and must stay importable as
    ``casearch.analysis.CasearchTokenizer``.
    """

    def __init__(self, kind: str = "term") -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CasearchTokenizer) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("CasearchTokenizer", self.kind))

    def __call__(  # noqa: PLR0913 - Whoosh's tokenizer protocol
        self, value: str, positions: bool = False, chars: bool = False,
        keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
        start_char: int = 0, tokenize: bool = True, mode: str = "", **kwargs,
    ) -> Iterator[WhooshToken]:
        out = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        out.boost, out.stopped = 1.0, False
        grams = self._grams(value) if tokenize else iter([(value, 0, 0, len(value))])
        for text, position, start, end in grams:
            out.text = text
            if keeporiginal:
                out.original = value[start:end]
            if positions:
                out.pos = start_pos + position
            if chars:
                out.startchar, out.endchar = start_char + start, start_char + end
            yield out

    def _grams(self, value: str) -> Iterator[Gram]:
        return field_grams(self.kind, value)


def field_grams(kind: str, text: str) -> Iterator[Gram]:
    """The token stream a field of ``kind`` indexes: (term, position, start, end). Both
    engines index exactly these (Whoosh through ``CasearchTokenizer``, tantivy as
    pre-tokenized text)."""
    analysis = analyze_full(text)
    if kind == "ngram":
        return ngrams(analysis)
    if kind == "reading":
        return reading_grams(analysis.tokens)
    return (
        (getattr(t, kind), t.position, t.start, t.end)
        for t in analysis.tokens if t.indexed and getattr(t, kind)
    )


def analyzer(kind: str = "term") -> CasearchTokenizer:
    """The Whoosh analyzer of a field whose terms are of ``kind`` (see module doc)."""
    return CasearchTokenizer(kind)
