"""Snippets: where the query matched in a passage, and a short highlighted excerpt.

    match_spans   per highlight unit, look its terms up in the token offsets stored
                  with the passage at index time (``offsets``), so nothing is analyzed
                  again and no engine postings are read: both engines share this code;
                  a phrase is marked only where its terms stand at consecutive positions
    sentences     the passage cut after 。！？.!? and at line ends
    choose        the run of whole sentences (at most ~160 characters) holding the most
                  distinct units, then the most matches; a longer sentence is cut
                  around its first match, at word boundaries in Latin script, and the
                  cut is marked with …
    render        HTML-escape everything, wrap the spans in <mark>; where a list item
                  starts (``markers``, from the passage's layout) show its bullet or
                  number, so items read as items on one line

Offsets are those of the stored text, so a mark always lands on the characters the user
sees, whatever normalization the analyzer applied.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from html import escape
from typing import Iterable, Mapping, Sequence

from .offsets import Occurrence, Offsets
from .querylang import Alternative, Unit

SNIPPET_CHARS = 160
# A sentence runs to a terminator, a full stop before a space, a line end or the end; a
# full stop inside a word (AR.ITC, 2.5) does not end it.
_SENTENCE = re.compile(r"(?:[^。！？!?.\n]|\.(?![\s]|$))*(?:[。！？!?]+[」』)）\"']*|\.(?=\s|$)|\n|$)")

Span = tuple[int, int]


# Fields that index the text of another (stored) field: their offsets point into it.
STORED_FIELD = {"body_surface": "body", "body_reading": "body", "body_ngram": "body"}


def stored_field_of(fieldname: str) -> str:
    return STORED_FIELD.get(fieldname, fieldname)


def unit_spans(offsets: Offsets, stored: str, unit: Unit) -> dict[str, list[Span]]:
    """Per ``via``, the spans where the unit matched in one stored field of one passage
    (``offsets`` are that field's)."""
    found: dict[str, list[Span]] = {}
    for alternative in unit.alternatives:
        if stored_field_of(alternative.field) != stored:
            continue
        spans = alternative_spans(offsets, alternative)
        if spans:
            found.setdefault(alternative.via, []).extend(spans)
    return found


def alternative_spans(offsets: Offsets, alternative: Alternative) -> list[Span]:
    """Where one alternative (a term or a phrase of one field) matches."""
    if alternative.field == "body_reading":
        return offsets.reading_spans(_joined_grams(alternative.terms))
    if alternative.field == "body_ngram":
        return offsets.character_spans(_joined_grams(alternative.terms))
    look = offsets.norms if alternative.field == "body_surface" else offsets.terms
    return _phrase_spans([look(term) for term in alternative.terms])


def _joined_grams(grams: Sequence[str]) -> str:
    """The string whose overlapping bigrams these are.

    >>> _joined_grams(["テツ", "ツド", "ドウ"])
    'テツドウ'
    """
    return grams[0] + "".join(gram[1:] for gram in grams[1:]) if grams else ""


def match_spans(offsets: Offsets, stored: str, units: Iterable[Unit]) -> list[Span]:
    """Character spans of the units' matches in one stored field of one passage."""
    spans: list[Span] = []
    for unit in units:
        for found in unit_spans(offsets, stored, unit).values():
            spans += found
    return merge_spans(spans)


def _phrase_spans(occurrences: list[list[Occurrence]]) -> list[Span]:
    if not occurrences or not all(occurrences):
        return []
    if len(occurrences) == 1:
        return [(start, end) for _, start, end in occurrences[0]]
    later = [{pos: end for pos, _, end in occ} for occ in occurrences[1:]]
    spans: list[Span] = []
    for pos, start, _ in occurrences[0]:
        ends = [positions.get(pos + i) for i, positions in enumerate(later, start=1)]
        if all(e is not None for e in ends):
            spans.append((start, ends[-1]))
    return spans


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with overlapping spans joined.

    >>> merge_spans([(5, 8), (0, 2), (1, 3)])
    [(0, 3), (5, 8)]
    """
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def sentences(text: str) -> list[Span]:
    """Spans of the sentences of ``text`` (terminators and closing brackets included).

    >>> t = "一つ目。二つ目！Three. Four is 2.5 (AR.ITC) long"
    >>> [t[a:b] for a, b in sentences(t)]
    ['一つ目。', '二つ目！', 'Three.', ' Four is 2.5 (AR.ITC) long']
    """
    found: list[Span] = []
    for match in _SENTENCE.finditer(text):
        if match.end() > match.start():
            found.append((match.start(), match.end()))
    return found


def make_snippet(
    text: str, spans: Sequence[Span], size: int = SNIPPET_CHARS, direct: Sequence[Span] = (),
    markers: Mapping[int, str] | None = None,
) -> str:
    """HTML snippet of at most about ``size`` characters around the best matches; where
    the words as typed (``direct``, a subset of ``spans``) match, around those first.
    ``markers`` (position -> text) are shown before the character at their position."""
    start, end = _choose_window(text, spans, size, direct)
    clipped = [(max(a, start), min(b, end)) for a, b in spans if a < end and b > start]
    html = highlight(text, clipped, start, end, markers)
    prefix = "…" if start > 0 and not _at_sentence_start(text, start) else ""
    suffix = "…" if end < len(text) and not _at_sentence_end(text, end) else ""
    return prefix + html + suffix


def highlight(
    text: str, spans: Sequence[Span], start: int = 0, end: int | None = None, markers: Mapping[int, str] | None = None,
) -> str:
    """``text[start:end]`` escaped, with each span wrapped in <mark>; line ends -> spaces;
    each marker's text (escaped, never marked) before the character at its position.

    >>> highlight("intro\\none\\ntwo", [(6, 9)], markers={6: "• ", 10: "• "})
    'intro • <mark>one</mark> • two'
    """
    end = len(text) if end is None else end
    markers = markers or {}
    out: list[str] = []
    cursor = start
    for a, b in spans:
        out.append(_piece(text, cursor, a, False, markers))
        out.append(_piece(text, a, b, True, markers))
        cursor = b
    out.append(_piece(text, cursor, end, False, markers))
    return "".join(out).strip()


def _piece(text: str, start: int, end: int, marked: bool, markers: Mapping[int, str]) -> str:
    """``text[start:end]`` escaped and flattened, cut where a marker stands."""
    cuts = [start, *sorted(p for p in markers if start < p < end), end]
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:]):
        if a in markers and a < end:
            out.append(escape(markers[a], quote=False))
        piece = escape(_flatten(text[a:b]), quote=False)
        out.append(f"<mark>{piece}</mark>" if marked and piece else piece)
    return "".join(out)


def _flatten(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def _choose_window(text: str, spans: Sequence[Span], size: int, direct: Sequence[Span] = ()) -> Span:
    """The run of whole sentences (at most ``size`` characters, else cut around its first
    match) holding the most distinct words as typed (``direct``), then the most distinct
    matched words, then the longest (a whole compound rather than a part of it), then
    the most matches, earliest first. Linear in sentences and spans: the run's end only
    moves forward, and the spans inside a window are found by bisection."""
    bounds = sentences(text) or [(0, len(text))]
    ordered = sorted(spans)
    starts = [a for a, _ in ordered]
    typed_spans = sorted(direct)
    typed_starts = [a for a, _ in typed_spans]
    best: tuple[tuple[int, ...], Span] | None = None
    j = 0
    for i, (first_start, _) in enumerate(bounds):
        j = max(j, i)
        while j + 1 < len(bounds) and bounds[j + 1][1] - first_start <= size:
            j += 1
        window = (first_start, bounds[j][1])
        if window[1] - window[0] > size:
            window = _at_words(text, _cut_around(window, ordered, size))
        lo, hi = bisect_left(starts, window[0]), bisect_right(starts, window[1])
        inside = [s for s in ordered[lo:hi] if s[1] <= window[1]]
        distinct = {text[a:b] for a, b in inside}
        lo, hi = bisect_left(typed_starts, window[0]), bisect_right(typed_starts, window[1])
        typed = {text[a:b] for a, b in typed_spans[lo:hi] if b <= window[1]}
        score = (len(typed), len(distinct), sum(map(len, distinct)), len(inside), -i)
        if best is None or score > best[0]:
            best = (score, window)
    assert best is not None
    return _trim(text, best[1])


def _cut_around(window: Span, spans: Sequence[Span], size: int) -> Span:
    start, end = window
    first = next((s for s in spans if start <= s[0] < end), None)
    if first is not None and first[0] - start > size // 4:
        start = max(start, min(first[0] - size // 4, end - size))
    return start, min(end, start + size)


MAX_WORD = 40  # how far a cut moves to reach a word boundary


def _at_words(text: str, window: Span) -> Span:
    """A cut moved off the middle of a Latin word: the start forward past it, the end
    back before it (Japanese has no spaces: any character boundary will do).

    >>> t = "The Ministry of Foreign Affairs announced it"
    >>> a, b = _at_words(t, (6, 38)); t[a:b]
    'of Foreign Affairs'
    """
    start, end = window
    if 0 < start < end and _in_word(text, start):
        found = _next_space(text, start, min(end, start + MAX_WORD))
        start = found if found is not None else start
    if start < end < len(text) and _in_word(text, end):
        found = _previous_space(text, end, max(start, end - MAX_WORD))
        end = found if found is not None else end
    return start, end


def _in_word(text: str, at: int) -> bool:
    """Whether ``at`` falls between two characters of one Latin word."""
    return _latin(text[at - 1]) and _latin(text[at])


def _latin(c: str) -> bool:
    return (c.isalnum() and ord(c) < 0x250) or c in "-'’"


def _next_space(text: str, at: int, limit: int) -> int | None:
    for i in range(at, limit):
        if text[i].isspace():
            return i + 1
    return None


def _previous_space(text: str, at: int, limit: int) -> int | None:
    for i in range(at - 1, limit, -1):
        if text[i].isspace():
            return i
    return None


def _trim(text: str, window: Span) -> Span:
    start, end = window
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _at_sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip()
    return not before or before[-1] in "。！？!?.」』)）\n"


def _at_sentence_end(text: str, pos: int) -> bool:
    return text[pos - 1] in "。！？!?.」』)）" or text[pos:].startswith("\n")
