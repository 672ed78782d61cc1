"""Reading JMdict and JMnedict entries, and the normalization all matching relies on.

* Normalization puts glosses (:func:`normalize_gloss`, :func:`gloss_head`) and the
  caller's terms (:func:`normalize_en`, :func:`normalize_ja`) in one form before they
  are compared; :func:`usable_gloss` says which glosses are worth offering.
* Commonness: :func:`priority_rank` turns JMdict priority tags (``news1``, ``ichi1``,
  ``spec1``, ``nf01`` ..) into a sort key.
* Entries: :func:`load_entries` reads JMdict entries (:class:`Entry`: written forms
  with their priority tags and info, senses with their ``misc`` tags, restrictions and
  glosses) and :func:`written_form` picks how text writes a sense; :func:`load_names`
  reads JMnedict entries (:class:`Name`).

The look-ups (:mod:`.pairs`, :mod:`.lookups`) and the derived index (:mod:`.derived`)
are built on these; this module knows neither.  The derived index stores facts computed
here, so editing this file invalidates existing indexes (see
:func:`.derived._code_fingerprint`).

Tables and columns used (jamdict 0.1a8 layout; table ``meta`` holds the data versions)
-------------------------------------------------------------------------------------
JMdict: ``Kanji(ID, idseq, text)`` with ``KJP(kid, text)`` priority tags and
``KJI(kid, text)`` form info; ``Kana(ID, idseq, text, nokanji)`` with ``KNP``/``KNI``
(priority, info); ``Sense(ID, idseq)`` in entry order with ``SenseGloss(sid, lang, text)``
(rowid order is gloss order), ``misc(sid, text)``, ``stagk``/``stagr(sid, text)`` (sense
restricted to some forms).  JMnedict: ``NEKanji(ID, idseq, text)``, ``NEKana(ID, idseq,
text)``, ``NETranslation(ID, idseq)``, ``NETransType(tid, text)``, ``NETransGloss(tid,
lang, text)``.  Tags are stored expanded: ``misc.text`` is ``"word usually written using
kana alone"``, not ``uk``; priority tags are stored as in JMdict (``news1``, ``nf03``).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

MAX_GLOSS_WORDS = 6  # longer glosses are explanations, not translations
MIN_NAME_WORD = 3  # shorter English words are never looked up as names
CHUNK = 500  # parameters per IN (...) query

#: JMdict's own definition of a common word (its "P" marker).
COMMON_TAGS = frozenset({"news1", "ichi1", "spec1", "spec2", "gai1"})
#: Senses carrying one of these ``misc`` tags are never used.
SKIP_MISC = frozenset(
    {
        "archaism",
        "obsolete term",
        "obscure term",
        "rare",
        "dated term",
        "historical term",
        "manga slang",
        "Internet slang",
        "jocular, humorous term",
        "children's language",
        "colloquialism",
        "familiar language",
        "slang",
        "vulgar expression or word",
        "derogatory",
        "poetical term",
    }
)
#: English -> Japanese also skips these: the short form usually means something else.
SKIP_MISC_EN = SKIP_MISC | {"abbreviation"}
USUALLY_KANA = "word usually written using kana alone"
#: Written forms with one of these ``KJI``/``KNI`` infos are not offered as translations.
BAD_FORM_INFO = frozenset(
    {
        "word containing out-dated kanji",
        "irregular okurigana usage",
        "word containing irregular kanji usage",
        "word containing irregular kana usage",
        "out-dated or obsolete kana usage",
    }
)
#: JMnedict types naming one thing (rather than a bare surname or given name).
NAME_MAIN_TYPES = frozenset({"person", "place", "organization", "company", "product", "work"})
#: Glosses that describe a grammatical role instead of translating ("counter for ...").
EXPLANATION_STARTS = (
    "counter for",
    "particle ",
    "indicates ",
    "indicating ",
    "used ",
    "expresses ",
    "suffix",
    "prefix",
    "honorific",
    "polite ",
    "-",
)
#: JMdict's file header is stored as an entry.
HEADER_IDSEQ = 9999999

_PAREN = re.compile(r"\([^()]*\)")
_NEGATION = re.compile(r"\([^()]*\b(?:not|no|never|without|\w+n't)\b[^()]*\)", re.I)
_EDGE_PUNCT = " .,;:!?\"'"
_SEP = "\x1f"  # group_concat separator that never occurs in the data

Rank = tuple[int, int, int]


# -------------------------------------------------------------------- normalization


def _fold(text: str) -> str:
    """NFKC, and Latin letters without diacritics (Chūgoku -> Chugoku)."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def strip_gloss(text: str) -> str:
    """A gloss without parentheticals and leading "to ", case kept; "" if unusable.

    ``"trade (foreign)"`` -> ``"trade"``, ``"(esp.) railway"`` -> ``"railway"``,
    ``"to trade (with)"`` -> ``"trade"``.  A negating parenthetical (``"(not) ever"``)
    would invert the meaning once stripped, so such glosses give ``""``.
    """
    s = _fold(text)
    if "(" in s:
        if _NEGATION.search(s):
            return ""
        previous = None
        while previous != s:  # nested parentheses: inner ones go first
            previous, s = s, _PAREN.sub(" ", s)
        if "(" in s or ")" in s:
            return ""
    s = " ".join(s.split()).strip(_EDGE_PUNCT)
    if s[:3].lower() == "to ":
        s = s[3:]
    return s


