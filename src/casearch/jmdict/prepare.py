"""The one-time build of the derived index, told to a person: :func:`prepare_index`.

:func:`.lookups.lookup` builds the derived index on first use, silently: it is a
library call, and answering is all it promises.  That first use is a reindex, and a
build takes 20-25 s, so a first ``casearch reindex`` of two documents looked stuck.
:func:`prepare_index` is the same build, done ahead and aloud: ``casearch prepare`` (run
by ``make`` during installs) and a reindex that is about to look English words up call
it, so the build is either paid before the first reindex or shown while it runs::

    building the dictionary look-up index, one time, about 24 s, into ~/.cache/casearch
    building the dictionary look-up index, one time, about 25 s: 10 %
    ...
    dictionary look-up index built in 23.9 s: ~/.cache/casearch/jmdict-index-v1-....sqlite (38.1 MB)

It shares :mod:`.derived`'s lock and its record of failed builds with the look-ups, so
a failure here is not tried again, silently, by the first look-up.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .derived import (
    _BUILD_LOCK,
    _UNBUILDABLE,
    build_index,
    default_cache_dir,
    index_path,
    open_index,
)

#: What a build took on a 2-core machine (jamdict-data 1.5: 24 s at load 1, 20-38 s as
#: the load went): the estimate said before the first tenth is done.
EXPECTED_SECONDS = 24
REPORT_EVERY = 0.1  # a progress line per tenth of the build

BUILDING = "building the dictionary look-up index, one time"


@dataclass(frozen=True)
class Prepared:
    """Where the derived index is, and whether this call built it."""

    path: Path
    built: bool  # False: it was already there
    seconds: float  # the build's time (0 when already there)
    size: int  # bytes

    def summary(self) -> str:
        mb = f"{self.size / 1e6:.1f} MB"
        if self.built:
            return f"dictionary look-up index built in {self.seconds:.1f} s: {self.path} ({mb})"
        return f"dictionary look-up index already there: {self.path} ({mb})"


def prepare_index(
    db: Path,
    cache_dir: Path | None = None,
    say: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Prepared:
    """The derived index of ``db`` in ``cache_dir`` (default :func:`default_cache_dir`,
    where :func:`.lookups.lookup` looks), built first when missing, stale or damaged.

    While it builds, ``say`` is told the estimate and the folder, then each tenth done
    (with the estimate recomputed from the pace so far); the caller says the result
    (:meth:`Prepared.summary`).
    Raises ``OSError`` or ``sqlite3.Error`` when it cannot be built (the look-ups then
    scan the dictionary instead, as they do without an index).
    """
    tell = say or (lambda message: None)
    cache = default_cache_dir() if cache_dir is None else cache_dir
    target = index_path(db, cache)
    if _whole(target, db):
        return Prepared(target, False, 0.0, target.stat().st_size)
    with _BUILD_LOCK:
        if _whole(target, db):  # another thread of this process just built it
            return Prepared(target, False, 0.0, target.stat().st_size)
        tell(f"{BUILDING}, about {EXPECTED_SECONDS} s, into {cache}")
        began = clock()
        try:
            build_index(db, target, _Tenths(tell, began, clock))
        except (OSError, sqlite3.Error):
            _UNBUILDABLE.add(target)
            raise
        _UNBUILDABLE.discard(target)
    return Prepared(target, True, clock() - began, target.stat().st_size)


def _whole(target: Path, db: Path) -> bool:
    con = open_index(target, db)
    if con is None:
        return False
    con.close()
    return True


class _Tenths:
    """A :data:`.derived.BuildProgress` that says a line each time a tenth is passed."""

    def __init__(self, say: Callable[[str], None], began: float, clock: Callable[[], float]) -> None:
        self.say = say
        self.began = began
        self.clock = clock
        self.said = 0  # tenths already said

    def __call__(self, share: float) -> None:
        tenths = int(share / REPORT_EVERY + 1e-9)
        if tenths <= self.said or share >= 1.0:  # the end is the caller's summary
            return
        self.said = tenths
        elapsed = self.clock() - self.began
        expected = elapsed / share if share > 0 else EXPECTED_SECONDS
        self.say(f"{BUILDING}, about {expected:.0f} s: {tenths * 10} %")
