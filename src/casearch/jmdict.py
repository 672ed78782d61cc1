"""Japanese <-> English term pairs from JMdict and JMnedict (an optional feature).

Data flow
---------
1. ``jamdict-data`` (PyPI; data CC BY-SA, EDRDG) ships JMdict (words), JMnedict (names)
   and KANJIDIC2 as one SQLite file.  Release 1.5 is an sdist holding
   ``jamdict_data/jamdict.db.xz`` (54 MB); building its wheel decompresses it, so an
   installed package normally holds ``jamdict_data/jamdict.db`` (325 MB).
   :func:`database_path` finds the package folder without importing it and returns
   that file.  If an install only has the ``.xz``, it is decompressed once into the
   caller's ``cache_dir`` (streamed to a temporary file, then ``os.replace``, so an
   interrupted run never leaves a half-written database).  Without ``jamdict-data`` it
   returns ``None`` and the caller skips the feature.
2. :func:`lookup` opens the file read-only (one connection for the whole call) and
   turns Japanese terms and English words into :class:`Pair` objects:

   * Japanese -> English: the term is looked up among written forms (``Kanji.text``,
     ``Kana.text``, both indexed) in batched ``IN (...)`` queries; the glosses of the
     first senses of the matching entries are normalized and ranked by how common the
     matched form is (JMdict priority tags ``news1``, ``ichi1``, ``spec1``, ``nf01``..).
   * English -> Japanese: glosses equal to a wanted word (or whose head, the part
     before a comma, equals it) are found; a hit in the first sense of an entry gives
     that entry's usual written form.
   * Names (JMnedict) are consulted only for terms the word dictionary did not answer,
     and only when the answer is unambiguous.

3. English glosses have to be normalized before they can be matched, so English ->
   Japanese cannot use the database's indexes.  :func:`lookup_scan`, the reference,
   normalizes every gloss at every call (a pass over ``SenseGloss``, 0.35 s, and one
   over ``NETransGloss``, about 1 s).  :func:`lookup` instead uses a *derived index*,
   built once per database file (8-10 s, 38 MB) by :func:`build_index` into the caller's
   ``cache_dir`` (default ``~/.cache/casearch``; this module reads no environment): a
   SQLite file holding, under each normalized gloss and gloss head, the facts the
   ranking needs (written form, commonness, gloss position ...) and JMnedict entries
   under each normalized name gloss, in B-trees keyed by the gloss.  The file is
   written to a temporary file and renamed into place, records the database's size and
   mtime (which are also in its name) and is rebuilt when missing, stale, cut short or
   damaged.  Answers are memoized per process and database.  The results are those of
   :func:`lookup_scan`, which the tests check.

   Nothing here touches the network.  The pairs are meant to be computed at reindex time
   and kept as a derived table beside the index, never copied into the repository.

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

import gc
import hashlib
import importlib.util
import lzma
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple, TypeVar

PACKAGE = "jamdict_data"
DB_NAME = "jamdict.db"
XZ_NAME = "jamdict.db.xz"

SOURCE_DICTIONARY = "dictionary"
SOURCE_NAMES = "names"

PER_TERM = 5  # pairs kept per looked-up term
JA_SENSES = 1  # glosses of an entry's first (usable) sense only: later ones drift
MAX_GLOSS_WORDS = 6  # longer glosses are explanations, not translations
NAME_AMBIGUITY = 2  # a name with more equally good answers than this gives nothing
MIN_NAME_WORD = 3  # shorter English words are never looked up as names
MIN_KANA_NAME = 4  # shorter katakana names only when they name one thing (トヨタ)
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
#: English words never looked up: they translate to nothing useful for search.
EN_STOPWORDS = frozenset(
    "a an the this that these those it its i me my we our you your he him his she her"
    " they them their of in on at to for from by with about as into over under and or"
    " but nor not no so if then than be am is are was were been being do does did have"
    " has had will would shall should can could may might must".split()
)
#: JMdict's file header is stored as an entry.
HEADER_IDSEQ = 9999999

_PAREN = re.compile(r"\([^()]*\)")
_NEGATION = re.compile(r"\([^()]*\b(?:not|no|never|without|\w+n't)\b[^()]*\)", re.I)
_EDGE_PUNCT = " .,;:!?\"'"
_SEP = "\x1f"  # group_concat separator that never occurs in the data

Rank = tuple[int, int, int]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Pair:
    """A bridge between a Japanese written form and an English word or phrase.

    The side that was looked up is the caller's term (stripped); the other side is the
    dictionary's: a written form for ``ja``, a normalized lower-case gloss for ``en``.
    ``source`` is ``"dictionary"`` (JMdict) or ``"names"`` (JMnedict).
    """

    ja: str
    en: str
    source: str


# ------------------------------------------------------------------------- locating


def database_path(cache_dir: Path) -> Path | None:
    """The jamdict-data SQLite file, or ``None`` when jamdict-data is not installed.

    An installed ``jamdict.db`` is used in place.  When the package only has
    ``jamdict.db.xz``, it is decompressed once into ``cache_dir`` (the caller chooses,
    e.g. beside the index) and later calls reuse that file.
    """
    package_dir = _package_dir()
    return None if package_dir is None else resolve_database(package_dir, cache_dir)


def resolve_database(package_dir: Path, cache_dir: Path) -> Path | None:
    """The usable database of a ``jamdict_data`` folder (see :func:`database_path`)."""
    shipped = package_dir / DB_NAME
    if _is_sqlite(shipped):
        return shipped
    compressed = package_dir / XZ_NAME
    if not compressed.is_file():
        return None
    target = cache_dir / f"jamdict-{compressed.stat().st_size}.db"  # new data, new name
    if not _is_sqlite(target):
        decompress(compressed, target)
    return target


def decompress(source: Path, target: Path) -> None:
    """Stream-decompress ``source`` (.xz) into ``target``: temp file, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, lzma.open(source) as src:
            os.fchmod(out.fileno(), 0o644)  # mkstemp's 0600 would hide it from a server user
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def connect(db: Path) -> sqlite3.Connection:
    """Open the database read-only."""
    return sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)


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


