"""Marks in a passage that joined the results as the translation of a matching one.

Such a passage matches no word of the query (that is why it joined as a translation),
yet it usually says the same thing in other words: 製油所 for refinery, where the
dictionary's own counterparts (精製所, 精錬所) are not the ones the writer chose.

    passage      -> its words worth a look-up, from the offsets stored with it (single
                    words and runs of up to three compound members: 製油所)
                 -> the dictionary's pairs for them (``bridge.dictionary_pairs``,
                    memoized per process)
                 -> the pairs whose other side holds a query word (refinery in
                    "oil refinery") -> where the passage writes them
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from . import analysis, bridge
from .querylang import Unit
from .offsets import Offsets
from .snippets import Span

MAX_RUN = 3  # compound members joined into one look-up


def counterpart_spans(fields: dict, units: Iterable[Unit], dictionary: Path | None) -> list[Span]:
    """Where the passage writes a dictionary counterpart of one of the query's words.
    Its words come from the offsets stored with it (no analysis at query time)."""
    text = fields.get("body") or ""
    typed = _typed_terms(units)
    if dictionary is None or not text or not typed:
        return []
    japanese = fields.get("lang") == "ja"
    pairs = _passage_pairs(dictionary, japanese, text, (fields.get("offsets") or {}).get("body", ""))
    if japanese:
        words = {p.ja for p in pairs if typed & set(p.en_terms)}
    else:
        words = {p.en for p in pairs if typed & set(p.ja_terms) and " " not in p.en}
    return sorted(span for word in words for span in _occurrences(text, word))


@lru_cache(maxsize=256)
def _passage_pairs(dictionary: Path, japanese: bool, text: str, encoded: str) -> tuple[bridge.Pair, ...]:
    """The dictionary's pairs for a passage's words (a passage joins many queries)."""
    tokens = _tokens(encoded)
    if japanese:
        return tuple(bridge.dictionary_pairs(dictionary, set(_japanese_words(text, tokens)), []))
    english = {text[a:b].lower() for a, b in tokens if text[a:b].isascii() and text[a:b].isalpha() and b - a > 2}
    return tuple(bridge.dictionary_pairs(dictionary, [], english - analysis.ENGLISH_STOP_WORDS))


def _typed_terms(units: Iterable[Unit]) -> set[str]:
    """The query's own words (base forms and stems), not their counterparts."""
    return {term for unit in units for a in unit.alternatives if a.counterpart is None and a.field == "body" for term in a.terms}


def _tokens(encoded_offsets: str) -> list[Span]:
    """The spans of the passage's indexed tokens, in order, from its stored offsets."""
    encoded = Offsets(encoded_offsets).tokens
    spans = {tuple(int(n) for n in line.rsplit("\x02", 1)[1].split(",")[1:]) for line in encoded.split("\n") if "\x02" in line}
    return sorted(spans)  # type: ignore[arg-type]


def _japanese_words(text: str, tokens: list[Span]) -> Iterator[str]:
    """Words of two characters or more, and runs of up to MAX_RUN adjacent tokens
    written with kanji or katakana (the members of a compound: 製油 + 所)."""
    for i, (start, end) in enumerate(tokens):
        if not _COMPOUND_PART.fullmatch(text[start:end]):
            continue
        if end - start > 1:
            yield text[start:end]
        for j in range(i + 1, min(i + MAX_RUN, len(tokens))):
            if tokens[j][0] != tokens[j - 1][1] or not _COMPOUND_PART.fullmatch(text[tokens[j][0] : tokens[j][1]]):
                break
            yield text[start : tokens[j][1]]


_COMPOUND_PART = re.compile(r"[\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff々]+")


def _occurrences(text: str, word: str) -> list[Span]:
    if word.isascii():
        return [m.span() for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)]
    return [m.span() for m in re.finditer(re.escape(word), text)]
