"""Token offsets stored with each passage at index time, so that marks and snippets
never read an engine's postings or analyze a passage again.

    encode(text)   the analysis of a stored field, written as one compact string:
                   tokens    "\\n<term>\\x01<norm>\\x02<pos>,<start>,<end>" per indexed token
                             (norm left empty where it equals the term)
                   chains    runs of katakana readings read together (the reading bigrams'
                             source: one word, or a compound noun's members), each with
                             the original span of every reading character (its token's,
                             or its own in kana written as read)
                   runs      runs of Japanese characters of the normalized text (the
                             character bigrams' source), with their original spans
    Offsets        looks terms up with ``str.find`` in that string: a hit decodes only
                   the few numbers it needs, however long the passage

What the three extra body fields index is fully determined by these: a reading or
character phrase (bigrams at consecutive positions) is a substring of one chain or run.
Every offset is an index into the original stored text (``text[start:end]``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from . import analysis
from .textnorm import is_kana, to_katakana

Span = tuple[int, int]
Occurrence = tuple[int, int, int]  # position, start, end

_PART = "\x04"  # between the tokens, chains and runs parts
_ITEM = "\x05"  # between chains (or runs)
_SPANS = "\x03"  # between a chain's text and its spans
_TERM, _NORM = "\x01", "\x02"


def encode(text: str) -> str:
    """The offsets string of a stored field's text."""
    result = analysis.analyze_full(text)
    tokens = "".join(
        f"\n{t.term}{_TERM}{'' if t.norm == t.term else t.norm}{_NORM}{t.position},{t.start},{t.end}"
        for t in result.tokens if t.indexed and t.term
    )
    return _PART.join((tokens, _ITEM.join(_chains(result.tokens)), _ITEM.join(_runs(result))))


def _chains(tokens: list[analysis.Token]) -> Iterator[str]:
    """Each chain of readings (``analysis.reading_chains``): the reading keys, then the
    spans their characters mark: one (count, start, end) per token, or per character
    where a kana word is written as it is read (a match inside シムケント marks only the
    characters that matched)."""
    for chain in analysis.reading_chains(tokens):
        text = "".join(key for _, key in chain)
        if len(text) >= 2:
            yield text + _SPANS + ";".join(_key_spans(token, key) for token, key in chain)


def _key_spans(token: analysis.Token, key: str) -> str:
    """``count,start,end`` of a token, with ``,c`` when each reading character is the
    character at the same place (kana written as read)."""
    written = len(token.surface) == len(key) and is_kana(token.surface)
    return f"{len(key)},{token.start},{token.end}" + (",c" if written else "")


def _runs(result: analysis.Analysis) -> Iterator[str]:
    """Each run of Japanese characters (katakana-folded, as ``ngrams`` indexes them) with
    its original start when the run maps one to one, else every character's span."""
    normalized = result.normalized
    for run in analysis.japanese_runs(normalized.text):
        text, first = to_katakana(run.group()), run.start()
        spans = [normalized.span(first + i, first + i + 1) for i in range(len(text))]
        start = spans[0][0]
        if all(span == (start + i, start + i + 1) for i, span in enumerate(spans)):
            yield f"{text}{_SPANS}{start}"
        else:
            yield text + _SPANS + ";".join(f"{a},{b}" for a, b in spans)