class GlossHit(NamedTuple):
    key: int  # SenseGloss.sid or NETransGloss.tid
    raw: str  # the gloss as stored
    word: str  # the wanted word it matched
    head_only: bool  # matched by its head phrase, not as a whole
    proper: bool  # capitalized in the dictionary (China, not china)
    qualified: bool  # a parenthetical comes first: "(ancient) Japan", "(esp.) railway"


def _scan_glosses(
    con: sqlite3.Connection, table: str, key: str, wanted: set[str]
) -> list[GlossHit]:
    """One pass over a gloss table, keeping glosses that equal a wanted word.

    Normalization runs inside SQLite through a Python function, so only matching rows
    cross over; the cost is one table scan whatever the number of words.
    """

    def matches(text: str) -> bool:
        full = normalize_gloss(text)
        if full in wanted:
            return True
        return _listed(full) and gloss_head(full) in wanted

    con.create_function("casearch_gloss_matches", 1, matches, deterministic=True)
    sql = f"SELECT {key}, text FROM {table} WHERE +lang = 'eng' AND casearch_gloss_matches(text)"
    hits = []
    for k, raw in con.execute(sql):
        full, proper, qualified = gloss_flags(raw)
        head_only = full not in wanted
        word = gloss_head(full) if head_only else full
        hits.append(GlossHit(k, raw, word, head_only, proper, qualified))
    return hits


def gloss_flags(raw: str) -> tuple[str, bool, bool]:
    """A stored gloss as matched: ``(normalized, proper, qualified)`` (see :class:`GlossHit`)."""
    stripped = strip_gloss(raw)
    lead = raw.lstrip()
    qualified = lead.startswith("(") or lead.lower().startswith("to (")
    return stripped.lower(), stripped[:1].isupper(), qualified


def _listed(normalized: str) -> bool:
    """Whether a normalized gloss also matches by its head phrase (:func:`gloss_head`)."""
    return "," in normalized or ";" in normalized or normalized.startswith("the ")


# ---------------------------------------------------------------- JMdict entries


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


class Candidate(NamedTuple):
    key: tuple  # sort key, smallest first
    rank: Rank  # commonness of the word it comes from
    value: str


def _best(candidates: list[Candidate], cap: int) -> list[str]:
    """Values in key order, without duplicates, at most ``cap``.

    When some candidate comes from a common word, candidates from words without any
    priority tag are dropped: rare words are where most false bridges come from.
    """
    if any(c.rank[0] == 0 for c in candidates):
        candidates = [c for c in candidates if c.rank[0] < 2]
    ordered = sorted(candidates, key=lambda c: c.key)
    return list(dict.fromkeys(c.value for c in ordered))[:cap]


# ----------------------------------------------------------- Japanese -> English


def _matched_entries(
    con: sqlite3.Connection, terms: list[str]
) -> dict[str, list[tuple[int, bool]]]:
    """For each term, the entries it is a written form of, as ``(idseq, is_kanji)``."""
    found: dict[str, list[tuple[int, bool]]] = {}
    for table, is_kanji in (("Kanji", True), ("Kana", False)):
        sql = f"SELECT text, idseq FROM {table} WHERE text IN ({{marks}}) ORDER BY ID"
        for text, idseq in _query_in(con, sql, terms):
            found.setdefault(text, []).append((idseq, is_kanji))
    return found


