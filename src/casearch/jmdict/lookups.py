"""What callers use: :func:`lookup`, through the derived index and a per-process memo.

:func:`lookup` opens the jamdict database read-only only when it needs it (one
connection for the whole call).  Japanese terms are answered by the queries of
:mod:`.pairs`, which the database's own indexes serve; English words by the derived
index (:mod:`.derived`, built on first use), with the ranking rules of :mod:`.pairs`
applied to its rows.  Answers are memoized uncapped per process and database, and cut
to ``per_term`` per call.  The results are those of :func:`.pairs.lookup_scan`, which
the tests check; when the index cannot be written, that scan is what runs.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .database import connect
from .derived import (
    _MARKED,
    _UNBUILDABLE,
    GlossRow,
    _index,
    database_identity,
    default_cache_dir,
    index_path,
)
from .entries import MIN_NAME_WORD, _query_in, load_names, normalize_en, normalize_ja
from .pairs import (
    EN_STOPWORDS,
    PER_TERM,
    SOURCE_DICTIONARY,
    SOURCE_NAMES,
    GlossHit,
    Pair,
    _ja_to_en,
    _make_found,
    _names_ja_to_en,
    _normalized,
    _rank_forms,
    _scan,
    _unambiguous,
)

UNCAPPED = sys.maxsize
MEMO_LIMIT = 200_000  # memoized terms per kind and database before the memo is reset

_T = TypeVar("_T")


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
    """Forget what this process memoized: answers, failed builds, indexes marked used
    (the on-disk index is kept)."""
    _MEMOS.clear()
    _UNBUILDABLE.clear()
    _MARKED.clear()


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
