"""Search: validated request -> query tree -> ranked passages -> hits with snippets.

    validate_request   the contract's parameter rules (q, lang, page, per_page)
    Engine.search      querylang.parse (a ``querytree``, engine-neutral; the words as
                       typed, and expanded with counterparts and synonyms) -> the
                       translations of the best passages in each language join ->
                       tiers (typed words, counterparts, translations) -> the engine
                       ranks each (BM25; title and heading weigh more; language filter)
                       and counts every tier's passages per language (the facets, the
                       same whatever the filter) -> order by score, then doc_id, section
                       -> the requested page -> snippets and match notes from the
                       offsets stored with each passage
    Engine.document    a document's sections, optionally highlighted for a query: whole,
                       or one page of a long one (``docpages``), each passage rendered
                       from its text and layout (``layout``)

Everything here runs the same for both engines (``engines``): the engine only answers
``rank``, ``count`` and stored-field reads. Each thread keeps its own reader and opens a
new one when a commit or a full rebuild changed the generation, so a concurrent reindex
is seen by the next call and no reader is shared between threads. Results are plain
dataclasses; the web page, the JSON endpoint and the CLI all render the same
``SearchResult``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Mapping
from urllib.parse import quote

from . import aligned, analysis, bridgestore, config, engines, explain, layout, partial, scope
from . import index as index_mod
from . import querytree as qt
from .bridge import Pair, english_word
from .docpages import PageCuts, Paging, Place, anchor
from .engines.base import Key, Reader
from .errors import CasearchError, IndexUnusable, QueryError
from .offsets import Offsets
from .querylang import ParsedQuery, Unit, parse
from .records import GLOSSARY_KIND, PAIRS_KIND
from .synonyms import SYNONYMS_KIND, Synonyms
from .snippets import highlight, make_snippet, match_spans, merge_spans, unit_spans

MAX_QUERY_CHARS = 500
MAX_PAGE = 1000
MAX_PER_PAGE = 50
LANGS = ("all", "ja", "en")
SORTS = ("relevance", "date")
TRANSLATION_SEEDS = 20  # best direct passages whose translations join the results
TRANSLATION_SHARE = 1.0  # a seed's translation says the same: it inherits this share of the seed's score
EXPANDED_CEILING = 0.999  # an expansion-only hit's score stays below the last direct one
COUNTED_WHEN_LISTED = 200  # a complete unfiltered list this short is counted from its stored fields
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
    part: int = field(default=1, repr=False)  # the passage's number in its section (links to long documents)
    title_html: str = ""  # the title with its matches marked
    heading_html: str | None = None  # the heading with its matches marked (None: the lead section)
    # A hit that joined as the translation of a matching passage and holds no word of the
    # query itself: that passage's snippet, marked, so that every hit shows why it is here.
    translation_snippet: str | None = None


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
    matching: str = "all"  # "partial": no passage had every word; the hits match some of them

    def to_json(self) -> dict:
        data = asdict(self)
        for hit in data["hits"]:
            hit.pop("section_no", None)
            hit.pop("part", None)
        return data


@dataclass
class DocumentSection:
    number: int
    heading: str | None
    heading_html: str | None
    blocks_html: list[str]  # paragraphs, lists, quotes… each a complete HTML element
    continued: bool = False  # on a page of a long document: the section began on an earlier page
    anchors: dict[int, str] = field(default_factory=dict)  # block index -> id of the passage it opens (long documents)


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
    paging: Paging | None = None  # a long document's page and navigation; None: shown whole


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
class _ThreadReader:
    key: tuple
    reader: Reader
    compiled: Path | None  # the generation's user dictionary
    depth: int = 0


class Engine:
    """Search over the index folder with one engine; safe to share between threads."""

    def __init__(self, index_dir: Path, engine: str | None = None) -> None:
        """``engine`` None: the configured one (CASEARCH_ENGINE, else whoosh)."""
        self.index_dir = Path(index_dir)
        self.engine = engines.check_name(engine or config.engine())
        self._lock = threading.Lock()
        self._generation_state: dict[str, tuple] = {}  # name -> (generation key, what was built)
        self._local = threading.local()

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """This thread's reader of the serving generation, analyzing with its user
        dictionary. Each thread keeps its own (Whoosh searchers must not be shared
        between threads) and opens a new one when a commit or a full rebuild has changed
        the generation. Nested uses in one request share the same reader."""
        state = getattr(self._local, "state", None)
        if state is not None and state.depth > 0:
            state.depth += 1
            try:
                yield state.reader
            finally:
                state.depth -= 1
            return
        state = self._thread_state(state)
        state.depth = 1
        try:
            with analysis.user_dictionary(state.compiled):
                yield state.reader
        finally:
            state.depth = 0

    def _thread_state(self, state: "_ThreadReader | None") -> "_ThreadReader":
        current = index_mod.serving(self.index_dir, self.engine)
        backend = engines.backend(self.engine)
        path = self.index_dir / current["name"]
        try:
            key = (current["name"], backend.stamp(path))
            if state is not None and state.key == key:
                return state
            reader = backend.open(path)
        except CasearchError:
            raise
        except Exception as exc:  # a generation deleted or damaged under us
            raise IndexUnusable(f"Index at {self.index_dir} cannot be read: {exc}") from exc
        if state is not None:
            state.reader.close()
        self._local.state = _ThreadReader(key, reader, index_mod.user_dictionary_path(path))
        return self._local.state

    def close(self) -> None:
        """Close this thread's reader (other threads' close when they are collected)."""
        state = getattr(self._local, "state", None)
        if state is not None:
            state.reader.close()
            self._local.state = None

    def stats(self) -> dict[str, int]:
        """Documents and passages served (deleted records, kept until a merge, left out)."""
        with self._reading(), self.reader() as reader:
            return reader.totals()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """An engine's own errors on a damaged index (zlib, block tags, index errors)
        become IndexUnusable, whose message says how to rebuild."""
        try:
            yield
        except CasearchError:
            raise
        except Exception as exc:
            raise IndexUnusable(f"Index at {self.index_dir} cannot be read: {type(exc).__name__}: {exc}") from exc

    def _per_generation(self, name: str, reader: Reader, build: Callable[[], Any]) -> Any:
        """What ``build`` makes of the generation this reader reads, made once per
        generation and shared by the threads."""
        key = reader.version
        with self._lock:
            found = self._generation_state.get(name)
            if found is not None and found[0] == key:
                return found[1]
        built = build()
        with self._lock:
            self._generation_state[name] = (key, built)
        return built

    def bridge(self, reader: Reader) -> bridgestore.BridgeStore:
        """The cross-lingual bridge of the generation this reader reads: its pairs are
        read from the generation's store on disk as queries need them (``bridgestore``),
        rebuilt from the engine's records if it does not match the engine's commit."""

        def build() -> bridgestore.BridgeStore:
            generation = self.index_dir / reader.version[0]
            bridgestore.ensure(generation, reader.version[1], lambda: stored_pairs(reader))
            return bridgestore.BridgeStore(generation, self._dictionary())

        return self._per_generation("bridge", reader, build)

    def synonyms(self, reader: Reader) -> Synonyms:
        """The user's synonym groups of the generation this reader reads."""
        return self._per_generation("synonyms", reader, lambda: Synonyms(
            group for fields in reader.records(SYNONYMS_KIND) for group in (fields.get("meta") or {}).get("groups", [])
        ))

    def english_word(self, word: str, katakana: str) -> bool:
        """Whether a Latin word that spells romaji is an English word (``bridge.english_word``)."""
        return english_word(self._dictionary(), word, katakana)

    def _dictionary(self) -> Path | None:
        """jamdict-data's database, for query words the corpus's pairs do not know."""
        try:
            from . import jmdict

            return jmdict.database_path(self.index_dir / index_mod.JMDICT_CACHE)
        except (ImportError, OSError):
            return None

    def search(self, request: SearchRequest) -> SearchResult:
        began = time.perf_counter()
        with self._reading(), self.reader() as reader:
            stored = _StoredFields(reader, self._dictionary() if request.cross else None)
            bridge = self.bridge(reader) if request.cross else None
            user = self.synonyms(reader) if request.cross else None
            english = self.english_word
            parsed = parse(request.q, reader, bridge, request.lang, user, english=english)
            plain = parse(request.q, reader, english=english).query if request.cross else parsed.query
            # Asked for the other language's passages, a word as typed is no better evidence
            # than its counterpart (English inside Japanese text is often an option name):
            # then both kinds of match rank together, else the typed words' matches first.
            crosses = parsed.crosses_into(request.lang)
            bridged, translated = parsed.query, {}
            if request.cross:
                expanded = parse(request.q, reader, bridge, synonyms=user, english=english).query if crosses else parsed.query
                translated = _translations(stored, parsed, plain, expanded)
                parsed.query = _with_translations(parsed.query, translated)
            # A negated word is expanded too, so the words as typed may list more.
            tiers = ([parsed.query] + ([plain] if parsed.negated else [])) if crosses else [plain, bridged, parsed.query]
            tiers = scope.scoped_tiers(
                tiers, parsed.units, translated, reader, plain_first=not crosses, negated=bool(parsed.negated),
            )
            nested = _nested(tiers, parsed.negated)
            ranked, facets = _rank(stored, nested, request)
            matching = "all"
            if nested and not parsed.alternation and facets["all"] < partial.PARTIAL_BELOW:
                relaxed = parse(request.q, reader, bridge, request.lang, user, relaxed=True, english=english)
                widened = _widened(stored, nested, relaxed, facets, request)
                if widened is not None:
                    (ranked, facets), parsed, matching = widened, relaxed, "partial"
            total = facets[request.lang]
            first = (request.page - 1) * request.per_page
            hits = [_hit(stored, parsed, key, score, translated) for score, key in ranked[first : first + request.per_page]]
        took = round((time.perf_counter() - began) * 1000, 2)
        return SearchResult(
            request.q, request.lang, request.page, request.per_page, total, took, hits,
            hint=_hint(parsed, total, matching), sort=request.sort, facets=facets, matching=matching,
        )

    def document(
        self, doc_id: str, q: str | None = None, page: int | None = None, at: Place | None = None,
        sections: Collection[int] | None = None,
    ) -> DocumentView | None:
        """The document (None when unknown), query terms highlighted when q given: whole
        when it fits on one page (``docpages``), else one page of it: the one holding
        ``at`` (a section or passage), else ``page`` (PageNotFound past the last), else
        the first. ``sections``: only those sections (the translation shown alongside)."""
        with self._reading(), self.reader() as reader:
            outline = reader.find_pid(f"outline:{doc_id}")
            if outline is None:
                return None
            cuts = PageCuts.of(outline.get("meta") or {}, sections)
            number = (cuts.locate(at) if at else None) or page or 1
            first, end = cuts.span(number)
            shown = [found for s, p in cuts.places[first:end] if (found := reader.find_pid(f"{doc_id}#s{s}p{p}"))]
            head = shown[0] if shown else reader.find_pid(f"{doc_id}#s1p1")
            if head is None:
                return None
            units = parse(q, reader, self.bridge(reader), synonyms=self.synonyms(reader), english=self.english_word).units if q else []
            view = _document_view(head, shown, units, anchored=cuts.paged)
            if cuts.paged:
                view.paging = cuts.paging(number)
            return view


