"""What the index sees: the tokens of a text, and what each word of a query becomes.
``casearch analyze`` and ``GET /api/analyze`` both answer from here.

    token_rows        text -> analysis.analyze (with the user dictionary in force) -> the
                      contract's rows: surface (text[start:end]), start, end, term, base,
                      reading, pos, indexed, stop
    query_words       q -> querylang.parse with the index's vocabulary, bridge and user
                      synonyms, as the search parses it -> per query word: its lemma (the
                      base forms searched), surface forms, reading, the counterparts with
                      their source, and every alternative (field, terms, via, boost)
    user_dictionary   which compiled user dictionary ``casearch analyze`` reads with: an
                      index's (--index), else the corpus's _userdict.csv compiled for the
                      run, else the default index's; ``/api/analyze`` uses the serving one

Analysis reads the user dictionary through ``analysis.user_dictionary``; ``Engine.reader()``
sets the serving generation's, so the HTTP view is exactly what that index was built with.
"""

from __future__ import annotations

import tempfile
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from . import analysis, userdict
from .corpus import read_reserved
from .errors import CasearchError, CorpusError, IndexUnusable, QueryError
from .index import read_current_or_none, user_dictionary_path
from .querylang import Alternative, Unit, parse
from .search import Engine, SearchRequest

MAX_TEXT_CHARS = 2000  # about one passage
ANALYZE_LANGS = ("ja", "en")


def token_rows(text: str) -> list[dict[str, Any]]:
    """Every token of ``text`` as the index sees it (dropped symbols included)."""
    return [
        {"surface": t.surface, "start": t.start, "end": t.end, "term": t.term, "base": t.base,
         "reading": t.reading, "pos": t.pos, "indexed": t.indexed, "stop": t.stop}
        for t in analysis.analyze(text)
    ]


# --- HTTP parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyzeRequest:
    text: str | None  # analyze this text
    query: SearchRequest | None  # or this query (tokens and expansion)


def validate_analyze(params: Any) -> AnalyzeRequest:
    """``text`` (1 to MAX_TEXT_CHARS characters, not only whitespace) or ``q`` (as for a
    search, with ``lang`` all|ja|en and ``cross``); one of them, not both."""
    text, q = params.get("text"), params.get("q")
    if text is None and q is None:
        raise QueryError("text (a text to analyze) or q (a query to expand) is required", param="text")
    if text is not None and q is not None:
        raise QueryError("give text or q, not both", param="text")
    if q is not None:
        return AnalyzeRequest(None, _query_request(params))
    if not text.strip():
        raise QueryError("text must not be empty", param="text")
    if len(text) > MAX_TEXT_CHARS:
        raise QueryError(f"text must be at most {MAX_TEXT_CHARS} characters", param="text")
    lang = params.get("lang") or "ja"
    if lang not in ANALYZE_LANGS:
        raise QueryError("lang must be ja or en (one analyzer reads both)", param="lang")
    return AnalyzeRequest(text, None)


def _query_request(params: Any) -> SearchRequest:
    from .search import validate_request

    return validate_request({"q": params.get("q"), "lang": params.get("lang") or "all",
                             "cross": params.get("cross") or "1"})


def analyze_json(engine: Engine, request: AnalyzeRequest) -> dict[str, Any]:
    """The /api/analyze body: ``{"tokens"}`` for a text; for a query also ``query`` and
    ``words`` (what each word became) and ``stop_only`` (words searched for nothing)."""
    try:
        return _analyze_json(engine, request)
    except CasearchError:
        raise
    except Exception as exc:  # an engine's own error on a damaged index, as the search reports it
        raise IndexUnusable(f"Index at {engine.index_dir} cannot be read: {type(exc).__name__}: {exc}") from exc


