"""The cross-lingual pairs of one index generation, read from disk (SQLite), not held in
every server process.

    reindex   pairs per owner (a document id, the glossary, the learned pairs) ->
              ``apply`` after the engine's commit: one transaction replaces the changed
              owners' links and records the engine's commit stamp. A pair is stored
              once, however many documents hold it (ファイル - file: one row, not one
              per page), with a link per owner; a pair no owner links is deleted
    search    ``BridgeStore.counterparts(terms)`` -> the pairs filed under those terms
              (two B-tree look-ups) -> a small ``bridge.Bridge`` of just those pairs ->
              its counterparts; answers are memoized per store (bounded)

The pairs also stay in the engine's own records (they commit with the postings). When
the store's stamp is not the engine's (a reindex killed between the two commits, or a
store that was never written), ``ensure`` rebuilds it from those records under a lock,
written to a temporary file and renamed into place. Rows are filed under the same keys
``Bridge`` uses, so a store answers exactly what an in-memory ``Bridge`` of all pairs
answers.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from .bridge import MAX_COUNTERPARTS, Bridge, Counterpart, Pair, looked_up_counterparts, pair_keys

STORE_FILE = "bridge.sqlite"
GLOSSARY_OWNER = "glossary"
_SEP = "\x1f"
MEMO = 4096  # counterpart answers kept per store

LAYOUT = "2"  # 2: each pair once, linked to its owners (1: a row per owner and pair)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS pairs (id INTEGER PRIMARY KEY, ja_key TEXT, en_key TEXT, row TEXT NOT NULL UNIQUE);
CREATE INDEX IF NOT EXISTS pairs_ja ON pairs (ja_key);
CREATE INDEX IF NOT EXISTS pairs_en ON pairs (en_key);
CREATE TABLE IF NOT EXISTS owners (owner TEXT NOT NULL, pair INTEGER NOT NULL, PRIMARY KEY (owner, pair)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS owners_pair ON owners (pair);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
"""


def document_owner(doc_id: str) -> str:
    """Rows of a document's pairs record (or of any pairs record by its doc_id)."""
    return f"doc:{doc_id}"


def _key(terms: tuple[str, ...]) -> str | None:
    return _SEP.join(terms) if terms else None


def _rows(pairs: Iterable[Pair]) -> Iterator[tuple[str | None, str | None, str]]:
    return map(_row, pairs)


@lru_cache(maxsize=65536)
def _row(pair: Pair) -> tuple[str | None, str | None, str]:
    """A pair's keys and stored text (documents repeat the same pairs: made once)."""
    ja_key, en_key = pair_keys(pair)
    return _key(ja_key), _key(en_key), json.dumps(pair.stored(), ensure_ascii=False)


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    con.executescript(_SCHEMA)
    return con


def _link(con: sqlite3.Connection, owner: str, pairs: Iterable[Pair]) -> None:
    """Store each pair once and link it to ``owner``."""
    rows = list(_rows(pairs))
    con.executemany("INSERT INTO pairs (ja_key, en_key, row) VALUES (?, ?, ?) ON CONFLICT (row) DO NOTHING", rows)
    con.executemany("INSERT OR IGNORE INTO owners SELECT ?, id FROM pairs WHERE row = ?", [(owner, r[2]) for r in rows])


def _layout(path: Path) -> str | None:
    """The layout a store file was written in (None: not a readable store)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            found = con.execute("SELECT value FROM meta WHERE name = 'layout'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return found[0] if found else "1"


def apply(generation: Path, changes: dict[str, list[Pair]], stamp: int) -> None:
    """Replace the pairs of each owner in ``changes`` (an empty list removes it) and
    record the engine commit they belong to; one transaction. A store of another layout
    is removed instead: the next read rebuilds it from the engine's records."""
    path = generation / STORE_FILE
    if path.exists() and _layout(path) != LAYOUT:
        path.unlink()
        return
    con = _connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('layout', ?)", (LAYOUT,))
        unlinked: set[int] = set()
        for owner, pairs in changes.items():
            unlinked.update(i for (i,) in con.execute("SELECT pair FROM owners WHERE owner = ?", (owner,)))
            con.execute("DELETE FROM owners WHERE owner = ?", (owner,))
            _link(con, owner, pairs)
        con.executemany(
            "DELETE FROM pairs WHERE id = ? AND NOT EXISTS (SELECT 1 FROM owners WHERE pair = ?)",
            [(i, i) for i in sorted(unlinked)],
        )
        con.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (str(stamp),))
        con.execute("COMMIT")
    finally:
        con.close()