def normalize_gloss(text: str) -> str:
    """:func:`strip_gloss`, lower-cased: the form glosses are matched and returned in."""
    if text.isascii() and "(" not in text:  # fast path for most glosses, same result
        s = " ".join(text.lower().split()).strip(_EDGE_PUNCT)
        return s[3:] if s.startswith("to ") else s
    return strip_gloss(text).lower()


def gloss_head(normalized: str) -> str:
    """The leading phrase of a list-like gloss: ``"policy, platform"`` -> ``"policy"``."""
    head = re.split(r"[,;]", normalized, maxsplit=1)[0].strip(_EDGE_PUNCT)
    return head[4:] if head.startswith("the ") else head


def normalize_en(term: str) -> str:
    """An English word or phrase in the form glosses are normalized to."""
    return " ".join(_fold(term).lower().split()).strip(_EDGE_PUNCT)


def normalize_ja(term: str) -> str:
    """A Japanese term as JMdict spells it (NFKC: full-width kana, no spaces)."""
    return "".join(unicodedata.normalize("NFKC", term).split())


def usable_gloss(normalized: str) -> bool:
    """Whether a normalized gloss is worth offering as an English search phrase."""
    return (
        bool(normalized)
        and len(normalized.split()) <= MAX_GLOSS_WORDS
        and any("a" <= c <= "z" for c in normalized)
        and not normalized.startswith(EXPLANATION_STARTS)
    )


def gloss_flags(raw: str) -> tuple[str, bool, bool]:
    """A stored gloss as matched: ``(normalized, proper, qualified)`` (see :class:`GlossHit`)."""
    stripped = strip_gloss(raw)
    lead = raw.lstrip()
    qualified = lead.startswith("(") or lead.lower().startswith("to (")
    return stripped.lower(), stripped[:1].isupper(), qualified


def _listed(normalized: str) -> bool:
    """Whether a normalized gloss also matches by its head phrase (:func:`gloss_head`)."""
    return "," in normalized or ";" in normalized or normalized.startswith("the ")


def priority_rank(tags: Iterable[str]) -> Rank:
    """Commonness from JMdict priority tags as a sort key (lower is more common).

    ``(0 common | 1 other tags | 2 no tag, nfXX band or 99, -number of tags)``.
    """
    tags = set(tags)
    bucket = 0 if tags & COMMON_TAGS else (1 if tags else 2)
    bands = [int(t[2:]) for t in tags if t.startswith("nf") and t[2:].isdigit()]
    return (bucket, min(bands, default=99), -len(tags))


# ----------------------------------------------------------------------- data model


@dataclass
class Form:
    text: str
    tags: frozenset[str] = frozenset()
    info: frozenset[str] = frozenset()
    nokanji: bool = False

    @cached_property
    def rank(self) -> Rank:
        return priority_rank(self.tags)

    @property
    def regular(self) -> bool:
        return not (self.info & BAD_FORM_INFO)


@dataclass
class Sense:
    sid: int
    misc: frozenset[str] = frozenset()
    stagk: frozenset[str] = frozenset()
    stagr: frozenset[str] = frozenset()
    glosses: list[str] = field(default_factory=list)

    def applies_to(self, form: Form, is_kanji: bool) -> bool:
        allowed = self.stagk if is_kanji else self.stagr
        return not allowed or form.text in allowed


@dataclass
class Entry:
    idseq: int
    kanji: list[Form] = field(default_factory=list)
    kana: list[Form] = field(default_factory=list)
    senses: list[Sense] = field(default_factory=list)

    def form(self, text: str, is_kanji: bool) -> Form:
        return next(f for f in (self.kanji if is_kanji else self.kana) if f.text == text)

    def usable_senses(self, skip: frozenset[str] = SKIP_MISC) -> list[Sense]:
        """Senses in order, without the archaic, obscure, slang ... ones."""
        return [s for s in self.senses if not (s.misc & skip)]

    def is_kana_word(self, form: Form) -> bool:
        """Whether text written as this kana form means this entry (no kanji, or uk)."""
        if not self.kanji or form.nokanji:
            return True
        first = self.usable_senses()[:1]
        return bool(first) and USUALLY_KANA in first[0].misc


# ---------------------------------------------------------------------- SQL helpers


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _query_in(con: sqlite3.Connection, sql: str, values: Iterable) -> list[tuple]:
    """Run ``sql`` (its ``IN ({marks})`` filled per chunk) over all ``values``.

    The database has no ANALYZE statistics, so SQLite would pick the index on the
    useless ``lang`` column (every gloss is ``eng``) and scan a whole table per chunk:
    queries write ``+lang`` to keep that index out.
    """
    unique = list(dict.fromkeys(values))
    rows: list[tuple] = []
    for chunk in _chunks(unique):
        rows.extend(con.execute(sql.format(marks=",".join("?" * len(chunk))), tuple(chunk)))
    return rows


