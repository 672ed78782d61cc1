"""Japanese <-> English term pairs from JMdict and JMnedict (an optional feature).

Data flow
---------
1. :mod:`.database` finds the SQLite file of the optional ``jamdict-data`` package
   (JMdict words, JMnedict names; a ``.xz``-only install is decompressed once into the
   caller's cache folder).  Without the package, :func:`database_path` gives ``None``
   and the caller skips the feature.
2. :mod:`.entries` reads entries from it (written forms with their priorities, senses
   with their glosses, JMnedict names) and normalizes glosses and terms to one form.
3. :mod:`.pairs` turns Japanese terms and English words into :class:`Pair` objects
   (matching, ranking, names as a fallback).  Its :func:`lookup_scan` is the reference:
   English glosses must be normalized before they can be matched, so it normalizes
   every gloss at every call (seconds).
4. :mod:`.derived` builds, once per database file, a derived index of normalized
   glosses in the caller's cache folder (default ``~/.cache/casearch``), and refuses one
   that is cut short, damaged, or built from another database or other code.
5. :mod:`.lookups` holds :func:`lookup`, what callers use: Japanese terms through the
   database's own indexes, English words through the derived index, answers memoized
   per process.  It gives what :func:`lookup_scan` gives, which the tests check.
6. :mod:`.prepare` builds the derived index ahead, telling a person how far it is
   (:func:`prepare_index`: ``casearch prepare``, and a reindex before its look-ups), so
   that the build is not 20-25 silent seconds inside the first look-up.

Imports point one way: ``lookups`` uses ``derived`` and ``pairs``, which both use
``entries``, and ``prepare`` uses ``derived``; all but ``entries`` open the database
through ``database``.  (The look-ups are in ``lookups.py``, not ``lookup.py``: the
function ``jmdict.lookup`` would hide a submodule of that name.)

Nothing here touches the network.  The pairs are meant to be computed at reindex time
and kept as a derived table beside the index, never copied into the repository.
"""

from __future__ import annotations

from .database import (
    DB_NAME,
    PACKAGE,
    XZ_NAME,
    connect,
    database_path,
    decompress,
    resolve_database,
)
from .derived import (
    INDEX_FORMAT,
    INDEX_PREFIX,
    STALE_INDEX_DAYS,
    STALE_TEMP_SECONDS,
    build_index,
    database_identity,
    default_cache_dir,
    index_path,
    open_index,
    prune_indexes,
)
from .entries import (
    gloss_head,
    normalize_en,
    normalize_gloss,
    normalize_ja,
    priority_rank,
    strip_gloss,
)
from .lookups import clear_memo, lookup
from .pairs import PER_TERM, SOURCE_DICTIONARY, SOURCE_NAMES, Pair, lookup_scan
from .prepare import Prepared, prepare_index

__all__ = [
    "DB_NAME",
    "INDEX_FORMAT",
    "INDEX_PREFIX",
    "PACKAGE",
    "PER_TERM",
    "SOURCE_DICTIONARY",
    "SOURCE_NAMES",
    "STALE_INDEX_DAYS",
    "STALE_TEMP_SECONDS",
    "XZ_NAME",
    "Pair",
    "Prepared",
    "build_index",
    "clear_memo",
    "connect",
    "database_identity",
    "database_path",
    "decompress",
    "default_cache_dir",
    "gloss_head",
    "index_path",
    "lookup",
    "lookup_scan",
    "normalize_en",
    "normalize_gloss",
    "normalize_ja",
    "open_index",
    "prepare_index",
    "priority_rank",
    "prune_indexes",
    "resolve_database",
    "strip_gloss",
]