class _StoredFields:
    """A reader plus the stored fields it has read during one request, and the
    passages whose translations joined it (``seeds``: joined pid -> the best seed's
    fields, whose snippet explains the translation)."""

    def __init__(self, reader: Reader, dictionary: Path | None = None) -> None:
        self.reader = reader
        self.dictionary = dictionary  # jamdict-data's database: marks in translations
        self._seen: dict[Any, dict] = {}
        self.seeds: dict[str, dict] = {}

    def __call__(self, key: Key) -> dict:
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = self.reader.stored(key)
        return found


def stored_offsets(fields: dict, stored: str) -> Offsets:
    """The offsets of one stored field (title, section, body) of a passage."""
    return Offsets((fields.get("offsets") or {}).get(stored, ""))


def _hit(stored: _StoredFields, parsed: ParsedQuery, key: Key, score: float, translated: dict[str, float]) -> Hit:
    fields = stored(key)
    offsets = {name: stored_offsets(fields, name) for name in ("body", "title", "section")}
    # Each unit's body spans are looked up once: they mark the snippet and explain the match.
    body = [unit_spans(offsets["body"], "body", unit) for unit in parsed.units]
    spans = merge_spans(span for found in body for spans in found.values() for span in spans)
    direct = [span for found in body for via in DIRECT_VIAS for span in found.get(via, ())]
    matched = [m for unit in parsed.units if (m := explain.match_note(fields, offsets, unit))]
    translation_snippet = None
    if not matched and fields["pid"] in translated:
        note = {"term": " ".join(u.label for u in parsed.units), "via": "translation", "field": "body"}
        found = aligned.counterpart_spans(fields, parsed.units, stored.dictionary)
        if found:
            spans = merge_spans(found)
            note["word"] = fields["body"][found[0][0] : found[0][1]]
        else:
            translation_snippet = _translated_from(stored, fields, parsed)
        matched = [note]
    heading = fields["section"] or None
    return Hit(
        doc_id=fields["doc_id"], title=fields["title"], lang=fields["lang"],
        section=heading,
        url=doc_url(fields["doc_id"], fields["section_no"]),
        score=round(score, 4), matched=matched,
        snippet=make_snippet(fields["body"], spans, direct=direct, markers=_item_markers(fields)),
        counterpart=_counterpart(stored.reader, fields),
        date=fields.get("date") or None, source=(fields.get("meta") or {}).get("source"),
        section_no=fields["section_no"], part=fields.get("part") or 1,
        title_html=highlight(fields["title"], match_spans(offsets["title"], "title", parsed.units)),
        heading_html=highlight(heading, match_spans(offsets["section"], "section", parsed.units)) if heading else None,
        translation_snippet=translation_snippet,
    )


