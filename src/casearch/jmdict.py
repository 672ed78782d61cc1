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
   * English -> Japanese: one pass over ``SenseGloss`` through a SQL function that
     normalizes each gloss and keeps those equal to a wanted word (or whose head, the
     part before a comma, equals it).  A hit in the first sense of an entry gives that
     entry's usual written form.
   * Names (JMnedict) are consulted only for terms the word dictionary did not answer,
     and only when the answer is unambiguous.

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

import importlib.util
import lzma
import os
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

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

    @property
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
        listed = "," in full or ";" in full or full.startswith("the ")
        return listed and gloss_head(full) in wanted

    con.create_function("casearch_gloss_matches", 1, matches, deterministic=True)
    sql = f"SELECT {key}, text FROM {table} WHERE +lang = 'eng' AND casearch_gloss_matches(text)"
    hits = []
    for k, raw in con.execute(sql):
        stripped = strip_gloss(raw)
        full = stripped.lower()
        head_only = full not in wanted
        word = gloss_head(full) if head_only else full
        lead = raw.lstrip()
        qualified = lead.startswith("(") or lead.lower().startswith("to (")
        hits.append(GlossHit(k, raw, word, head_only, stripped[:1].isupper(), qualified))
    return hits


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
    index = sense.glosses.index(hit.raw)
    band = 0 if index == 0 else (1 if index <= 2 else 2)
    bucket, nf, tags = form.rank
    key = (hit.head_only, hit.qualified, bucket, band, nf, tags, index, entry.idseq)
    return Found(hit, band, Candidate(key, form.rank, form.text))


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


# ---------------------------------------------------------------------------- API


def lookup(
    db: Path, ja_terms: Iterable[str], en_terms: Iterable[str], *, per_term: int = PER_TERM
) -> list[Pair]:
    """Dictionary bridges for Japanese terms and English words, most common first.

    At most ``per_term`` pairs are produced per looked-up term; names are tried only
    for terms the word dictionary does not answer.  The result lists the pairs of the
    Japanese terms, then those of the English words, each group in the order the terms
    were given; a pair found from both sides appears once, at its first place.
    """
    ja = _normalized(ja_terms, normalize_ja)
    en = {t: o for t, o in _normalized(en_terms, normalize_en).items() if t not in EN_STOPWORDS}
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