def _gloss_candidates(entry: Entry, term: str, is_kanji: bool) -> list[Candidate]:
    """Normalized glosses of the first senses of an entry read as ``term``."""
    form = entry.form(term, is_kanji)
    senses = [s for s in entry.usable_senses() if s.applies_to(form, is_kanji)]
    out = []
    for position, sense in enumerate(senses[:JA_SENSES]):
        for index, gloss in enumerate(sense.glosses):
            normalized = normalize_gloss(gloss)
            if usable_gloss(normalized):
                key = (form.rank, not form.regular, position, index, entry.idseq)
                out.append(Candidate(key, form.rank, normalized))
    return out


def _ja_to_en(con: sqlite3.Connection, terms: dict[str, str], cap: int) -> dict[str, list[Pair]]:
    """``terms`` maps a normalized Japanese term to the caller's spelling."""
    matched = _matched_entries(con, list(terms))
    entries = load_entries(con, (i for hits in matched.values() for i, _ in hits))
    result: dict[str, list[Pair]] = {}
    for term, hits in matched.items():
        usable = [(entries[i], k) for i, k in hits if i in entries]
        candidates = []
        for entry, is_kanji in _readable_as(usable, term):
            candidates += _gloss_candidates(entry, term, is_kanji)
        result[term] = [Pair(terms[term], g, SOURCE_DICTIONARY) for g in _best(candidates, cap)]
    return result


def _readable_as(hits: list[tuple[Entry, bool]], term: str) -> list[tuple[Entry, bool]]:
    """Entries that text written as ``term`` can mean.

    A kanji form means its entry.  Kana that merely reads a kanji word is kept only when
    the word is usually written in kana, and then only if no common word written in
    kanji has the same reading (はし: 橋, 箸, 端 make 嘴 too uncertain).
    """
    kept = []
    ambiguous = False
    for entry, is_kanji in hits:
        form = entry.form(term, is_kanji)
        if is_kanji or entry.is_kana_word(form):
            kept.append((entry, is_kanji))
        elif form.rank[0] == 0:
            ambiguous = True
    if ambiguous:
        kept = [(e, k) for e, k in kept if k or not e.kanji]
    return kept


# ----------------------------------------------------------- English -> Japanese


def _en_to_ja(con: sqlite3.Connection, terms: dict[str, str], cap: int) -> dict[str, list[Pair]]:
    """``terms`` maps a normalized English word to the caller's spelling."""
    hits = _scan_glosses(con, "SenseGloss", "sid", set(terms))
    sql = "SELECT ID, idseq FROM Sense WHERE ID IN ({marks})"
    sense_entry = dict(_query_in(con, sql, [h.key for h in hits]))
    entries = load_entries(con, sense_entry.values())
    first_sense = {}  # only a word's first sense says what it means
    for entry in entries.values():
        for sense in entry.usable_senses(SKIP_MISC_EN)[:1]:
            first_sense[sense.sid] = (entry, sense)
    by_word: dict[str, list[Found]] = {}
    for hit in hits:
        if hit.key in first_sense:
            found = _found(hit, *first_sense[hit.key])
            if found is not None:
                by_word.setdefault(hit.word, []).append(found)
    return {
        word: [Pair(ja, terms[word], SOURCE_DICTIONARY) for ja in _rank_forms(found, cap)]
        for word, found in by_word.items()
    }


class Found(NamedTuple):
    hit: GlossHit
    band: int  # where the word stands in the sense's glosses: 0 first, 1 early, 2 late
    candidate: Candidate


def _found(hit: GlossHit, entry: Entry, sense: Sense) -> Found | None:
    """The written form a gloss hit stands for, with its sort key."""
    form = written_form(entry, sense)
    if form is None:
        return None
    return _make_found(hit, form.text, form.rank, sense.glosses.index(hit.raw), entry.idseq)


def _make_found(hit: GlossHit, form: str, rank: Rank, index: int, idseq: int) -> Found:
    """``index``: the gloss's place among its sense's glosses (first equal one)."""
    band = 0 if index == 0 else (1 if index <= 2 else 2)
    bucket, nf, tags = rank
    key = (hit.head_only, hit.qualified, bucket, band, nf, tags, index, idseq)
    return Found(hit, band, Candidate(key, rank, form))


def _rank_forms(found: list[Found], cap: int) -> list[str]:
    """Whole, unqualified gloss matches first, then by commonness, gloss position and
    frequency.

    Capitalization separates homonyms (China / china, Turkey / turkey): only glosses
    cased like the best match are kept.  A word found only late in a gloss list
    (おなら: "fart; flatus; wind; gas") is kept only when nothing better exists.
    """
    best = min(found, key=lambda f: f.candidate.key)
    kept = [f for f in found if f.hit.proper == best.hit.proper]
    if any(f.band < 2 for f in kept):
        kept = [f for f in kept if f.band < 2]
    return _best([f.candidate for f in kept], cap)


# -------------------------------------------------------------------------- names


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