def _translated_from(stored: _StoredFields, fields: dict, parsed: ParsedQuery) -> str | None:
    """The marked snippet of the passage this hit is the translation of: the best seed
    that brought it in (``_translations``)."""
    seed = stored.seeds.get(fields["pid"])
    if seed is None:
        return None
    offsets = stored_offsets(seed, "body")
    found = [unit_spans(offsets, "body", unit) for unit in parsed.units]
    spans = merge_spans(span for by_via in found for spans in by_via.values() for span in spans)
    if spans:
        direct = [span for by_via in found for via in DIRECT_VIAS for span in by_via.get(via, ())]
        return make_snippet(seed["body"], spans, direct=direct, markers=_item_markers(seed))
    # The seed matched in its title or heading (a title word lists the lead passage).
    for name in ("section", "title"):
        text = seed.get(name) or ""
        marked = match_spans(stored_offsets(seed, name), name, parsed.units) if text else []
        if marked:
            return highlight(text, marked)
    return None


def _item_markers(fields: dict) -> dict[int, str]:
    """Where the passage's list items start -> the bullet or number its snippet shows."""
    return layout.item_markers(layout.decode(fields.get("layout")))


def _document_view(first: dict, passages: list[dict], units, anchored: bool = False) -> DocumentView:
    """The view of ``passages`` (all of a document, or one page of it: then ``anchored``,
    each passage after a section's first carries its id before its first block); title and
    metadata from ``first``."""
    meta = first.get("meta") or {}
    sections: dict[int, DocumentSection] = {}
    for fields in passages:
        number = fields["section_no"]
        if number not in sections:
            heading = fields["section"] or None
            heading_html = highlight(heading, match_spans(stored_offsets(fields, "section"), "section", units)) if heading else None
            sections[number] = DocumentSection(number, heading, heading_html, [], continued=(fields.get("part") or 1) > 1)
        section, part = sections[number], fields.get("part") or 1
        if anchored and part > 1:  # a section's first passage is reached by the section's own id
            section.anchors[len(section.blocks_html)] = anchor((number, part))
        section.blocks_html += layout.render_blocks(
            fields["body"], layout.decode(fields.get("layout")), match_spans(stored_offsets(fields, "body"), "body", units),
        )
    title_html = highlight(first["title"], match_spans(stored_offsets(first, "title"), "title", units))
    return DocumentView(
        first["doc_id"], first["title"], title_html, first["lang"], meta.get("source"),
        meta.get("url"), first.get("date") or None, list(meta.get("translations") or []),
        [sections[n] for n in sorted(sections)],
    )


