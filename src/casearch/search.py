"""Search: validated request -> Whoosh query -> ranked passages -> hits with snippets.

    validate_request   the contract's parameter rules (q, lang, page, per_page)
    Engine.search      querylang.parse -> Whoosh search (BM25F; title and heading weigh
                       more; language filter) -> order by score, then doc_id, section ->
                       the requested page -> snippets from stored offsets
    Engine.document    a whole document's sections, optionally highlighted for a query

The engine keeps no searcher between calls: each call opens one (about a millisecond),
uses it, and closes it, so a commit by a concurrent reindex is seen by the next call and
no searcher is ever shared between threads. Results are plain dataclasses; the web page,
the JSON endpoint and the CLI all render the same ``SearchResult``.
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import quote

from whoosh import query as wq
from whoosh.collectors import FilterCollector, TimeLimit, WrappingCollector
from whoosh.sorting import FieldFacet, MultiFacet, ScoreFacet

from . import analysis
from . import index as index_mod
from .errors import IndexUnusable, QueryError
from .bridge import Bridge, Pair
from .querylang import MAX_PREFIX_TERMS, ParsedQuery, Unit, parse
from .records import DOC_KIND, GLOSSARY_KIND, PASSAGE_KIND
from .snippets import highlight, make_snippet, match_spans, unit_spans

MAX_QUERY_CHARS = 500
MAX_PAGE = 1000
MAX_PER_PAGE = 50
LANGS = ("all", "ja", "en")
SORTS = ("relevance", "date")
SEARCH_SECONDS = 1.0
TRANSLATION_SEEDS = 20  # best direct passages whose translations join the results
TRANSLATION_BOOST = 0.05
_DIGITS = re.compile(r"[0-9]{1,7}")


@dataclass(frozen=True)
class SearchRequest:
    q: str
    lang: str = "all"
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    cross: bool = True


@dataclass
class Hit:
    doc_id: str
    title: str
    lang: str
    section: str | None
    url: str
    score: float
    snippet: str
    matched: list[dict[str, str]] = field(default_factory=list)
    counterpart: dict[str, str | None] | None = None
    date: str | None = None
    source: str | None = None
    section_no: int = field(default=1, repr=False)


@dataclass
class SearchResult:
    query: str
    lang: str
    page: int
    per_page: int
    total: int
    took_ms: float
    hits: list[Hit]
    suggestion: str | None = None
    hint: str | None = None
    sort: str = "relevance"
    facets: dict[str, int] = field(default_factory=dict)  # matching passages per language

    def to_json(self) -> dict:
        data = asdict(self)
        for hit in data["hits"]:
            hit.pop("section_no", None)
        return data


@dataclass
class DocumentSection:
    number: int
    heading: str | None
    heading_html: str | None
    paragraphs_html: list[str]


@dataclass
class DocumentView:
    doc_id: str
    title: str
    title_html: str
    lang: str
    source: str | None
    url: str | None
    date: str | None
    translations: list[str]
    sections: list[DocumentSection]


def validate_request(params: Mapping[str, str]) -> SearchRequest:
    """The contract's parameter rules; raises QueryError naming the bad parameter."""
    raw_q = params.get("q")
    if raw_q is None:
        raise QueryError("q is required", param="q")
    q = raw_q.strip()
    if not q:
        raise QueryError("q must not be empty", param="q")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"q must be at most {MAX_QUERY_CHARS} characters", param="q")
    lang = params.get("lang") or "all"
    if lang not in LANGS:
        raise QueryError("lang must be one of all, ja, en", param="lang")
    page = _int_param(params, "page", 1, 1, MAX_PAGE)
    per_page = _int_param(params, "per_page", 10, 1, MAX_PER_PAGE)
    sort = params.get("sort") or "relevance"
    if sort not in SORTS:
        raise QueryError("sort must be relevance or date", param="sort")
    cross = params.get("cross") or "1"
    if cross not in ("0", "1"):
        raise QueryError("cross must be 0 or 1", param="cross")
    return SearchRequest(q, lang, page, per_page, sort, cross == "1")


