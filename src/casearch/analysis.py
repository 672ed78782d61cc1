"""Analysis: text -> tokens with offsets into the original text. No I/O.

The pipeline, in order:

    normalize      NFKC per character cluster, control characters -> space; keeps a map
                   from every normalized character back to its original span
                   (ｶﾞ -> ガ is two characters -> one, ㍻ -> 平成 is one -> two)
    split          the normalized text is cut into lines, and each line into Latin runs
                   (English words, numbers) and the rest (Japanese, handed to fugashi)
    tokenize       fugashi + unidic-lite (MeCab with UniDic) for Japanese; a word regex
                   for Latin script, with possessives ('s) removed
    features       surface, base form (UniDic lemma without its English gloss
                   ``エネルギー-energy``; a Porter stem for English), katakana reading,
                   part of speech; unknown words fall back to their surface
    stop rules     symbols and whitespace are dropped (``indexed=False``); particles,
                   auxiliary verbs and English stop words are kept as ``stop`` tokens:
                   indexed so that quoted phrases match in order, never searched alone
    map back       each token's normalized offsets -> ``start``/``end`` in the original
                   text, so ``text[start:end]`` is what the user sees highlighted

``analyze()`` returns every token (the ``casearch analyze`` view); ``CasearchTokenizer``
is the Whoosh side: it yields the indexed tokens with the term a field asks for. The
tokenizer is pickled into the index schema, so it holds no fugashi ``Tagger``: taggers
are created lazily, one per thread.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Iterator

from whoosh.analysis import Token as WhooshToken
from whoosh.analysis import Tokenizer
from whoosh.lang.porter import stem as porter_stem

# Bump whenever a change here alters the terms written to the index: an index of another
# format version is rebuilt by the next reindex.
ANALYSIS_VERSION = 1

DROPPED_POS = frozenset({"補助記号", "記号", "空白"})
STOP_POS = frozenset({"助詞", "助動詞"})
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be but by for from has have if in into is it its of on or "
    "such that the their then there these they this to was were which will with".split()
)

_LATIN_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+(?:['\u2019][A-Za-z]+)?")
_HAS_WORD_CHAR = re.compile(r"[^\W_]")
_SYMBOL_RUN = re.compile(r"\S+")
_CONTINUATION = frozenset("\uff9e\uff9f\u3099\u309a")
_SEPARATOR_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class Token:
    surface: str  # the original text at [start, end)
    start: int
    end: int
    term: str  # the form indexed in the main field (base form, lower case)
    norm: str  # normalized surface (NFKC, lower case)
    base: str  # dictionary form without gloss, or the English stem
    reading: str | None  # katakana, or None
    pos: str  # part of speech (UniDic pos1, or "英単語"/"数詞" for Latin runs)
    gloss: str | None  # English gloss UniDic attaches to loanword lemmas
    stop: bool  # particle / auxiliary / stop word: only inside phrases
    indexed: bool  # False for symbols: not in the index at all
    position: int  # phrase position among indexed tokens (-1 when not indexed)


@dataclass(frozen=True)
class Normalized:
    """Normalized text plus, per normalized character, the original span it came from."""

    text: str
    starts: tuple[int, ...] | None  # None: identical to the original
    ends: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of the normalized span [start, end)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    """NFKC with an offset map; control and format characters become spaces.

    >>> n = normalize("天然ｶﾞｽ")
    >>> n.text, n.span(2, 3)
    ('天然ガス', (2, 4))
    """
    if unicodedata.is_normalized("NFKC", text) and not any(
        unicodedata.category(c) in _SEPARATOR_CATEGORIES and c != "\n" for c in text
    ):
        return Normalized(text, None, None)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for begin, end in _clusters(text):
        piece = _normalize_cluster(text[begin:end])
        pieces.append(piece)
        starts += [begin] * len(piece)
        ends += [end] * len(piece)
    return Normalized("".join(pieces), tuple(starts), tuple(ends))


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Spans of a base character plus the marks that compose with it."""
    begin = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and (unicodedata.combining(text[i]) or text[i] in _CONTINUATION):
            continue
        yield begin, i
        begin = i