def _unambiguous(names: list[Name], values: Callable[[Name], list[str]]) -> list[str]:
    """Values of the names, best-ranked first, or nothing when there are too many.

    Romanized surnames are the typical case: "Sato" is the gloss of dozens of entries
    (佐藤, 里, 佐東 ...), and none of them can be trusted.
    """
    ordered = sorted(names, key=lambda n: (n.rank, n.idseq))
    found = list(dict.fromkeys(v for n in ordered for v in values(n)))
    return found if len(found) <= NAME_AMBIGUITY else []


def _name_glosses(name: Name) -> list[str]:
    return [g for g in map(normalize_gloss, name.glosses) if usable_gloss(g)]


def is_katakana(term: str) -> bool:
    """Katakana only (with ー and ・): how foreign names are written."""
    return all("\u30a1" <= c <= "\u30fa" or c in "ー・" for c in term)


def _trusted_name(name: Name, term: str, is_kanji: bool) -> bool:
    """Whether text written as ``term`` is likely to be this name.

    Short katakana words and single kanji are mostly fragments of longer words cut by
    the tokenizer (シムケント -> シム, ケント); they count only when they name one
    thing.  Hiragana is never a name here: it is the reading of a kanji name.
    """
    named_thing = bool(name.types & NAME_MAIN_TYPES)
    if is_kanji:
        return len(term) > 1 or named_thing
    return is_katakana(term) and (len(term) >= MIN_KANA_NAME or named_thing)


def _names_ja_to_en(con: sqlite3.Connection, terms: dict[str, str]) -> dict[str, list[Pair]]:
    found: dict[str, list[tuple[int, bool]]] = {}
    by_kanji = "SELECT text, idseq, 1 FROM NEKanji WHERE text IN ({marks})"
    by_kana = (  # kana-only names: a kana reading of a kanji name is not its spelling
        "SELECT a.text, a.idseq, 0 FROM NEKana a WHERE a.text IN ({marks})"
        " AND NOT EXISTS (SELECT 1 FROM NEKanji k WHERE k.idseq = a.idseq)"
    )
    for sql in (by_kanji, by_kana):
        for text, idseq, is_kanji in _query_in(con, sql, list(terms)):
            found.setdefault(text, []).append((idseq, bool(is_kanji)))
    names = load_names(con, (i for hits in found.values() for i, _ in hits))
    result = {}
    for term, hits in found.items():
        trusted = [names[i] for i, k in hits if _trusted_name(names[i], term, k)]
        # A kanji name has many readings; the one that names a place or a person is
        # the one a text means (西安: Xi'an, not the surname Nishiyasu).
        main = [n for n in trusted if n.types & NAME_MAIN_TYPES] or trusted
        glosses = _unambiguous(main, _name_glosses)
        result[term] = [Pair(terms[term], g, SOURCE_NAMES) for g in glosses]
    return result


def _names_en_to_ja(con: sqlite3.Connection, terms: dict[str, str]) -> dict[str, list[Pair]]:
    wanted = {t for t in terms if len(t) >= MIN_NAME_WORD}
    if not wanted:
        return {}
    hits = [h for h in _scan_glosses(con, "NETransGloss", "tid", wanted) if not h.head_only]
    sql = "SELECT ID, idseq FROM NETranslation WHERE ID IN ({marks})"
    tid_entry = dict(_query_in(con, sql, [h.key for h in hits]))
    names = load_names(con, tid_entry.values())
    found: dict[str, list[Name]] = {}
    for hit in hits:
        if hit.key in tid_entry:
            found.setdefault(hit.word, []).append(names[tid_entry[hit.key]])
    result = {}
    for word, matches in found.items():
        forms = _unambiguous(matches, lambda n: [n.form] if n.form else [])
        result[word] = [Pair(f, terms[word], SOURCE_NAMES) for f in forms]
    return result


# ------------------------------------------------------------------ derived index
#
# English -> Japanese needs every gloss normalized before it can be matched, which a
# scan does at every call.  The derived index does it once per jamdict database:
#
# ``gloss(key, gid, full, proper, qualified, form, bucket, nf, tags, position, idseq)``
#     one row per gloss of the *first usable sense* (SKIP_MISC_EN) of a JMdict entry that
#     has a written form for it -- the only glosses the scan can turn into pairs -- under
#     its normalized text and, for a list-like gloss, also under its head phrase.  The
#     columns are everything :func:`_found` needs except ``head_only``, which depends on
#     the words of the call.  ``gid`` numbers glosses in entry, sense and gloss order.
# ``name(word, idseq)``
#     JMnedict entries by normalized gloss (only words of MIN_NAME_WORD letters or more:
#     shorter ones are never looked up as names).  The entries are read from the jamdict
#     database at lookup time (:func:`load_names`), as the scan does.
# ``meta(key, value)``
#     ``format`` (INDEX_FORMAT), ``code`` (CODE_FINGERPRINT: the ranking facts were
#     computed by this module as it was), ``identity`` of the jamdict file (size and
#     mtime), the data versions of its own ``meta`` table, and ``complete``, written last.
#
# The file is built in a temporary file of the cache folder and renamed over the final
# name (``os.replace``): readers see a whole index or none, and two processes building
# at once each write their own temporary file (the last rename wins, both are whole).
# Japanese -> English already uses the database's own indexes and is not copied.