def _counterpart(reader: Reader, fields: dict) -> dict[str, str | None] | None:
    """The same section in the document's translation, when there is one."""
    for other in (fields.get("meta") or {}).get("translations") or []:
        found = reader.find_pid(f"{other}#s{fields['section_no']}p1")
        if found:
            return {"doc_id": other, "section": found["section"] or None, "url": doc_url(other, found["section_no"])}
    return None


def _translations(stored: _StoredFields, parsed: ParsedQuery, plain: qt.Node | None, expanded: qt.Node | None) -> dict[str, float]:
    """Aligned translations as one more bridge, in both directions whatever the filter
    (so that every view counts the same passages): the counterparts of the best passages
    in one language (the seeds) join the other language's matches, each weighted by its
    seed's score: the translation of the passage that best matches in English is likely
    the best Japanese one. Seeds are ranked by the words as typed when they are in the
    seeds' language, else through the bridge (``expanded``, at the expansion's usual
    weight). Returns the passage ids that join, with their boosts."""
    added: dict[str, float] = {}
    for target in ("ja", "en"):
        seeding = plain if parsed.crosses_into(target) else expanded
        if seeding is None:
            continue
        seeding = scope.listed(seeding, parsed.units, stored.reader)
        # Ties are broken as everywhere (doc_id, section), so the seeds do not depend on
        # how the engine laid the passages out (segments, processes).
        best, _ = _by_relevance(stored, seeding, TRANSLATION_SEEDS, "en" if target == "ja" else "ja")
        seeds = [(score, stored(key)) for score, key in best[:TRANSLATION_SEEDS]]
        matched = {hit["pid"] for _, hit in seeds}
        for score, hit in seeds:
            for other in (hit.get("meta") or {}).get("translations") or []:
                pid = f"{other}#s{hit['section_no']}p1"
                if pid not in matched:
                    added[pid] = max(added.get(pid, 0.0), round(TRANSLATION_SHARE * score, 4))
                    stored.seeds.setdefault(pid, hit)  # seeds come best first
    return added