def _tags(joined: str | None) -> frozenset[str]:
    return frozenset(joined.split(_SEP)) if joined else frozenset()


def _concat(table: str, key: str, column: str = "text") -> str:
    """Correlated subquery: every ``text`` of ``table`` for the current row."""
    return f"(SELECT group_concat({column}, '{_SEP}') FROM {table} WHERE {key})"


# ------------------------------------------------------------------- JMdict entries


def load_entries(con: sqlite3.Connection, idseqs: Iterable[int]) -> dict[int, Entry]:
    """Entries with their forms (tags, info) and senses (misc, restrictions, glosses)."""
    ids = [i for i in dict.fromkeys(idseqs) if i != HEADER_IDSEQ]
    entries = {i: Entry(i) for i in ids}
    sql = (
        f"SELECT idseq, text, {_concat('KJP', 'kid = k.ID')}, {_concat('KJI', 'kid = k.ID')}"
        " FROM Kanji k WHERE idseq IN ({marks}) ORDER BY ID"
    )
    for idseq, text, tags, info in _query_in(con, sql, ids):
        entries[idseq].kanji.append(Form(text, _tags(tags), _tags(info)))
    sql = (
        f"SELECT idseq, text, nokanji, {_concat('KNP', 'kid = a.ID')},"
        f" {_concat('KNI', 'kid = a.ID')} FROM Kana a WHERE idseq IN ({{marks}}) ORDER BY ID"
    )
    for idseq, text, nokanji, tags, info in _query_in(con, sql, ids):
        entries[idseq].kana.append(Form(text, _tags(tags), _tags(info), bool(nokanji)))
    senses: dict[int, Sense] = {}
    sql = (
        f"SELECT ID, idseq, {_concat('misc', 'sid = s.ID')}, {_concat('stagk', 'sid = s.ID')},"
        f" {_concat('stagr', 'sid = s.ID')} FROM Sense s WHERE idseq IN ({{marks}}) ORDER BY ID"
    )
    for sid, idseq, misc, stagk, stagr in _query_in(con, sql, ids):
        senses[sid] = Sense(sid, _tags(misc), _tags(stagk), _tags(stagr))
        entries[idseq].senses.append(senses[sid])
    sql = "SELECT sid, text FROM SenseGloss WHERE sid IN ({marks}) AND +lang = 'eng' ORDER BY rowid"
    for sid, text in _query_in(con, sql, list(senses)):
        senses[sid].glosses.append(text)
    return entries


def written_form(entry: Entry, sense: Sense) -> Form | None:
    """How Japanese text writes the word when it has this sense (most common form)."""
    kanji = [f for f in entry.kanji if f.regular and sense.applies_to(f, True)]
    kana = [f for f in entry.kana if f.regular and sense.applies_to(f, False)]
    preferred = kana if (USUALLY_KANA in sense.misc or not kanji) else kanji
    return min(preferred or kanji or kana, key=lambda f: f.rank, default=None)


# ----------------------------------------------------------------- JMnedict entries


@dataclass
class Name:
    idseq: int
    form: str = ""
    types: set[str] = field(default_factory=set)
    glosses: list[str] = field(default_factory=list)

    @property
    def rank(self) -> tuple[int, int]:
        """Named things (people, places, companies) first, then by number of types."""
        return (0 if self.types & NAME_MAIN_TYPES else 1, -len(self.types))


def load_names(con: sqlite3.Connection, idseqs: Iterable[int]) -> dict[int, Name]:
    """JMnedict entries: first written form (kanji if any), types and English glosses."""
    ids = list(dict.fromkeys(idseqs))
    names = {i: Name(i) for i in ids}
    for table in ("NEKana", "NEKanji"):  # kanji overrides kana as the written form
        first: dict[int, str] = {}
        sql = f"SELECT idseq, text FROM {table} WHERE idseq IN ({{marks}}) ORDER BY ID"
        for idseq, text in _query_in(con, sql, ids):
            first.setdefault(idseq, text)
        for idseq, text in first.items():
            names[idseq].form = text
    sql = (
        "SELECT t.idseq, y.text FROM NETranslation t JOIN NETransType y ON y.tid = t.ID"
        " WHERE t.idseq IN ({marks})"
    )
    for idseq, kind in _query_in(con, sql, ids):
        names[idseq].types.add(kind)
    sql = (
        "SELECT t.idseq, g.text FROM NETranslation t JOIN NETransGloss g ON g.tid = t.ID"
        " WHERE t.idseq IN ({marks}) AND +g.lang = 'eng' ORDER BY t.ID, g.rowid"
    )
    for idseq, text in _query_in(con, sql, ids):
        names[idseq].glosses.append(text)
    return names
