"""The derived gloss index: English -> Japanese without normalizing every gloss per call.

English -> Japanese needs every gloss normalized before it can be matched, which the
scan (:func:`.pairs.lookup_scan`) does at every call.  The derived index does it once
per jamdict database file (20-25 s on 2 cores, more under load; 38 MB):
:func:`build_index` writes it into the caller's ``cache_dir`` (default
:func:`default_cache_dir`, ``~/.cache/casearch``; this package reads no environment),
:func:`open_index` accepts it only when it is whole and was built from the database as
it is now, and :func:`_index` builds it when missing, stale, cut short or damaged.  The
index holds, in B-trees keyed by the gloss:

``gloss(key, gid, full, proper, qualified, form, bucket, nf, tags, position, idseq)``
    one row per gloss of the *first usable sense* (SKIP_MISC_EN) of a JMdict entry that
    has a written form for it -- the only glosses the scan can turn into pairs -- under
    its normalized text and, for a list-like gloss, also under its head phrase.  The
    columns are everything :func:`.pairs._found` needs except ``head_only``, which
    depends on the words of the call.  ``gid`` numbers glosses in entry, sense and gloss
    order.
``name(word, idseq)``
    JMnedict entries by normalized gloss (only words of MIN_NAME_WORD letters or more:
    shorter ones are never looked up as names).  The entries are read from the jamdict
    database at lookup time (:func:`.entries.load_names`), as the scan does.
``meta(key, value)``
    ``format`` (INDEX_FORMAT), ``code`` (CODE_FINGERPRINT: the ranking facts were
    computed by this code as it was, see :func:`_code_fingerprint`), ``identity`` of the
    jamdict file (size and mtime, which are also in the index's name), the data versions
    of its own ``meta`` table, and ``complete``, written last.

The file is built in a temporary file of the cache folder and renamed over the final
name (``os.replace``): readers see a whole index or none, and two processes building at
once each write their own temporary file (the last rename wins, both are whole).
A build tells an optional ``progress`` callback how far it is (a fraction), and removes
the indexes of the folder that nobody has used for STALE_INDEX_DAYS
(:func:`prune_indexes`).  Japanese -> English already uses the database's own indexes
and is not copied.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from . import entries
from .database import connect
from .entries import (
    CHUNK,
    MIN_NAME_WORD,
    SKIP_MISC_EN,
    Rank,
    _chunks,
    _listed,
    gloss_flags,
    gloss_head,
    load_entries,
    normalize_gloss,
    written_form,
)

INDEX_FORMAT = 1  # bump whenever the derived index's layout or meaning changes
INDEX_PREFIX = "jmdict-index"
STALE_TEMP_SECONDS = 3600  # temporary files older than this are left-overs of a crash
STALE_INDEX_DAYS = 7  # an index of the cache folder unused this long is removed by a build
_GLOSS_SHARE = 0.75  # measured: the gloss table takes about 3/4 of a build, the names the rest

#: Told the share of the build done so far, from 0 to 1 (1.0 once, at the end).
BuildProgress = Callable[[float], None]

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
    """A row of the derived ``gloss`` table (see the module docstring)."""

    key: str
    gid: int
    full: str
    proper: bool
    qualified: bool
    form: str
    rank: Rank
    position: int
    idseq: int


#: The code that computes the index's rows: the normalization, ranking and entry reading
#: of :mod:`.entries`, and the writer in this module.  The look-ups only read rows back,
#: so editing them needs no new index.
_FORMAT_SOURCES = (Path(entries.__file__), Path(__file__))


def _code_fingerprint() -> str:
    """The source of :data:`_FORMAT_SOURCES`, hashed: the index holds ranking facts
    computed by this code, so any edit to it gets a new index rather than silently stale
    answers."""
    digest = hashlib.sha256()
    try:
        for source in _FORMAT_SOURCES:
            digest.update(source.read_bytes())
    except OSError:
        return "unknown"
    return digest.hexdigest()[:16]


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


def build_index(db: Path, target: Path, progress: BuildProgress | None = None) -> None:
    """Build the derived index of ``db`` into ``target``: temporary file, then rename.

    ``progress`` is told the share done after each chunk of entries (about a hundred
    calls, the last with 1.0 once the index is in place).  Left-overs are cleared from
    the folder first: crashed builds' temporary files and unused indexes
    (:func:`prune_indexes`).
    """
    report = progress or (lambda share: None)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_files(target.parent)
    prune_indexes(target.parent, keep=target)
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
                glosses = _write_glosses(src, out, lambda share: report(_GLOSS_SHARE * share))
                names = _write_names(src, out, lambda share: report(_GLOSS_SHARE + (1 - _GLOSS_SHARE) * share))
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
    report(1.0)


def _write_glosses(src: sqlite3.Connection, out: sqlite3.Connection, progress: BuildProgress) -> int:
    """The ``gloss`` table: entries are read in idseq order, a chunk at a time.

    ``full`` is both what the scan matches (:func:`normalize_gloss`) and what it derives
    the hit from (:func:`strip_gloss`, lower-cased): the two are equal by definition.
    Rows go through a temporary table so that the index is written in key order.
    """
    out.execute("CREATE TEMP TABLE gloss_rows AS SELECT * FROM gloss WHERE 0")
    ids = [i for (i,) in src.execute("SELECT DISTINCT idseq FROM Sense ORDER BY idseq")]
    gid = 0
    for done, chunk in enumerate(_chunks(ids, 4 * CHUNK), start=1):
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
        progress(0.9 * min(done * 4 * CHUNK / len(ids), 1.0))  # the sort below: the last 10 %
    out.execute("INSERT INTO gloss SELECT * FROM gloss_rows ORDER BY key, gid")
    progress(1.0)
    out.execute("DROP TABLE gloss_rows")
    return gid


def _write_names(src: sqlite3.Connection, out: sqlite3.Connection, progress: BuildProgress) -> int:
    """The ``name`` table: JMnedict entries by normalized English gloss."""
    out.execute("CREATE TEMP TABLE name_rows (word TEXT, idseq INTEGER)")
    (total,) = src.execute("SELECT count(*) FROM NETransGloss").fetchone()
    read = 0
    sql = (
        "SELECT t.idseq, g.text FROM NETranslation t JOIN NETransGloss g ON g.tid = t.ID"
        " WHERE +g.lang = 'eng'"
    )
    cursor = src.execute(sql)
    while rows := cursor.fetchmany(50_000):
        words = [(normalize_gloss(text), idseq) for idseq, text in rows]
        words = [w for w in words if len(w[0]) >= MIN_NAME_WORD]
        out.executemany("INSERT INTO name_rows VALUES (?, ?)", words)
        read += len(rows)
        progress(0.8 * min(read / total, 1.0))  # the sort below: the last 20 %
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


def prune_indexes(folder: Path, keep: Path, max_age_days: float = STALE_INDEX_DAYS) -> list[Path]:
    """Remove the derived indexes of ``folder`` other than ``keep`` that nobody has used
    for ``max_age_days``; the paths removed.

    An index is named by the format, the code fingerprint and the database's size and
    mtime, so a new virtual environment (jamdict-data installed again), a new jamdict-data
    or any edit of the code that computes the rows gets a new file -- 38 MB each -- and
    nothing else ever deletes the old one.  One cache folder serves every checkout and
    environment of the machine, so an index is removed only once unused: its mtime is
    set when it is built and renewed when a process first opens it (:func:`_mark_used`),
    so one still in use elsewhere is kept (or, at worst, built again there).  Files
    that are not derived indexes (a decompressed database, anything else) are left
    alone; temporary files have their own rule (STALE_TEMP_SECONDS).
    """
    removed = []
    cutoff = time.time() - max_age_days * 86400
    for path in folder.glob(f"{INDEX_PREFIX}-v*.sqlite"):
        if path.name == keep.name:
            continue
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            pass  # another process removed it, or the folder is read-only: not ours to fix
    return removed


_MARKED: set[Path] = set()  # indexes whose mtime this process has renewed


def _mark_used(path: Path) -> None:
    """Renew the mtime of an index the first time this process opens it: the age
    :func:`prune_indexes` judges by is the time since it was last used."""
    if path in _MARKED:
        return
    _MARKED.add(path)
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only cache: it is then never pruned by us either


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
    if con is not None:
        _mark_used(target)
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