class Offsets:
    """The decoded-on-demand offsets of one stored field of one passage."""

    def __init__(self, encoded: str) -> None:
        parts = (encoded or "").split(_PART)
        parts += [""] * (3 - len(parts))
        self.tokens, self._chains, self._runs = parts[0], parts[1], parts[2]

    def terms(self, term: str) -> list[Occurrence]:
        """Where the main field (base forms) holds ``term``."""
        return self._find(f"\n{term}{_TERM}")

    def norms(self, norm: str) -> list[Occurrence]:
        """Where the surface field holds ``norm``."""
        return self._find(f"{_TERM}{norm}{_NORM}") + self._find(f"\n{norm}{_TERM}{_NORM}")

    def surface_forms(self) -> set[str]:
        """Every word the surface field (``body_surface``) holds for this text."""
        forms: set[str] = set()
        for line in self.tokens.split("\n"):
            term, _, rest = line.partition(_TERM)
            if term:
                forms.add(rest.partition(_NORM)[0] or term)
        return forms

    def _find(self, needle: str) -> list[Occurrence]:
        found: list[Occurrence] = []
        tokens = self.tokens
        at = tokens.find(needle)
        while at >= 0:
            numbers = tokens.find(_NORM, at + len(needle) - 1)
            end = tokens.find("\n", numbers)
            pos, start, stop = tokens[numbers + 1 : end if end >= 0 else len(tokens)].split(",")
            found.append((int(pos), int(start), int(stop)))
            at = tokens.find(needle, at + 1)
        return found

    def reading_spans(self, key: str) -> list[Span]:
        """Where a reading (katakana, at least two characters) is read in one chain."""
        spans: list[Span] = []
        if len(key) < 2:
            return spans
        for chain in _items(self._chains):
            text, _, encoded = chain.partition(_SPANS)
            if key not in text:
                continue
            marked = _marked(encoded)
            for at in _all_finds(text, key):
                spans.append((marked[at][0], marked[at + len(key) - 1][1]))
        return spans

    def reading_words(self, key: str, whole: bool = False) -> list[Span]:
        """Spans of runs of whole words whose reading key starts with ``key`` at a word's
        first reading character (with ``whole``: is exactly ``key``, ending where a word
        ends). てつ finds 鉄道 (テツドウ) but not 地下鉄 (チカテツ)."""
        spans: list[Span] = []
        for chain in _items(self._chains):
            text, _, encoded = chain.partition(_SPANS)
            if key not in text:
                continue
            owners = _owners(encoded)
            for at in _all_finds(text, key):
                last = at + len(key) - 1
                if at > 0 and owners[at - 1] == owners[at]:
                    continue  # starts inside a word
                if whole and last + 1 < len(owners) and owners[last + 1] == owners[last]:
                    continue  # ends inside a word
                spans.append((owners[at][0], owners[last][1]))
        return spans

    def character_spans(self, written: str) -> list[Span]:
        """Where Japanese characters (katakana-folded) stand in one run; a single
        character matches only a run of one, as the character bigrams index it."""
        spans: list[Span] = []
        for run in _items(self._runs):
            text, _, encoded = run.partition(_SPANS)
            if written not in text or (len(written) == 1 and len(text) != 1):
                continue
            chars = _run_spans(encoded, len(text))
            for at in _all_finds(text, written):
                spans.append((chars[at][0], chars[at + len(written) - 1][1]))
        return spans


def _items(part: str) -> list[str]:
    return part.split(_ITEM) if part else []


def _all_finds(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


@lru_cache(maxsize=4096)
def _owners(encoded: str) -> tuple[Span, ...]:
    """Per reading character, the span of the token it belongs to."""
    owners: list[Span] = []
    for item in encoded.split(";"):
        count, start, end = (int(n) for n in item.split(",")[:3])
        owners += [(start, end)] * count
    return tuple(owners)


@lru_cache(maxsize=4096)
def _marked(encoded: str) -> tuple[Span, ...]:
    """Per reading character, what a match on it marks: its token, or the character
    itself where the token is kana written as read (ガスパイ in ガスパイプライン).

    >>> _marked("2,0,2;3,2,5,c")
    ((0, 2), (0, 2), (2, 3), (3, 4), (4, 5))
    """
    marked: list[Span] = []
    for item in encoded.split(";"):
        count, start, end, *flag = item.split(",")
        if flag:
            marked += [(int(start) + i, int(start) + i + 1) for i in range(int(count))]
        else:
            marked += [(int(start), int(end))] * int(count)
    return tuple(marked)


def _run_spans(encoded: str, length: int) -> list[Span]:
    if ";" in encoded or "," in encoded:
        return [tuple(int(n) for n in item.split(",")) for item in encoded.split(";")]  # type: ignore[misc]
    start = int(encoded)
    return [(start + i, start + i + 1) for i in range(length)]