INDEX_FORMAT = 1  # bump whenever the derived index's layout or meaning changes
INDEX_PREFIX = "jmdict-index"
STALE_TEMP_SECONDS = 3600  # temporary files older than this are left-overs of a crash
UNCAPPED = sys.maxsize
MEMO_LIMIT = 200_000  # memoized terms per kind and database before the memo is reset

_INDEX_SCHEMA = """
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -65536;
PRAGMA temp_store = FILE;
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE gloss (
    key TEXT NOT NULL, gid INTEGER NOT NULL, full TEXT NOT NULL,
    proper INTEGER NOT NULL, qualified INTEGER NOT NULL, form TEXT NOT NULL,
    bucket INTEGER NOT NULL, nf INTEGER NOT NULL, tags INTEGER NOT NULL,
    position INTEGER NOT NULL, idseq INTEGER NOT NULL,
    PRIMARY KEY (key, gid)
) WITHOUT ROWID;
CREATE TABLE name (word TEXT NOT NULL, idseq INTEGER NOT NULL, PRIMARY KEY (word, idseq))
    WITHOUT ROWID;
"""


class GlossRow(NamedTuple):
    """A row of the derived ``gloss`` table (see the comment above)."""

    key: str
    gid: int
    full: str
    proper: bool
    qualified: bool
    form: str
    rank: Rank
    position: int
    idseq: int


def _code_fingerprint() -> str:
    """This module's source, hashed: the index holds ranking facts computed by this code,
    so any edit to it gets a new index rather than silently stale answers."""
    try:
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"


CODE_FINGERPRINT = _code_fingerprint()


def default_cache_dir() -> Path:
    """Where :func:`lookup` keeps its derived index unless told otherwise."""
    return Path.home() / ".cache" / "casearch"


def database_identity(db: Path) -> str:
    """What a derived index records of the database it was built from: size and mtime."""
    st = db.stat()
    return f"size={st.st_size} mtime_ns={st.st_mtime_ns}"


def index_path(db: Path, cache_dir: Path) -> Path:
    """The derived index of ``db`` in ``cache_dir`` (a changed database gets a new name)."""
    stamp = f"{INDEX_FORMAT} {CODE_FINGERPRINT} {database_identity(db)}"
    digest = hashlib.sha256(stamp.encode()).hexdigest()
    return cache_dir / f"{INDEX_PREFIX}-v{INDEX_FORMAT}-{digest[:16]}.sqlite"