def _with_translations(query: qt.Node | None, translated: dict[str, float]) -> qt.Node | None:
    if query is None or not translated:
        return query
    return qt.Or((query, qt.Keyed("pid", tuple(sorted(translated.items())))))


def stored_pairs(reader: Reader) -> Iterator[tuple[str, list[Pair]]]:
    """Every pair stored in the engine's records, by owner: per document (and any other
    pairs record, by its doc_id), and the glossary's."""
    for kind in (PAIRS_KIND, GLOSSARY_KIND):
        for fields in reader.records(kind):
            owner = bridgestore.GLOSSARY_OWNER if kind == GLOSSARY_KIND else bridgestore.document_owner(fields["doc_id"])
            yield owner, [Pair.from_stored(row) for row in (fields.get("meta") or {}).get("pairs", [])]


DIRECT_VIAS = ("surface", "base", "reading")  # the words as typed, not a counterpart


def _nested(tiers: list[qt.Node | None], negated: int) -> list[qt.Node]:
    """The tiers as growing sets of passages, without repeats: the last one is every
    passage the query lists. A tier that adds counterparts or translations to the one
    before holds it already, except where a negated word was expanded too (``鉄道
    -railway`` expanded excludes 鉄道 as well): then each tier is joined with the ones
    before it."""
    nested: list[qt.Node] = []
    for tier in tiers:
        if tier is None or (nested and tier == nested[-1]):
            continue
        nested.append(qt.Or((tier, nested[-1])) if negated and nested else tier)
    return nested


def _rank(stored: _StoredFields, tiers: list[qt.Node], request: SearchRequest) -> tuple[list[tuple[float, Key]], dict[str, int]]:
    """The ranked passages up to the requested page, and the facet counts.

    Every view of a query lists the same passages, the last of the (growing) ``tiers``,
    and the facets count them per language; a language filter only keeps its own. Each
    tier's new passages rank by their score below the tier before, shown below its last
    score. The usual tiers are the words as typed (exactly what ``cross=0`` returns),
    then their counterparts in the other language, then the translations of the best
    passages (which match no word of the query): expansion never outranks a direct
    match. When the query is in one language and ``lang`` asks for the other, the first
    tier is the whole expanded query, translations included. With a single tier, the
    ranking pass counts on the way (an engine that has to visit every match for it, like
    Whoosh, does it in one pass)."""
    if not tiers:
        return [], _facets({})
    lang = None if request.lang == "all" else request.lang
    wanted = request.page * request.per_page
    counted = tiers[-1]
    if request.sort == "date":  # every counted passage is listed, newest first
        return stored.reader.by_date(counted, wanted, lang), _facets(stored.reader.count(counted))
    if len(tiers) == 1:
        ranked, counts = _by_relevance(stored, counted, wanted, lang, count=True)
        return ranked, _facets(counts)
    ranked: list[tuple[float, Key]] = []
    for i, tier in enumerate(tiers):
        if len(ranked) >= wanted:
            break
        found, _ = _by_relevance(stored, tier if i == 0 else qt.AndNot(tier, tiers[i - 1]), wanted - len(ranked), lang)
        floor = ranked[-1][0] if ranked else None
        ranked += [(score if floor is None else min(score, floor * EXPANDED_CEILING), key) for score, key in found]
    if lang is None and len(ranked) < min(wanted, COUNTED_WHEN_LISTED):
        # Every tier was listed to its end, in every language: the list is what they count.
        return ranked, _facets(Counter(stored(key)["lang"] for _, key in ranked))
    return ranked, _facets(stored.reader.count(counted))