def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise QueryError(f"{name} must be an integer from {low} to {high}", param=name)
    return int(raw)


def doc_url(doc_id: str, section_no: int | None = None) -> str:
    """``/doc/<id>#sN`` with non-ASCII characters percent-encoded."""
    url = "/doc/" + quote(doc_id, safe="/")
    return f"{url}#s{section_no}" if section_no else url


class Engine:
    """Search over the index folder; safe to share between threads."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._opened: tuple | None = None
        self._bridge: tuple | None = None

    def _index(self):
        """The Whoosh index of the serving generation, reopened after a full rebuild."""
        current = index_mod.read_current(self.index_dir)
        with self._lock:
            if self._opened is None or current is None or self._opened[0] != current.get("name"):
                ix, name = index_mod.open_index(self.index_dir)
                self._opened = (name, ix, index_mod.user_dictionary_path(self.index_dir / name))
            return self._opened

    @contextmanager
    def searcher(self) -> Iterator:
        """A fresh searcher of the serving generation, analyzing with its user dictionary."""
        try:
            name, ix, compiled = self._index()
            searcher = ix.searcher()
            searcher.casearch_generation = name
        except (IndexUnusable, index_mod.IndexMissing):
            raise
        except Exception as exc:  # a generation deleted or damaged under us
            with self._lock:
                self._opened = None
            raise IndexUnusable(f"Index at {self.index_dir} cannot be read: {exc}") from exc
        try:
            with analysis.user_dictionary(compiled):
                yield searcher
        finally:
            searcher.close()

    def stats(self) -> dict[str, int]:
        with self.searcher() as searcher:
            return {
                "documents": searcher.doc_frequency("kind", DOC_KIND),
                "passages": searcher.doc_frequency("kind", PASSAGE_KIND),
            }

    def bridge(self, searcher) -> Bridge:
        """The cross-lingual bridge of the generation this searcher reads (cached)."""
        key = (getattr(searcher, "casearch_generation", None), searcher.reader().generation())
        with self._lock:
            if self._bridge is not None and self._bridge[0] == key:
                return self._bridge[1]
        built = load_bridge(searcher)
        with self._lock:
            self._bridge = (key, built)
        return built

    def search(self, request: SearchRequest) -> SearchResult:
        began = time.perf_counter()
        with self.searcher() as searcher:
            bridge = self.bridge(searcher) if request.cross else None
            parsed = parse(request.q, IndexVocabulary(searcher), bridge)
            translated = _add_translations(searcher, parsed) if request.cross else set()
            hits, total = self._run(searcher, parsed, request, translated)
            facets = _facets(searcher, parsed)
        took = round((time.perf_counter() - began) * 1000, 2)
        return SearchResult(
            request.q, request.lang, request.page, request.per_page, total, took, hits,
            hint=_hint(parsed, total), sort=request.sort, facets=facets,
        )

    def _run(
        self, searcher, parsed: ParsedQuery, request: SearchRequest, translated: set[str]
    ) -> tuple[list[Hit], int]:
        if parsed.query is None:
            return [], 0
        lang_filter = None if request.lang == "all" else wq.Term("lang", request.lang)
        keys = [ScoreFacet(), FieldFacet("doc_id"), FieldFacet("section_no")]
        if request.sort == "date":  # newest first; undated ("") sorts last
            keys.insert(0, FieldFacet("date", reverse=True))
        order = MultiFacet(keys)
        results = _timed_search(
            searcher, parsed.query, limit=request.page * request.per_page, filter=lang_filter,
            sortedby=order,
        )
        total = len(results)
        first = (request.page - 1) * request.per_page
        hits = [
            self._hit(searcher, parsed, docnum, -key[1 if request.sort == "date" else 0], translated)
            for key, docnum in results.top_n[first : first + request.per_page]
        ]
        return hits, total

    def _hit(self, searcher, parsed: ParsedQuery, docnum: int, score: float, translated: set[str]) -> Hit:
        stored = searcher.stored_fields(docnum)
        spans = match_spans(searcher, docnum, "body", parsed.units)
        matched = [m for unit in parsed.units if (m := _explain(searcher, docnum, unit))]
        if not matched and stored["pid"] in translated:
            matched = [{"term": " ".join(u.label for u in parsed.units), "via": "translation"}]
        return Hit(
            doc_id=stored["doc_id"], title=stored["title"], lang=stored["lang"],
            section=stored["section"] or None,
            url=doc_url(stored["doc_id"], stored["section_no"]),
            score=round(score, 4), snippet=make_snippet(stored["body"], spans), matched=matched,
            counterpart=_counterpart(searcher, stored),
            date=stored.get("date") or None, source=(stored.get("meta") or {}).get("source"),
            section_no=stored["section_no"],
        )

    def document(self, doc_id: str, q: str | None = None) -> DocumentView | None:
        """The whole document (None when unknown); query terms highlighted when q given."""
        with self.searcher() as searcher:
            docnums = sorted(
                searcher.document_numbers(doc_id=doc_id, kind=PASSAGE_KIND),
                key=lambda n: (searcher.stored_fields(n)["section_no"], searcher.stored_fields(n)["part"]),
            )
            if not docnums:
                return None
            units = parse(q, IndexVocabulary(searcher), self.bridge(searcher)).units if q else []
            return _document_view(searcher, docnums, units)


def _document_view(searcher, docnums: list[int], units) -> DocumentView:
    first = searcher.stored_fields(docnums[0])
    meta = first.get("meta") or {}
    sections: dict[int, DocumentSection] = {}
    for docnum in docnums:
        stored = searcher.stored_fields(docnum)
        number = stored["section_no"]
        if number not in sections:
            heading = stored["section"] or None
            heading_html = highlight(heading, match_spans(searcher, docnum, "section", units)) if heading else None
            sections[number] = DocumentSection(number, heading, heading_html, [])
        sections[number].paragraphs_html += _paragraphs_html(
            stored["body"], match_spans(searcher, docnum, "body", units)
        )
    title_html = highlight(first["title"], match_spans(searcher, docnums[0], "title", units))
    return DocumentView(
        first["doc_id"], first["title"], title_html, first["lang"], meta.get("source"),
        meta.get("url"), first.get("date") or None, list(meta.get("translations") or []),
        [sections[n] for n in sorted(sections)],
    )


def _paragraphs_html(text: str, spans) -> list[str]:
    """Highlighted HTML per paragraph (blank-line separated) of a passage."""
    out: list[str] = []
    for match in re.finditer(r"(?:[^\n]|\n(?!\s*\n))+", text):
        a, b = match.span()
        inside = [(max(s, a), min(e, b)) for s, e in spans if s < b and e > a]
        html = highlight(text, inside, a, b)
        if html:
            out.append(html)
    return out


def _counterpart(searcher, stored: dict) -> dict[str, str | None] | None:
    """The same section in the document's translation, when there is one."""
    for other in (stored.get("meta") or {}).get("translations") or []:
        found = searcher.document(pid=f"{other}#s{stored['section_no']}p1")
        if found:
            return {"doc_id": other, "section": found["section"] or None, "url": doc_url(other, found["section_no"])}
    return None