def _analyze_json(engine: Engine, request: AnalyzeRequest) -> dict[str, Any]:
    with engine.reader() as reader:
        if request.query is None:
            return {"tokens": token_rows(request.text or "")}
        q = request.query
        bridge = engine.bridge(reader) if q.cross else None
        user = engine.synonyms(reader) if q.cross else None
        parsed = parse(q.q, reader, bridge, q.lang, user, english=engine.english_word)
        return {
            "query": q.q, "tokens": token_rows(q.q),
            "words": [word_json(unit) for unit in parsed.units], "stop_only": list(parsed.stop_only),
        }


# --- what a query word became --------------------------------------------------------------


def word_json(unit: Unit) -> dict[str, Any]:
    """One query word: lemma and surface forms searched, its reading, its counterparts."""
    own = [a for a in unit.alternatives if a.counterpart is None]
    return {
        "word": unit.label,
        "lemma": _first_terms(own, "base"),
        "surface": _first_terms(own, "surface"),
        "reading": reading_of(unit.label),
        "counterparts": _counterparts(unit.alternatives),
        "alternatives": [_alternative_json(a) for a in unit.alternatives],
    }


def _first_terms(alternatives: list[Alternative], via: str) -> list[str] | None:
    found = next((a for a in alternatives if a.via == via), None)
    return list(found.terms) if found else None


def reading_of(word: str) -> str | None:
    """The word's reading in katakana (its content tokens'), or None when a token has
    none (English, unknown words).

    >>> reading_of("天然ガス"), reading_of("pipeline")
    ('テンネンガス', None)
    """
    tokens = [t for t in analysis.analyze(unicodedata.normalize("NFKC", word)) if t.indexed]
    if not tokens or any(t.reading is None for t in tokens):
        return None
    return "".join(t.reading for t in tokens if t.reading)


def _counterparts(alternatives: tuple[Alternative, ...]) -> list[dict[str, Any]]:
    """One entry per counterpart of the word (its fields folded together)."""
    found: dict[int, dict[str, Any]] = {}
    for a in alternatives:
        if a.counterpart is None:
            continue
        entry = found.setdefault(a.counterpart, {"terms": list(a.terms), "source": a.via, "fields": []})
        if a.field not in entry["fields"]:
            entry["fields"].append(a.field)
    return [found[place] for place in sorted(found)]


def _alternative_json(a: Alternative) -> dict[str, Any]:
    return {"field": a.field, "terms": list(a.terms), "via": a.via, "boost": a.boost, "searched": a.searched}


# --- the user dictionary of casearch analyze --------------------------------------------------


@contextmanager
def user_dictionary(corpus_dir: Path, index_dir: Path, explicit_index: bool) -> Iterator[str | None]:
    """Analyze with the dictionary the index sees inside the ``with`` block; yields where
    it came from (a path to show the user), or None for UniDic alone.

    --index given: that index's. Else the corpus's ``_userdict.csv`` when there is one
    (what the next reindex builds with, and what an up-to-date index was built with),
    compiled into a temporary folder; else the default index's.
    """
    if not explicit_index:
        text = _corpus_dictionary(corpus_dir)
        if text is not None:
            entries, _ = userdict.read_entries(text)
            with tempfile.TemporaryDirectory(prefix="casearch-userdict-") as folder:
                compiled = Path(folder) / userdict.COMPILED_NAME
                if entries:
                    userdict.compile_to(entries, compiled)
                with analysis.user_dictionary(compiled if entries else None):
                    yield str(corpus_dir / userdict.FILE_NAME)
            return
    compiled = _index_dictionary(index_dir)
    with analysis.user_dictionary(compiled):
        yield str(compiled) if compiled else None


def _corpus_dictionary(corpus_dir: Path) -> str | None:
    try:
        raw = read_reserved(corpus_dir, userdict.FILE_NAME, 20 << 20)
    except (CorpusError, OSError):
        return None
    return raw.decode("utf-8-sig", errors="replace") if raw is not None else None


def _index_dictionary(index_dir: Path) -> Path | None:
    current = read_current_or_none(index_dir) or {}
    name = current.get("name")
    if not isinstance(name, str) or not name.startswith("gen-") or "/" in name or ".." in name:
        return None
    generation = index_dir / name
    return user_dictionary_path(generation) if generation.is_dir() else None