def _widened(
    stored: _StoredFields, strict: list[qt.Node], relaxed: ParsedQuery, facets: dict[str, int], request: SearchRequest
) -> tuple[list[tuple[float, Key]], dict[str, int]] | None:
    """The strict tiers followed by the partial ones (``partial.tiers``), ranked and
    counted; None when the query has no pieces to relax or they find nothing more."""
    if not partial.needed(facets["all"], len(relaxed.pieces)):
        return None
    more = partial.tiers(relaxed.pieces, relaxed.negative)
    if facets["all"]:  # the strict matches stay first, in their order
        more = strict + [qt.Or((tier, strict[-1])) for tier in more]
    ranked, widened = _rank(stored, more, request)
    return (ranked, widened) if widened["all"] > facets["all"] else None


def _by_relevance(
    stored: _StoredFields, query: qt.Node, wanted: int, lang: str | None, count: bool = False
) -> tuple[list[tuple[float, Key]], dict[str, int] | None]:
    """The best ``wanted`` passages as (score, key), ties ordered by doc_id, section and
    part: the limit grows while a tie straddles it, so the order is exact."""
    limit = wanted
    while True:
        scored, counts = stored.reader.rank(query, limit + 1, lang, count=count)
        if len(scored) <= limit or scored[limit - 1][0] != scored[limit][0]:
            break
        limit *= 2
    return _break_ties(stored, scored[:limit]), counts


def _break_ties(stored: _StoredFields, scored: list[tuple[float, Key]]) -> list[tuple[float, Key]]:
    def key(item: tuple[float, Key]) -> tuple:
        fields = stored(item[1])
        return (fields["doc_id"], fields["section_no"], fields["part"])

    ordered: list[tuple[float, Key]] = []
    for i, item in enumerate(scored):
        tied = (i > 0 and scored[i - 1][0] == item[0]) or (i + 1 < len(scored) and scored[i + 1][0] == item[0])
        ordered.append(item)
        if tied and (i + 1 == len(scored) or scored[i + 1][0] != item[0]):
            group = [x for x in ordered if x[0] == item[0]]
            ordered = [x for x in ordered if x[0] != item[0]] + sorted(group, key=key)
    return ordered


def _facets(counts: dict[str, int]) -> dict[str, int]:
    """Matching passages per language (whatever the language filter) and in all."""
    facets = {"ja": counts.get("ja", 0), "en": counts.get("en", 0)}
    return {"all": facets["ja"] + facets["en"], **facets}


def _hint(parsed: ParsedQuery, total: int, matching: str = "all") -> str | None:
    notes: list[str] = []
    if parsed.stop_only and parsed.query is None:
        words = "、".join(parsed.stop_only)
        notes.append(
            f"「{words}」 only holds particles or common words, which are not searched on "
            "their own. Add a content word, or quote a whole phrase."
        )
    elif parsed.query is None:
        notes.append("The query holds only operators (OR, NOT, -, quotes, brackets): add a word to search for.")
    elif parsed.dropped_terms:
        notes.append(f"The query was long: {parsed.dropped_terms} of its terms were left out.")
    if parsed.lowercase_or and (total == 0 or matching == "partial"):
        notes.append('A lower-case "or" is not an operator: every word must match. Use OR for either word.')
    return " ".join(notes) or None