def stamp_of(generation: Path) -> int | None:
    """The engine commit the store was written for; None when there is no usable store."""
    path = generation / STORE_FILE
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            meta = dict(con.execute("SELECT name, value FROM meta WHERE name IN ('stamp', 'layout')"))
        finally:
            con.close()
    except sqlite3.Error:
        return None
    if meta.get("layout", "1") != LAYOUT:  # written by an older casearch: rebuilt when next read
        return None
    return int(meta["stamp"]) if "stamp" in meta else None


def rebuild(generation: Path, owners: Iterable[tuple[str, list[Pair]]], stamp: int) -> None:
    """A whole new store from every owner's pairs, renamed into place."""
    tmp = generation / f".{STORE_FILE}.{uuid.uuid4().hex}.tmp"
    con = _connect(tmp)
    try:
        con.execute("BEGIN")
        for owner, pairs in owners:
            _link(con, owner, pairs)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('layout', ?)", (LAYOUT,))
        con.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (str(stamp),))
        con.execute("COMMIT")
    finally:
        con.close()
    os.replace(tmp, generation / STORE_FILE)


@contextmanager
def _store_lock(generation: Path) -> Iterator[None]:
    fd = os.open(generation / f".{STORE_FILE}.lock", os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure(generation: Path, stamp: int, owners) -> None:
    """Make the store match the engine commit ``stamp``, rebuilding it from ``owners()``
    (the pairs in the engine's records) when it does not; one process rebuilds."""
    if stamp_of(generation) == stamp:
        return
    with _store_lock(generation):
        if stamp_of(generation) != stamp:
            rebuild(generation, owners(), stamp)


class BridgeStore:
    """The ``Bridge`` interface over the store of one generation; shared by threads."""

    def __init__(self, generation: Path, dictionary: Path | None = None) -> None:
        """``dictionary``: jamdict-data's database, for query words the corpus did not pair."""
        self.path = generation / STORE_FILE
        self.dictionary = dictionary
        self._local = threading.local()
        self._lock = threading.Lock()
        self._memo: OrderedDict[tuple[str, ...], list[Counterpart]] = OrderedDict()

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        return con

    def _pairs(self, sql: str, args: tuple = ()) -> list[Pair]:
        return [Pair.from_stored(json.loads(row)) for (row,) in self._con().execute(sql, args)]

    def counterparts(self, terms: tuple[str, ...], limit: int = MAX_COUNTERPARTS) -> list[Counterpart]:
        with self._lock:
            if terms in self._memo:
                self._memo.move_to_end(terms)
                return self._memo[terms][:limit]
        key = _key(terms)
        # In the order first written, which keeps each source's order of preference among equals.
        pairs = self._pairs("SELECT row FROM pairs WHERE ja_key = ? OR en_key = ? ORDER BY id", (key, key)) if key else []
        found = Bridge(pairs).counterparts(terms, limit=len(pairs))  # every one, best first
        with self._lock:
            self._memo[terms] = found
            if len(self._memo) > MEMO:
                self._memo.popitem(last=False)
        return found[:limit]

    def looked_up(self, written: str) -> list[Counterpart]:
        """A Japanese word's English counterparts from the dictionary (memoized there)."""
        return looked_up_counterparts(self.dictionary, written)

    @property
    def pairs(self) -> list[Pair]:
        """Every pair, once (the CLI's glossary listing)."""
        return Bridge(self._pairs("SELECT row FROM pairs ORDER BY id")).pairs

    def matching(self, text: str) -> list[Pair]:
        return Bridge(self.pairs).matching(text)

    def __len__(self) -> int:
        return len(self.pairs)