def build_index(db: Path, target: Path) -> None:
    """Build the derived index of ``db`` into ``target``: temporary file, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(target.parent)
    identity = database_identity(db)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        out = sqlite3.connect(tmp_name)
        try:
            out.executescript(_INDEX_SCHEMA)
            src = connect(db)
            collecting = gc.isenabled()
            gc.disable()  # hundreds of thousands of small objects and no cycles
            try:
                versions = dict(src.execute("SELECT key, value FROM meta"))
                glosses = _write_glosses(src, out)
                names = _write_names(src, out)
            finally:
                if collecting:
                    gc.enable()
                src.close()
            meta = {
                "format": str(INDEX_FORMAT),
                "code": CODE_FINGERPRINT,
                "identity": identity,
                "source": str(db),
                "versions": " ".join(f"{k}={v}" for k, v in sorted(versions.items())),
                "glosses": str(glosses),
                "names": str(names),
            }
            out.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            out.execute("INSERT INTO meta VALUES ('complete', '1')")
            out.commit()
        finally:
            out.close()
        os.chmod(tmp_name, 0o644)
        with open(tmp_name, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _write_glosses(src: sqlite3.Connection, out: sqlite3.Connection) -> int:
    """The ``gloss`` table: entries are read in idseq order, a chunk at a time.

    ``full`` is both what the scan matches (:func:`normalize_gloss`) and what it derives
    the hit from (:func:`strip_gloss`, lower-cased): the two are equal by definition.
    Rows go through a temporary table so that the index is written in key order.
    """
    out.execute("CREATE TEMP TABLE gloss_rows AS SELECT * FROM gloss WHERE 0")
    ids = [i for (i,) in src.execute("SELECT DISTINCT idseq FROM Sense ORDER BY idseq")]
    gid = 0
    for chunk in _chunks(ids, 4 * CHUNK):
        rows = []
        for entry in load_entries(src, chunk).values():
            for sense in entry.usable_senses(SKIP_MISC_EN)[:1]:
                form = written_form(entry, sense)
                if form is None:
                    continue
                for raw in sense.glosses:
                    gid += 1
                    full, proper, qualified = gloss_flags(raw)
                    keys = (full, gloss_head(full)) if _listed(full) else (full,)
                    position = sense.glosses.index(raw)
                    facts = (full, proper, qualified, form.text, *form.rank, position)
                    rows += [(k, gid, *facts, entry.idseq) for k in dict.fromkeys(keys) if k]
        out.executemany("INSERT INTO gloss_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    out.execute("INSERT INTO gloss SELECT * FROM gloss_rows ORDER BY key, gid")
    out.execute("DROP TABLE gloss_rows")
    return gid


def _write_names(src: sqlite3.Connection, out: sqlite3.Connection) -> int:
    """The ``name`` table: JMnedict entries by normalized English gloss."""
    out.execute("CREATE TEMP TABLE name_rows (word TEXT, idseq INTEGER)")
    sql = (
        "SELECT t.idseq, g.text FROM NETranslation t JOIN NETransGloss g ON g.tid = t.ID"
        " WHERE +g.lang = 'eng'"
    )
    cursor = src.execute(sql)
    while rows := cursor.fetchmany(50_000):
        words = [(normalize_gloss(text), idseq) for idseq, text in rows]
        words = [w for w in words if len(w[0]) >= MIN_NAME_WORD]
        out.executemany("INSERT INTO name_rows VALUES (?, ?)", words)
    out.execute("INSERT OR IGNORE INTO name SELECT word, idseq FROM name_rows ORDER BY word, idseq")
    out.execute("DROP TABLE name_rows")
    return out.execute("SELECT count(*) FROM name").fetchone()[0]


def _remove_stale_temp_files(folder: Path) -> None:
    now = time.time()
    for path in folder.glob(f".{INDEX_PREFIX}-*.tmp"):
        try:
            if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                path.unlink()
        except OSError:
            pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def open_index(path: Path, db: Path) -> sqlite3.Connection | None:
    """The derived index at ``path`` if it is whole and built from ``db`` as it is now."""
    if not _whole_sqlite_file(path):
        return None
    try:
        con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return None
    try:
        meta = dict(con.execute("SELECT key, value FROM meta"))
        if (
            meta.get("format") == str(INDEX_FORMAT)
            and meta.get("code") == CODE_FINGERPRINT
            and meta.get("identity") == database_identity(db)
            and meta.get("complete") == "1"
        ):
            return con
    except sqlite3.Error:
        pass
    con.close()
    return None


def _whole_sqlite_file(path: Path) -> bool:
    """A SQLite file whose header's page count matches its size (not cut, not padded)."""
    try:
        with path.open("rb") as f:
            header = f.read(100)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return False
    if len(header) < 100 or header[:16] != b"SQLite format 3\x00":
        return False
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] != header[92:96]:  # in-header page count not maintained: cannot tell
        return size > 0 and size % page_size == 0
    return size == pages * page_size


_BUILD_LOCK = threading.Lock()
_UNBUILDABLE: set[Path] = set()  # targets whose build failed in this process


def _index(db: Path, cache_dir: Path) -> sqlite3.Connection | None:
    """The derived index, built when missing, stale or damaged; ``None`` if it cannot be."""
    target = index_path(db, cache_dir)
    con = open_index(target, db)
    if con is not None or target in _UNBUILDABLE:
        return con
    with _BUILD_LOCK:
        con = open_index(target, db)  # another thread may just have built it
        if con is None:
            try:
                build_index(db, target)
            except (OSError, sqlite3.Error):
                _UNBUILDABLE.add(target)
                return None
            con = open_index(target, db)
    return con


# -------------------------------------------------------------------------- memo


@dataclass
class _Memo:
    """Answers already found in this process for one database (uncapped)."""

    ja: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # (en, source)
    gloss: dict[str, _WordGlosses] = field(default_factory=dict)
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def trim(self) -> None:
        for memo in (self.ja, self.gloss, self.names):
            if len(memo) > MEMO_LIMIT:
                memo.clear()


_MEMOS: dict[tuple[str, str], _Memo] = {}
_MEMO_DATABASES = 4  # memos kept for this many databases (a changed one is a new one)


def _memo(db: Path) -> _Memo:
    key = (str(db), database_identity(db))
    memo = _MEMOS.get(key)
    if memo is None:
        while len(_MEMOS) >= _MEMO_DATABASES:
            del _MEMOS[next(iter(_MEMOS))]
        memo = _MEMOS[key] = _Memo()
    return memo


def clear_memo() -> None:
    """Forget the answers memoized in this process (the on-disk index is kept)."""
    _MEMOS.clear()
    _UNBUILDABLE.clear()


# ---------------------------------------------------------------------------- API


