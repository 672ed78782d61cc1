"""Settings: one table of (name, default, help) feeds the defaults, the CLI and the docs.

Every setting can be overridden by an environment variable ``CASEARCH_<NAME>``; nothing
else in the package reads ``os.environ`` (the CLI passes its options in explicitly).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("CORPUS", "corpus", "Folder of documents to index."),
    Setting("INDEX", "index", "Folder holding the index (generated)."),
    Setting("ENGINE", "whoosh", "Search engine: whoosh (default) or tantivy (pip install 'casearch[tantivy]')."),
    Setting("MAX_FILE_BYTES", str(20 * 1024 * 1024), "Corpus files larger than this are skipped."),
    Setting("PHASE_PAUSE", "", "Tests only: reindex prints 'phase: NAME' to stderr and sleeps this many seconds at each writer phase."),
)

_DEFAULTS = {s.name: s.default for s in SETTINGS}


def get(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Value of a setting: ``CASEARCH_<name>`` from the environment, else the default."""
    env = os.environ if environ is None else environ
    return env.get(f"CASEARCH_{name}") or _DEFAULTS[name]


def corpus_dir(environ: Mapping[str, str] | None = None) -> Path:
    return Path(get("CORPUS", environ))


def index_dir(environ: Mapping[str, str] | None = None) -> Path:
    return Path(get("INDEX", environ))


def max_file_bytes(environ: Mapping[str, str] | None = None) -> int:
    value = get("MAX_FILE_BYTES", environ)
    if not value.strip().isdigit() or int(value) < 1:
        from .errors import ConfigError

        raise ConfigError(f"CASEARCH_MAX_FILE_BYTES must be a whole number of bytes, not {value!r}")
    return int(value)


def phase_pause(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds to pause at each reindex phase (crash tests), or None when unset."""
    value = get("PHASE_PAUSE", environ)
    try:
        return float(value) if value else None
    except ValueError:
        from .errors import ConfigError

        raise ConfigError(f"CASEARCH_PHASE_PAUSE must be a number of seconds, not {value!r}") from None


def engine(environ: Mapping[str, str] | None = None) -> str:
    """The engine named by CASEARCH_ENGINE (default whoosh)."""
    from .engines import ENGINES

    value = get("ENGINE", environ).strip().lower()
    if value not in ENGINES:
        from .errors import ConfigError

        raise ConfigError(f"CASEARCH_ENGINE must be one of {', '.join(ENGINES)}, not {value!r}")
    return value
