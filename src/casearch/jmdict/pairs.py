"""Term pairs from the jamdict database itself: the matching and ranking rules, and
:func:`lookup_scan`, the reference every faster look-up must agree with.

* Japanese -> English: the term is looked up among written forms (``Kanji.text``,
  ``Kana.text``, both indexed) in batched ``IN (...)`` queries; the glosses of the
  first senses of the matching entries are normalized and ranked by how common the
  matched form is (JMdict priority tags ``news1``, ``ichi1``, ``spec1``, ``nf01``..).
* English -> Japanese: glosses equal to a wanted word (or whose head, the part before a
  comma, equals it) are found; a hit in the first sense of an entry gives that entry's
  usual written form.
* Names (JMnedict) are consulted only for terms the word dictionary did not answer, and
  only when the answer is unambiguous.

English glosses have to be normalized before they can be matched, so English ->
Japanese cannot use the database's indexes: :func:`lookup_scan` normalizes every gloss
at every call (a pass over ``SenseGloss``, 0.35 s, and one over ``NETransGloss``, about
1 s).  :func:`.lookups.lookup` reuses the Japanese -> English queries and the ranking
rules of this module, and takes the English side from the derived index instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .database import connect
from .entries import (
    MIN_NAME_WORD,
    NAME_MAIN_TYPES,
    SKIP_MISC_EN,
    Entry,
    Name,
    Rank,
    Sense,
    _listed,
    _query_in,
    gloss_flags,
    gloss_head,
    load_entries,
    load_names,
    normalize_en,
    normalize_gloss,
    normalize_ja,
    usable_gloss,
    written_form,
)

SOURCE_DICTIONARY = "dictionary"
SOURCE_NAMES = "names"

PER_TERM = 5  # pairs kept per looked-up term
JA_SENSES = 1  # glosses of an entry's first (usable) sense only: later ones drift
NAME_AMBIGUITY = 2  # a name with more equally good answers than this gives nothing
MIN_KANA_NAME = 4  # shorter katakana names only when they name one thing (トヨタ)

#: English words never looked up: they translate to nothing useful for search.
EN_STOPWORDS = frozenset(
    "a an the this that these those it its i me my we our you your he him his she her"
    " they them their of in on at to for from by with about as into over under and or"
    " but nor not no so if then than be am is are was were been being do does did have"
    " has had will would shall should can could may might must".split()
)


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


# ----------------------------------------------------------------------- gloss scan


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


# -------------------------------------------------------------------------- ranking


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


# ------------------------------------------------------------------------ reference


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