def lookup(
    db: Path,
    ja_terms: Iterable[str],
    en_terms: Iterable[str],
    *,
    per_term: int = PER_TERM,
    cache_dir: Path | None = None,
) -> list[Pair]:
    """Dictionary bridges for Japanese terms and English words, most common first.

    At most ``per_term`` pairs are produced per looked-up term; names are tried only
    for terms the word dictionary does not answer.  The result lists the pairs of the
    Japanese terms, then those of the English words, each group in the order the terms
    were given; a pair found from both sides appears once, at its first place.

    English words are looked up in a derived index of ``db`` kept in ``cache_dir``
    (default :func:`default_cache_dir`), built on first use (seconds, once per database
    file); answers are also memoized in the process.  The result is the one
    :func:`lookup_scan` gives; when the index cannot be written, that is what runs.
    ``per_term`` below 1 gives no pairs.
    """
    ja = _normalized(ja_terms, normalize_ja)
    en = {t: o for t, o in _normalized(en_terms, normalize_en).items() if t not in EN_STOPWORDS}
    if per_term < 1 or not (ja or en):
        return []
    try:
        cache = default_cache_dir() if cache_dir is None else cache_dir
    except (RuntimeError, KeyError):  # no home folder
        return _scan(db, ja, en, per_term)
    memo = _memo(db)
    memo.trim()
    for attempt in range(2):
        handles = _Handles(db, cache)
        try:
            ja_found = _ja_answers(memo, list(ja), handles)
            en_found = _en_answers(memo, list(en), handles)
            break
        except _NoIndex:
            return _scan(db, ja, en, per_term)
        except sqlite3.DatabaseError:
            if attempt or not handles.index_used:
                raise
            _remove(index_path(db, cache))  # damaged beyond what opening checks: rebuild
        finally:
            handles.close()
    ordered = [Pair(o, v, s) for t, o in ja.items() for v, s in ja_found[t][:per_term]]
    ordered += [Pair(v, o, s) for t, o in en.items() for v, s in en_found.get(t, ())[:per_term]]
    return list(dict.fromkeys(ordered))


class _NoIndex(Exception):
    """The derived index cannot be built (cache folder not writable ...)."""


class _Handles:
    """The jamdict database and the derived index of one call, opened on first use."""

    def __init__(self, db: Path, cache_dir: Path) -> None:
        self.db = db
        self.cache_dir = cache_dir
        self._source: sqlite3.Connection | None = None
        self._index: sqlite3.Connection | None = None
        self.index_used = False

    @property
    def source(self) -> sqlite3.Connection:
        if self._source is None:
            self._source = connect(self.db)
        return self._source

    @property
    def index(self) -> sqlite3.Connection:
        if self._index is None:
            self.index_used = True
            self._index = _index(self.db, self.cache_dir)
            if self._index is None:
                raise _NoIndex(self.cache_dir)
        return self._index

    def close(self) -> None:
        for con in (self._source, self._index):
            if con is not None:
                con.close()


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _recall(memo: dict[str, _T], terms: Iterable[str]) -> tuple[dict[str, _T], list[str]]:
    """What ``memo`` knows of ``terms``, and the terms it does not know (in order).

    Each entry is read once: another thread may trim the memo meanwhile.
    """
    known: dict[str, _T] = {}
    missing: list[str] = []
    for term in terms:
        value = memo.get(term)
        if value is None:
            missing.append(term)
        else:
            known[term] = value
    return known, missing


