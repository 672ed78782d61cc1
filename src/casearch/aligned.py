"""Marks in a passage that joined the results as the translation of a matching one.

Such a passage matches no word of the query (that is why it joined as a translation),
yet it usually says the same thing in other words: 製油所 for refinery, where the
dictionary's own counterparts (精製所, 精錬所) are not the ones the writer chose.

    passage text -> its words worth a look-up (single words and runs of up to three
                    compound members: 製油所)
                 -> the dictionary's pairs for them (``bridge.dictionary_pairs``,
                    memoized per process)
                 -> the pairs whose other side holds a query word (refinery in
                    "oil refinery") -> where the passage writes them
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

from . import analysis, bridge
from .querylang import Unit
from .snippets import Span

MAX_RUN = 3  # compound members joined into one look-up


def counterpart_spans(fields: dict, units: Iterable[Unit], dictionary: Path | None) -> list[Span]:
    """Where the passage writes a dictionary counterpart of one of the query's words."""
    text = fields.get("body") or ""
    typed = _typed_terms(units)
    if dictionary is None or not text or not typed:
        return []
    tokens = [t for t in analysis.analyze(text) if t.indexed and not t.stop]
    if fields.get("lang") == "ja":
        pairs = bridge.dictionary_pairs(dictionary, set(_japanese_words(tokens)), [])
        words = {p.ja for p in pairs if typed & set(p.en_terms)}
    else:
        english = {t.norm for t in tokens if t.pos == "英単語" and t.norm.isalpha() and len(t.norm) > 2}
        pairs = bridge.dictionary_pairs(dictionary, [], english)
        words = {p.en for p in pairs if typed & set(p.ja_terms) and " " not in p.en}
    return sorted(span for word in words for span in _occurrences(text, word))


def _typed_terms(units: Iterable[Unit]) -> set[str]:
    """The query's own words (base forms and stems), not their counterparts."""
    return {term for unit in units for a in unit.alternatives if a.counterpart is None and a.field == "body" for term in a.terms}


def _japanese_words(tokens: list[analysis.Token]) -> Iterator[str]:
    """Content words, and runs of compound members side by side."""
    for i, token in enumerate(tokens):
        if not analysis._JAPANESE_CHAR.search(token.surface):
            continue
        written = token.surface
        if len(written) > 1:
            yield token.base if token.base else written
        for j in range(i + 1, min(i + MAX_RUN, len(tokens))):
            previous, nxt = tokens[j - 1], tokens[j]
            if nxt.start != previous.end or nxt.pos not in analysis.COMPOUND_POS or token.pos not in analysis.COMPOUND_POS:
                break
            written += nxt.surface
            yield written


def _occurrences(text: str, word: str) -> list[Span]:
    if word.isascii():
        return [m.span() for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.IGNORECASE)]
    return [m.span() for m in re.finditer(re.escape(word), text)]