def _normalize_cluster(cluster: str) -> str:
    if cluster == "\n":
        return cluster
    if unicodedata.category(cluster[0]) in _SEPARATOR_CATEGORIES:
        return " " * len(cluster)
    return unicodedata.normalize("NFKC", cluster)


_local = threading.local()


def tagger():
    """This thread's fugashi Tagger (MeCab is not safe to share between threads)."""
    found = getattr(_local, "tagger", None)
    if found is None:
        found = _local.tagger = _new_tagger()
    return found


def _new_tagger():
    import fugashi

    try:
        return fugashi.Tagger()
    except RuntimeError as exc:  # fugashi raises this when no dictionary is found
        from .errors import CasearchError

        raise CasearchError(
            f"Cannot start the Japanese tokenizer: {exc}",
            hint="Install the dictionary with: pip install unidic-lite "
            "(and report it at the casearch issue tracker if that does not help)",
        ) from exc


@dataclass(frozen=True, slots=True)
class _Raw:
    """A token in normalized coordinates, before stop rules and offset mapping."""

    start: int
    end: int
    norm: str
    base: str
    reading: str | None
    pos: str
    gloss: str | None
    stop: bool
    indexed: bool


def analyze(text: str) -> list[Token]:
    """Every token of ``text`` (dropped symbols included), with original offsets.

    >>> [(t.surface, t.term, t.indexed) for t in analyze("天然ガスの パイプライン")]
    [('天然', '天然', True), ('ガス', 'ガス', True), ('の', 'の', True), ('パイプライン', 'パイプライン', True)]
    """
    normalized = normalize(text)
    tokens: list[Token] = []
    position = 0
    for raw in _raw_tokens(normalized.text):
        start, end = normalized.span(raw.start, raw.end)
        tokens.append(
            Token(
                text[start:end], start, end, raw.base, raw.norm, raw.base, raw.reading,
                raw.pos, raw.gloss, raw.stop, raw.indexed, position if raw.indexed else -1,
            )
        )
        position += raw.indexed
    return tokens


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
    end = match.end()
    lowered = word.lower()
    if lowered.endswith(("'s", "\u2019s")):
        lowered = lowered[:-2]
        end -= 2
    if lowered.isdigit():
        return _Raw(match.start() + offset, end + offset, lowered, lowered, None, "数詞", None, False, True)
    is_stop = lowered in ENGLISH_STOP_WORDS
    base = lowered.replace("'", "").replace("\u2019", "")
    return _Raw(
        match.start() + offset, end + offset, lowered, porter_stem(base), None, "英単語",
        None, is_stop, True,
    )


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
        yield _japanese_token(node, surface, begin + found + offset)


def _japanese_token(node, surface: str, start: int) -> _Raw:
    feature = node.feature
    pos = feature.pos1 or "名詞"
    norm = surface.lower()
    base, gloss = split_lemma(getattr(feature, "lemma", None))
    base = unicodedata.normalize("NFKC", base).lower() if base else norm
    reading = getattr(feature, "kana", None) or None
    if reading in ("*", ""):
        reading = None
    indexed = pos not in DROPPED_POS
    return _Raw(start, start + len(surface), norm, base, reading, pos, gloss, pos in STOP_POS, indexed)


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


class CasearchTokenizer(Tokenizer):
    """Whoosh tokenizer over ``analyze()``: yields indexed tokens, term per ``kind``.

    ``kind`` names the Token attribute used as the indexed text ("term"). The instance is
    pickled into the schema and must stay importable as ``casearch.analysis``.
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
        if not tokenize:
            out.original = out.text = value
            out.boost, out.stopped = 1.0, False
            if positions:
                out.pos = start_pos
            if chars:
                out.startchar, out.endchar = start_char, start_char + len(value)
            yield out
            return
        for token in analyze(value):
            text = getattr(token, self.kind)
            if not token.indexed or not text:
                continue
            out.text = text
            out.boost, out.stopped = 1.0, False
            if keeporiginal:
                out.original = token.surface
            if positions:
                out.pos = start_pos + token.position
            if chars:
                out.startchar, out.endchar = start_char + token.start, start_char + token.end
            yield out


def analyzer(kind: str = "term") -> CasearchTokenizer:
    """The Whoosh analyzer of a field whose terms are ``Token.<kind>``."""
    return CasearchTokenizer(kind)