def _ja_answers(
    memo: _Memo, terms: list[str], handles: _Handles
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Japanese -> English: the scan's own queries (indexed), memoized per term."""
    known, missing = _recall(memo.ja, terms)
    if missing:
        words = _ja_to_en(handles.source, {t: t for t in missing}, UNCAPPED)
        left = {t: t for t in missing if not words.get(t)}
        names = _names_ja_to_en(handles.source, left) if left else {}
        for term in missing:
            pairs = words.get(term) or names.get(term) or []
            known[term] = memo.ja[term] = tuple((p.en, p.source) for p in pairs)
    return known


def _en_answers(
    memo: _Memo, words: list[str], handles: _Handles
) -> dict[str, list[tuple[str, str]]]:
    """English -> Japanese from the derived index: JMdict first, then JMnedict."""
    known, missing = _recall(memo.gloss, words)
    if missing:
        found: dict[str, list[GlossRow]] = {}
        sql = (
            "SELECT key, gid, full, proper, qualified, form, bucket, nf, tags, position, idseq"
            " FROM gloss WHERE key IN ({marks})"
        )
        for key, gid, full, proper, qualified, form, b, nf, t, position, idseq in _query_in(
            handles.index, sql, missing
        ):
            rank = (b, nf, t)
            row = GlossRow(
                key, gid, full, bool(proper), bool(qualified), form, rank, position, idseq
            )
            found.setdefault(key, []).append(row)
        for word in missing:
            known[word] = memo.gloss[word] = _WordGlosses.of(word, found.get(word, []))
    wanted = set(words)
    answers = {}
    for word in words:
        forms = known[word].forms(wanted)
        if forms:
            answers[word] = [(f, SOURCE_DICTIONARY) for f in forms]
    left = [w for w in words if w not in answers and len(w) >= MIN_NAME_WORD]
    for word, forms in _name_forms(memo, left, handles).items():
        if forms:
            answers[word] = [(f, SOURCE_NAMES) for f in forms]
    return answers


@dataclass(frozen=True)
class _WordGlosses:
    """The index rows of one English word, with its answer when looked up alone.

    :func:`_en_to_ja` gives a list-like gloss ("policy, platform") to its head word
    ("policy") unless the whole gloss is also wanted in the same call: then the answer
    depends on the other words (``takers``), and only then is it computed again.
    """

    word: str
    rows: tuple[GlossRow, ...]  # in gloss order
    takers: frozenset[str]  # whole glosses that take a row from this word when wanted
    alone: tuple[str, ...]

    @classmethod
    def of(cls, word: str, rows: list[GlossRow]) -> _WordGlosses:
        rows.sort(key=lambda r: r.gid)
        takers = frozenset(r.full for r in rows if r.full != word)
        return cls(word, tuple(rows), takers, tuple(_word_forms(word, rows, {word})))

    def forms(self, wanted: set[str]) -> tuple[str, ...] | list[str]:
        if self.takers.isdisjoint(wanted):
            return self.alone
        return _word_forms(self.word, self.rows, wanted)


def _word_forms(word: str, rows: Iterable[GlossRow], wanted: set[str]) -> list[str]:
    """:func:`_en_to_ja` for one word on its index rows (uncapped)."""
    found = []
    for row in rows:
        head_only = row.full != word
        if head_only and row.full in wanted:
            continue  # the whole gloss is wanted too: the row answers it, not its head
        hit = GlossHit(row.gid, "", word, head_only, row.proper, row.qualified)
        found.append(_make_found(hit, row.form, row.rank, row.position, row.idseq))
    return _rank_forms(found, UNCAPPED) if found else []


def _name_forms(memo: _Memo, words: list[str], handles: _Handles) -> dict[str, tuple[str, ...]]:
    """:func:`_names_en_to_ja` with the gloss matching done by the index."""
    known, missing = _recall(memo.names, words)
    if missing:
        sql = "SELECT word, idseq FROM name WHERE word IN ({marks})"
        found: dict[str, list[int]] = {}
        for word, idseq in _query_in(handles.index, sql, missing):
            found.setdefault(word, []).append(idseq)
        ids = [i for word_ids in found.values() for i in word_ids]
        names = load_names(handles.source, ids) if ids else {}
        for word in missing:
            matches = [names[i] for i in found.get(word, ())]
            forms = tuple(_unambiguous(matches, lambda n: [n.form] if n.form else []))
            known[word] = memo.names[word] = forms
    return known


def lookup_scan(
    db: Path, ja_terms: Iterable[str], en_terms: Iterable[str], *, per_term: int = PER_TERM
) -> list[Pair]:
    """:func:`lookup` without the derived index or the memo: the reference.

    English words cost a pass over every gloss (about 0.35 s) and, when one is not a
    dictionary word, another over every name (about 1 s).
    """
    ja = _normalized(ja_terms, normalize_ja)
    en = {t: o for t, o in _normalized(en_terms, normalize_en).items() if t not in EN_STOPWORDS}
    return _scan(db, ja, en, per_term)


def _scan(db: Path, ja: dict[str, str], en: dict[str, str], per_term: int) -> list[Pair]:
    if per_term < 1 or not (ja or en):
        return []
    con = connect(db)
    try:
        ja_pairs = _ja_to_en(con, ja, per_term) if ja else {}
        en_pairs = _en_to_ja(con, en, per_term) if en else {}
        ja_left = {t: o for t, o in ja.items() if not ja_pairs.get(t)}
        en_left = {t: o for t, o in en.items() if not en_pairs.get(t)}
        if ja_left:
            ja_pairs.update(_names_ja_to_en(con, ja_left))
        if en_left:
            en_pairs.update(_names_en_to_ja(con, en_left))
    finally:
        con.close()
    ordered = [p for t in ja for p in ja_pairs.get(t, [])[:per_term]]
    ordered += [p for t in en for p in en_pairs.get(t, [])[:per_term]]
    return list(dict.fromkeys(ordered))


def _normalized(terms: Iterable[str], normalize: Callable[[str], str]) -> dict[str, str]:
    """Normalized term -> the caller's (stripped) spelling; the first spelling wins."""
    out: dict[str, str] = {}
    for term in terms:
        key = normalize(term)
        if key and key not in out:
            out[key] = term.strip()
    return out
