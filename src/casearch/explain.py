"""Match notes: how each part of the query matched one passage, in words a reader follows.

    unit -> every alternative looked up in the stored offsets of its field (``snippets``)
         -> (via, field) pairs that hold: via is how (as written, other form, reading,
            dictionary, ...), field is where (title, heading, body, reading, ngram)
         -> a match in the passage text before one in its title or heading, then the
            most direct via, then the most specific field: one note per unit,
            ``{"term", "via", "field"}`` plus ``word`` (the passage's own word) for a
            counterpart or synonym ("パイプライン ← pipeline, dictionary")
"""

from __future__ import annotations

import unicodedata

from .offsets import Offsets
from .querylang import Unit
from .snippets import Span, alternative_spans, stored_field_of

DIRECT_VIAS = ("surface", "base", "reading")  # the words as typed, not a counterpart
VIA_PREFERENCE = ("surface", "base", "gloss", "dictionary", "corpus", "glossary", "mined", "transliteration",
                  "synonym", "translation", "reading")
# Where a match was found, as the notes name it; the passage text first, the title last.
FIELD_NAMES = {"body": "body", "body_surface": "body", "body_reading": "reading", "body_ngram": "ngram",
               "section": "heading", "title": "title"}
FIELD_PREFERENCE = ("body", "reading", "ngram", "heading", "title")


def match_note(fields: dict, offsets: dict[str, Offsets], unit: Unit) -> dict[str, str] | None:
    """How one query part matched this passage (None: it did not). A base-form match whose
    characters are the query's own counts as written (titles and headings are only
    indexed by base form)."""
    found = matches(fields, offsets, unit)
    if not found:
        return None
    via, place = min(found, key=_preference)
    note = {"term": unit.label, "via": via, "field": place}
    if via not in DIRECT_VIAS:
        stored = _STORED[place]
        start, end = min(found[(via, place)])
        note["word"] = (fields.get(stored) or "")[start:end]
    return note


def matches(fields: dict, offsets: dict[str, Offsets], unit: Unit) -> dict[tuple[str, str], list[Span]]:
    """Per (via, field name), where the unit matched in this passage."""
    written = unicodedata.normalize("NFKC", unit.label).lower()
    found: dict[tuple[str, str], list[Span]] = {}
    for alternative in unit.alternatives:
        stored = stored_field_of(alternative.field)
        spans = alternative_spans(offsets[stored], alternative)
        if not spans:
            continue
        via = alternative.via
        text = fields.get(stored) or ""
        if via == "base" and any(unicodedata.normalize("NFKC", text[a:b]).lower() == written for a, b in spans):
            via = "surface"
        found.setdefault((via, FIELD_NAMES[alternative.field]), []).extend(spans)
    return found


_STORED = {"body": "body", "reading": "body", "ngram": "body", "heading": "section", "title": "title"}


def _preference(key: tuple[str, str]) -> tuple[bool, int, int]:
    """The passage text before its title and heading (they hold for every passage),
    then the most direct via, then the most specific field."""
    via, place = key
    rank = VIA_PREFERENCE.index(via) if via in VIA_PREFERENCE else len(VIA_PREFERENCE)
    return place in ("heading", "title"), rank, FIELD_PREFERENCE.index(place)
