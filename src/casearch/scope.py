"""Where a match counts: a title names what a whole document is about and a heading what
a whole section is about, yet every passage repeats them. A word found only there lists
the document's (or section's) first passage once, instead of every passage of it.

    units    -> in body    any of the query's ways to match in the passage text (words,
                           readings, characters, counterparts), a heading match on a
                           section's first passage, a translation that joined
             -> listed     in body, or the document's first passage (a title match)
    tiers    -> each tier kept to what matches in body, then the last tier as listed:
                passages that match in their text rank first, a title-only document
                after them (``search._rank`` ranks tiers in order)

A title or heading still counts with a body match (``鉄道 投資`` finds the passages on
投資 of a document titled with 鉄道) and still weighs in the score: these are filters
(``querytree.Require``), never scored.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from . import querytree as qt
from .querylang import Unit, Vocabulary
from .records import LEAD_DOC, LEAD_SECTION

TITLE, HEADING = "title", "section"


def in_body(
    units: Iterable[Unit], translated: dict[str, float] | None = None, vocabulary: Vocabulary | None = None,
    direct_only: bool = False,
) -> qt.Node | None:
    """Passages where a unit matches outside the title (a heading only on a section's
    first passage), or that joined as a translation; None when no unit can match in a
    title or heading (nothing to filter: the filter repeats the query's words, which
    costs the engine a second look-up of each, so it is left out when the index holds
    none of them in a title or heading). ``direct_only``: the words as typed, without
    their counterparts (the filter of the words-as-typed tier)."""
    body: list[qt.Node] = []
    heading: list[qt.Node] = []
    framed = False
    for unit in units:
        for alternative in unit.alternatives:
            if not alternative.searched or (direct_only and alternative.counterpart is not None):
                continue
            if alternative.field in (TITLE, HEADING):
                framed = framed or _held(alternative.field, alternative.terms, vocabulary)
                if alternative.field == HEADING:
                    heading.append(alternative.query())
            else:
                body.append(alternative.query())
    if not framed:
        return None
    opens_section = qt.Or((qt.Term("lead", LEAD_DOC), qt.Term("lead", LEAD_SECTION)))
    if heading:
        body.append(qt.And((qt.any_of(heading), opens_section)))
    if translated:
        body.append(qt.Keyed("pid", tuple(sorted(translated.items()))))
    return qt.any_of(_unique(body)) if body else qt.Nothing()


def scoped_tiers(
    tiers: Sequence[qt.Node | None], units: Sequence[Unit], translated: dict[str, float],
    vocabulary: Vocabulary | None = None, plain_first: bool = False, negated: bool = False,
) -> list[qt.Node | None]:
    """The search tiers with title and heading matches counted once per document and
    section: every tier kept to passages that match in body, then the last one with the
    documents whose first passage only matches in the title. ``plain_first``: the first
    tier is the words as typed (``cross=0``'s search), filtered by them alone;
    ``negated``: the query excludes a word."""
    body = in_body(units, translated, vocabulary)
    if body is None or not any(t is not None for t in tiers):
        return list(tiers)
    # The widest tier is the last, except with a negated word (expanded, it may exclude
    # more than as typed): then every tier's title-only documents are listed.
    last = qt.any_of(list(dict.fromkeys(t for t in tiers if t is not None))) if negated else (
        next(t for t in reversed(tiers) if t is not None))
    listed = qt.Or((body, qt.Term("lead", LEAD_DOC)))
    scoped = [qt.Require(t, body) if t is not None else None for t in tiers] + [qt.Require(last, listed)]
    if plain_first and tiers[0] is not None:
        # The words as typed, filtered by the words as typed: a passage whose title alone
        # holds them is not let in because its text holds a counterpart (that is tier 2).
        direct = in_body(units, None, vocabulary, direct_only=True)
        scoped[0] = tiers[0] if direct is None else qt.Require(tiers[0], direct)
    return scoped


def listed(query: qt.Node, units: Sequence[Unit], vocabulary: Vocabulary | None = None) -> qt.Node:
    """The passages a query lists (``scoped_tiers``' last tier, without translations)."""
    body = in_body(units, vocabulary=vocabulary)
    return query if body is None else qt.Require(query, qt.Or((body, qt.Term("lead", LEAD_DOC))))


def _held(field: str, terms: tuple[str, ...], vocabulary: Vocabulary | None) -> bool:
    """Whether some title (heading) may hold these terms: the index has each of them there."""
    return vocabulary is None or all(vocabulary.has_term(field, term) for term in terms)


def _unique(nodes: list[qt.Node]) -> list[qt.Node]:
    return list(dict.fromkeys(nodes))
