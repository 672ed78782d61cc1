"""Search: validated request -> Whoosh query -> ranked passages -> hits with snippets.

    validate_request   the contract's parameter rules (q, lang, page, per_page)
    Engine.search      querylang.parse -> Whoosh search (BM25F; title and heading weigh
                       more; language filter) -> order by score, then doc_id, section ->
                       the requested page -> snippets from stored offsets
    Engine.document    a whole document's sections, optionally highlighted for a query

Each thread keeps its own searcher and opens a new one when a commit or a full rebuild
changed the generation (never ``refresh()``), so a concurrent reindex is seen by the next
call and no searcher is shared between threads. One pass over the postings usually both
ranks and counts the facets (``_rank``). Results are plain dataclasses; the web page, the
JSON endpoint and the CLI all render the same ``SearchResult``.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Mapping
from urllib.parse import quote

from whoosh import query as wq
from whoosh.collectors import TimeLimit, WrappingCollector
from whoosh.sorting import FieldFacet, MultiFacet, ScoreFacet

from . import analysis
from . import index as index_mod
from .errors import CasearchError, IndexUnusable, QueryError
from .bridge import Bridge, Pair
from .querylang import MAX_PREFIX_TERMS, ParsedQuery, Unit, parse
from .records import DOC_KIND, GLOSSARY_KIND, PAIRS_KIND, PASSAGE_KIND
from .snippets import highlight, make_snippet, match_spans, unit_spans

MAX_QUERY_CHARS = 500
MAX_PAGE = 1000
MAX_PER_PAGE = 50
LANGS = ("all", "ja", "en")
SORTS = ("relevance", "date")
SEARCH_SECONDS = 1.0
TRANSLATION_SEEDS = 20  # best direct passages whose translations join the results
TRANSLATION_BOOST = 0.05
EXPANDED_CEILING = 0.999  # an expansion-only hit's score stays below the last direct one
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


@dataclass
class _ThreadSearcher:
    key: tuple
    searcher: object
    compiled: Path | None  # the generation's user dictionary
    depth: int = 0


class Engine:
    """Search over the index folder; safe to share between threads."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._opened: tuple | None = None
        self._bridge: tuple | None = None
        self._local = threading.local()

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
        """This thread's searcher of the serving generation, analyzing with its user
        dictionary. Opening one costs tens of milliseconds on a large index, so each
        thread keeps its own (a searcher must not be shared between threads) and opens a
        new one when a commit or a full rebuild has changed the generation; it never
        calls ``refresh()``. Nested uses in one request share the same searcher."""
        state = getattr(self._local, "state", None)
        if state is not None and state.depth > 0:
            state.depth += 1
            try:
                yield state.searcher
            finally:
                state.depth -= 1
            return
        state = self._thread_state(state)
        state.depth = 1
        try:
            with analysis.user_dictionary(state.compiled):
                yield state.searcher
        finally:
            state.depth = 0
            state.searcher.casearch_occurrences = {}

    def _thread_state(self, state: "_ThreadSearcher | None") -> "_ThreadSearcher":
        try:
            name, ix, compiled = self._index()
            key = (name, ix.latest_generation())
            if state is not None and state.key == key:
                return state
            searcher = ix.searcher()
        except (IndexUnusable, index_mod.IndexMissing):
            raise
        except Exception as exc:  # a generation deleted or damaged under us
            with self._lock:
                self._opened = None
            raise IndexUnusable(f"Index at {self.index_dir} cannot be read: {exc}") from exc
        if state is not None:
            state.searcher.close()
        searcher.casearch_generation = name
        searcher.casearch_occurrences = {}
        self._local.state = _ThreadSearcher(key, searcher, compiled)
        return self._local.state

    def close(self) -> None:
        """Close this thread's searcher (other threads' close when they are collected)."""
        state = getattr(self._local, "state", None)
        if state is not None:
            state.searcher.close()
            self._local.state = None

    def stats(self) -> dict[str, int]:
        """Documents and passages served (deleted records, kept until a merge, left out)."""
        with self._reading(), self.searcher() as searcher:
            return {
                "documents": sum(1 for _ in searcher.document_numbers(kind=DOC_KIND)),
                "passages": sum(1 for _ in searcher.document_numbers(kind=PASSAGE_KIND)),
            }

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Whoosh's own errors on a damaged segment (zlib, block tags, index errors)
        become IndexUnusable, whose message says how to rebuild."""
        try:
            yield
        except CasearchError:
            raise
        except Exception as exc:
            raise IndexUnusable(f"Index at {self.index_dir} cannot be read: {type(exc).__name__}: {exc}") from exc

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
        with self._reading(), self.searcher() as searcher:
            vocabulary = IndexVocabulary(searcher)
            parsed = parse(request.q, vocabulary, self.bridge(searcher) if request.cross else None)
            translated = _add_translations(searcher, parsed, request.lang) if request.cross else set()
            direct = parse(request.q, vocabulary).query if request.cross else parsed.query
            if direct == parsed.query:
                direct = parsed.query  # nothing was expanded: one tier, one ranking
            ranked, facets = _rank(searcher, parsed, direct, request)
            total = facets[request.lang]
            hits = self._hits(searcher, parsed, ranked, request, translated)
        took = round((time.perf_counter() - began) * 1000, 2)
        return SearchResult(
            request.q, request.lang, request.page, request.per_page, total, took, hits,
            hint=_hint(parsed, total), sort=request.sort, facets=facets,
        )

    def _hits(
        self, searcher, parsed: ParsedQuery, ranked: list[tuple[float, int]], request: SearchRequest,
        translated: set[str],
    ) -> list[Hit]:
        first = (request.page - 1) * request.per_page
        page = ranked[first : first + request.per_page]
        # Snippets read postings forward, so build the hits in passage order, then rank.
        built = {docnum: self._hit(searcher, parsed, docnum, score, translated)
                 for score, docnum in sorted(page, key=lambda item: item[1])}
        return [built[docnum] for _, docnum in page]

    def _hit(self, searcher, parsed: ParsedQuery, docnum: int, score: float, translated: set[str]) -> Hit:
        stored = searcher.stored_fields(docnum)
        spans = match_spans(searcher, docnum, "body", parsed.units)
        matched = [m for unit in parsed.units if (m := _explain(searcher, docnum, stored, unit))]
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
        with self._reading(), self.searcher() as searcher:
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


def _add_translations(searcher, parsed: ParsedQuery, lang: str) -> set[str]:
    """Aligned translations as one more bridge: with a language filter, the counterparts
    of the best passages in the other language join the query at a low weight (without
    a filter those passages are hits themselves, each showing its counterpart).
    Returns the passage ids added."""
    if parsed.query is None or lang == "all":
        return set()
    other = lang_docs(searcher)["en" if lang == "ja" else "ja"]
    best = _timed_search(searcher, parsed.query, limit=TRANSLATION_SEEDS, filter=other)
    seeds = [searcher.stored_fields(docnum) for docnum, _ in best.items()]
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
    for kind in (PAIRS_KIND, GLOSSARY_KIND):
        for fields in searcher.documents(kind=kind):
            pairs += [Pair.from_stored(row) for row in (fields.get("meta") or {}).get("pairs", [])]
    return Bridge(pairs)


VIA_PREFERENCE = ("surface", "base", "gloss", "dictionary", "corpus", "glossary", "mined", "transliteration",
                  "translation", "reading")


def _explain(searcher, docnum: int, fields: dict, unit: Unit) -> dict[str, str] | None:
    """How one query part matched this passage: the most direct ``via`` that holds. A
    base-form match whose characters are the query's own counts as written (titles and
    headings are only indexed by base form)."""
    vias: set[str] = set()
    written = unicodedata.normalize("NFKC", unit.label).lower()
    for stored in ("body", "title", "section"):
        found = unit_spans(searcher, docnum, stored, unit)
        vias |= set(found)
        text = fields.get(stored) or ""
        if any(unicodedata.normalize("NFKC", text[a:b]).lower() == written for a, b in found.get("base", [])):
            vias.add("surface")
    for via in VIA_PREFERENCE:
        if via in vias:
            return {"term": unit.label, "via": via}
    return None


class _DeadlineCollector(WrappingCollector):
    """Filters matches by document number, optionally records every match, and raises
    TimeLimit once the clock passes the deadline.

    Whoosh's own TimeLimitCollector uses an alarm outside worker threads only, and its
    FilterCollector runs its own loop, so one loop here does all three. ``seen`` (a set,
    filled with global document numbers before filtering) lets a ranking pass that has
    to visit every match anyway count the language facets on the way.
    """

    def __init__(self, child, seconds: float, allow: set[int] | None = None, seen: set[int] | None = None) -> None:
        super().__init__(child)
        self.deadline = time.monotonic() + seconds
        self.allow = allow
        self.seen = seen

    def collect_matches(self) -> None:
        child, offset, allow, seen, deadline = self.child, self.offset, self.allow, self.seen, self.deadline
        for count, sub_docnum in enumerate(child.matches(), 1):
            if not count % 128 and time.monotonic() > deadline:
                raise TimeLimit
            docnum = offset + sub_docnum
            if seen is not None:
                seen.add(docnum)
            if allow is None or docnum in allow:
                child.collect(sub_docnum)

    def all_ids(self):
        """Every allowed match (Whoosh's top-N collector runs the query again for this)."""
        allow = self.allow
        return (docnum for docnum in self.child.all_ids() if allow is None or docnum in allow)

    def results(self):
        results = self.child.results()
        results.collector = self  # so that results.docs() asks all_ids above, filter kept
        return results


def _timed_search(searcher, query, filter: set[int] | None = None, seen: set[int] | None = None, **options):
    """``searcher.search`` that gives up after ``SEARCH_SECONDS`` with query_too_complex.
    With ``seen``, every match is visited (no skipping of low-scoring blocks) and recorded
    there, whether or not ``filter`` lets it into the results."""
    inner = searcher.collector(**options, optimize=seen is None)
    if seen is not None:
        inner.replace = 0  # Whoosh would drop clauses that can no longer reach the top N
    collector = _DeadlineCollector(inner, SEARCH_SECONDS, filter, seen)
    try:
        searcher.search_with_collector(query, collector)
    except TimeLimit:
        raise QueryError(
            f"The query took more than {SEARCH_SECONDS:g} s; make it more specific",
            param="q", code="query_too_complex",
        ) from None
    return collector.results()


def _rank(searcher, parsed: ParsedQuery, direct, request: SearchRequest) -> tuple[list[tuple[float, int]], dict[str, int]]:
    """The ranked passages up to the requested page, and the facet counts.

    The counts cover every passage the query matches (with its translations), in any
    language. A ranking pass that must visit all matches anyway records them, so most
    queries walk their postings once: a query with nothing expanded, or one whose direct
    tier is short of the page, where the pass over the expanded query counts for both
    tiers (expansion only adds alternatives, so its matches include the direct ones).
    A separate counting pass remains for a direct tier that fills the page (its ranking
    may skip low-scoring blocks), for date order, and for negated queries, where the
    negated word was expanded too and the two queries' matches are unioned."""
    query = parsed.query
    if query is None:
        return [], _facet_counts(searcher, set())
    allowed = None if request.lang == "all" else lang_docs(searcher)[request.lang]
    wanted = request.page * request.per_page
    if request.sort == "date" or parsed.negated:
        if request.sort == "date":
            ranked = _by_date(searcher, query, wanted, allowed)
        elif direct is None or direct is query:
            ranked = _by_relevance(searcher, query, wanted, allowed)
        else:
            ranked, _ = _direct_first(searcher, direct, query, wanted, allowed)
        return ranked, _facets(searcher, [query, direct] if parsed.negated else [query])
    matched: set[int] = set()
    if direct is None or direct is query:
        return _by_relevance(searcher, query, wanted, allowed, seen=matched), _facet_counts(searcher, matched)
    ranked, complete = _direct_first(searcher, direct, query, wanted, allowed, seen=matched)
    return ranked, _facet_counts(searcher, matched) if complete else _facets(searcher, [query])


def _by_relevance(searcher, query, wanted: int, allowed, seen: set[int] | None = None) -> list[tuple[float, int]]:
    """The best ``wanted`` passages as (score, docnum), ties ordered by doc_id, section and
    part. Whoosh keeps only a heap of top scores (no sort columns to load); the limit
    grows while a tie straddles it, so the order is exact. ``seen`` records every match."""
    limit = wanted
    while True:
        results = _timed_search(searcher, query, limit=limit + 1, filter=allowed, seen=seen)
        scored = [(score, docnum) for docnum, score in results.items()]
        if len(scored) <= limit or scored[limit - 1][0] != scored[limit][0]:
            break
        limit *= 2
    return _break_ties(searcher, scored[:limit])


def _direct_first(
    searcher, direct, expanded, wanted: int, allowed, seen: set[int] | None = None
) -> tuple[list[tuple[float, int]], bool]:
    """Passages that match the words as typed first, in plain-search order; then those
    found only through the other language, by their score, shown below the last direct
    score. So expansion never outranks a direct match, and the first tier is exactly
    what ``cross=0`` returns. The flag says whether the expanded query was run in full,
    its every match recorded in ``seen``."""
    ranked = _by_relevance(searcher, direct, wanted, allowed)
    if len(ranked) >= wanted:
        return ranked, False
    direct_docs = {docnum for _, docnum in ranked}  # fewer than asked for: that is all of them
    rest = (lang_docs(searcher)["ja"] | lang_docs(searcher)["en"]) if allowed is None else allowed
    floor = ranked[-1][0] if ranked else None
    more = _by_relevance(searcher, expanded, wanted - len(ranked), rest - direct_docs, seen=seen)
    return ranked + [(score if floor is None else min(score, floor * EXPANDED_CEILING), docnum)
                     for score, docnum in more], True


def _break_ties(searcher, scored: list[tuple[float, int]]) -> list[tuple[float, int]]:
    def key(item: tuple[float, int]) -> tuple:
        fields = searcher.stored_fields(item[1])
        return (fields["doc_id"], fields["section_no"], fields["part"])

    ordered: list[tuple[float, int]] = []
    for i, item in enumerate(scored):
        tied = (i > 0 and scored[i - 1][0] == item[0]) or (i + 1 < len(scored) and scored[i + 1][0] == item[0])
        ordered.append(item)
        if tied and (i + 1 == len(scored) or scored[i + 1][0] != item[0]):
            group = [x for x in ordered if x[0] == item[0]]
            ordered = [x for x in ordered if x[0] != item[0]] + sorted(group, key=key)
    return ordered


def _by_date(searcher, query, wanted: int, allowed) -> list[tuple[float, int]]:
    """Newest first (undated last), then by score, doc_id and section."""
    order = MultiFacet([FieldFacet("date", reverse=True), ScoreFacet(), FieldFacet("doc_id"), FieldFacet("section_no")])
    results = _timed_search(searcher, query, limit=wanted, filter=allowed, sortedby=order)
    return [(-key[1], docnum) for key, docnum in results.top_n]


def lang_docs(searcher) -> dict[str, set[int]]:
    """Passage numbers per language, computed once per searcher (one generation)."""
    cached = getattr(searcher, "casearch_lang_docs", None)
    if cached is None:
        cached = {lang: set(searcher.docs_for_query(wq.Term("lang", lang))) for lang in ("ja", "en")}
        searcher.casearch_lang_docs = cached
    return cached


def _facets(searcher, queries: list) -> dict[str, int]:
    """Passages matching any of the queries (the words as typed, and with their
    translations), per language whatever the language filter; also the totals."""
    matching: set[int] = set()
    for query in dict.fromkeys(q for q in queries if q is not None):  # the same object once
        _timed_search(searcher, query, limit=1, scored=False, seen=matching)
    return _facet_counts(searcher, matching)


def _facet_counts(searcher, matching: set[int]) -> dict[str, int]:
    counts = {"all": 0, "ja": 0, "en": 0}
    if not matching:
        return counts
    for lang, docnums in lang_docs(searcher).items():
        counts[lang] = len(matching & docnums)
    counts["all"] = counts["ja"] + counts["en"]
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
