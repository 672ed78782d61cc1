"""Engines: where passages are indexed and matched. One analysis, two engines.

    records (dicts: stored fields + the text of each searchable field)
        -> Backend.create / Backend.update  -> Writer.add / delete_document / commit
    querytree.Node
        -> Backend.open(path) -> Reader.rank / by_date / count / stored / records ...

Everything a user sees is built above this seam (``search``, ``snippets``, ``suggest``):
marks and snippets come from token offsets stored with each passage at index time, the
bridge from stored records, so both engines share one code path. An engine only indexes
token streams, matches the tree, scores (BM25 in both) and stores fields.

    whoosh    pure Python (whoosh-reloaded), the default
    tantivy   Rust (PyPI ``tantivy``), the extra ``casearch[tantivy]``; much faster

The index folder's ``CURRENT`` file records which engine built the serving generation.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from ..errors import EngineUnavailable

if TYPE_CHECKING:
    from .base import Backend

ENGINES = ("whoosh", "tantivy")
DEFAULT_ENGINE = "whoosh"


def check_name(name: str) -> str:
    if name not in ENGINES:
        raise EngineUnavailable(f"Unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    return name


def available(name: str) -> bool:
    """Whether the engine's library is installed (nothing is imported)."""
    return name == "whoosh" or (name == "tantivy" and importlib.util.find_spec("tantivy") is not None)


def backend(name: str) -> "Backend":
    """The engine called ``name``; EngineUnavailable when it is unknown or not installed."""
    check_name(name)
    if name == "whoosh":
        from .whoosh_engine import WhooshBackend

        return WhooshBackend()
    if not available("tantivy"):
        raise EngineUnavailable("The tantivy engine is not installed")
    from .tantivy_engine import TantivyBackend

    return TantivyBackend()
