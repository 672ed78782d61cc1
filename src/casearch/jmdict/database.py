"""Finding the JMdict database that the optional ``jamdict-data`` package ships.

``jamdict-data`` (PyPI; data CC BY-SA, EDRDG) ships JMdict (words), JMnedict (names) and
KANJIDIC2 as one SQLite file.  Release 1.5 is an sdist holding
``jamdict_data/jamdict.db.xz`` (54 MB); building its wheel decompresses it, so an
installed package normally holds ``jamdict_data/jamdict.db`` (325 MB).
:func:`database_path` finds the package folder without importing it and returns that
file.  If an install only has the ``.xz``, it is decompressed once into the caller's
``cache_dir`` (streamed to a temporary file, then ``os.replace``, so an interrupted run
never leaves a half-written database).  Without ``jamdict-data`` it returns ``None`` and
the caller skips the feature.  :func:`connect` is how every other module opens the file:
read-only.
"""

from __future__ import annotations

import importlib.util
import lzma
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

PACKAGE = "jamdict_data"
DB_NAME = "jamdict.db"
XZ_NAME = "jamdict.db.xz"


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
