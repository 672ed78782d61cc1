"""Exceptions the library raises; the CLI and the web layer turn them into messages."""

from __future__ import annotations


class CasearchError(Exception):
    """Base class: a problem the user can fix, with a hint saying how."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint


class CorpusError(CasearchError):
    """A corpus file that cannot be indexed (the reason is the message)."""


class ConfigError(CasearchError):
    """A setting (environment variable) with an unusable value."""

    hint = "Fix or unset the variable."


class CorpusMissing(CasearchError):
    hint = "Create the folder and put .md or .txt files in it, or pass --corpus DIR."


class IndexMissing(CasearchError):
    hint = "Run: casearch reindex"


class IndexUnusable(CasearchError):
    hint = "Rebuild it with: casearch reindex --full"


class IndexLocked(CasearchError):
    hint = "Another reindex is running; wait for it to finish."


class QueryError(CasearchError):
    """Invalid search input; ``code`` and ``param`` follow the contract's error shape."""

    def __init__(self, message: str, param: str = "q", code: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class EngineUnavailable(CasearchError):
    """The chosen search engine cannot be used here (tantivy not installed, unknown name)."""

    hint = "Install it with: pip install 'casearch[tantivy]', or use --engine whoosh."


class EngineMismatch(IndexUnusable):
    """The index was built by another engine than the one asked for."""