def _add_translations(searcher, parsed: ParsedQuery) -> set[str]:
    """Aligned translations as one more bridge: the counterparts of the best matching
    passages join the query at a low weight. Returns the passage ids added."""
    if parsed.query is None:
        return set()
    seeds = _timed_search(searcher, parsed.query, limit=TRANSLATION_SEEDS)
    matched = {hit["pid"] for hit in seeds}
    added: set[str] = set()
    for hit in seeds:
        for other in (hit.get("meta") or {}).get("translations") or []:
            pid = f"{other}#s{hit['section_no']}p1"
            if pid not in matched:
                added.add(pid)
    if added:
        parsed.query = wq.Or([parsed.query, *(wq.Term("pid", pid, boost=TRANSLATION_BOOST) for pid in sorted(added))])
    return added


def load_bridge(searcher) -> Bridge:
    """All pairs stored in the index: per document, and the glossary's."""
    pairs = []
    for kind in (DOC_KIND, GLOSSARY_KIND):
        for fields in searcher.documents(kind=kind):
            pairs += [Pair.from_stored(row) for row in (fields.get("meta") or {}).get("pairs", [])]
    return Bridge(pairs)


VIA_PREFERENCE = ("surface", "base", "gloss", "dictionary", "corpus", "glossary", "translation", "reading")


def _explain(searcher, docnum: int, unit: Unit) -> dict[str, str] | None:
    """How one query part matched this passage: the most direct ``via`` that holds."""
    vias: set[str] = set()
    for stored in ("body", "title", "section"):
        vias |= set(unit_spans(searcher, docnum, stored, unit))
    for via in VIA_PREFERENCE:
        if via in vias:
            return {"term": unit.label, "via": via}
    return None


class _DeadlineCollector(WrappingCollector):
    """Raises TimeLimit once the clock passes the deadline.

    Whoosh's own TimeLimitCollector uses an alarm outside worker threads only, and it
    replaces the filter collector's loop (a language filter would be ignored), so this
    one checks the clock in ``collect`` and sits inside the filter collector.
    """

    def __init__(self, child, seconds: float) -> None:
        super().__init__(child)
        self.deadline = time.monotonic() + seconds
        self.seen = 0

    def collect_matches(self) -> None:
        for sub_docnum in self.matches():
            self.collect(sub_docnum)

    def collect(self, sub_docnum: int):
        self.seen += 1
        if not self.seen % 128 and time.monotonic() > self.deadline:
            raise TimeLimit
        return self.child.collect(sub_docnum)


def _timed_search(searcher, query, filter=None, **options):
    """``searcher.search`` that gives up after ``SEARCH_SECONDS`` with query_too_complex."""
    collector = _DeadlineCollector(searcher.collector(**options), SEARCH_SECONDS)
    if filter is not None:
        collector = FilterCollector(collector, allow=filter)
    try:
        searcher.search_with_collector(query, collector)
    except TimeLimit:
        raise QueryError(
            f"The query took more than {SEARCH_SECONDS:g} s; make it more specific",
            param="q", code="query_too_complex",
        ) from None
    return collector.results()


def _facets(searcher, parsed: ParsedQuery) -> dict[str, int]:
    """Matching passages per language, whatever the language filter."""
    counts = {"all": 0, "ja": 0, "en": 0}
    if parsed.query is None:
        return counts
    results = _timed_search(searcher, parsed.query, limit=1, groupedby="lang")
    for lang, docnums in results.groups("lang").items():
        counts[lang] = len(docnums)
        counts["all"] += len(docnums)
    return counts


class IndexVocabulary:
    """The parser's view of the index lexicon (``querylang.Vocabulary``)."""

    def __init__(self, searcher) -> None:
        self.reader = searcher.reader()

    def expand_prefix(self, fieldname: str, prefix: str) -> list[str]:
        terms: list[str] = []
        for term in self.reader.expand_prefix(fieldname, prefix):
            terms.append(term.decode("utf-8") if isinstance(term, bytes) else term)
            if len(terms) > MAX_PREFIX_TERMS:
                break
        return terms

    def has_term(self, fieldname: str, term: str) -> bool:
        return (fieldname, term) in self.reader


def _hint(parsed: ParsedQuery, total: int) -> str | None:
    if parsed.stop_only and parsed.query is None:
        words = "、".join(parsed.stop_only)
        return (
            f"「{words}」 only holds particles or common words, which are not searched on "
            "their own. Add a content word, or quote a whole phrase."
        )
    if parsed.dropped_terms:
        return f"The query was long: {parsed.dropped_terms} of its terms were left out."
    return None
