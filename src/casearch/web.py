"""Web layer: Flask app factory and routes. HTML, JSON and CLI share one search call.

    request args -> search.validate_request -> [ETag: 304 when unchanged]
        -> Engine.search -> suggest.with_suggestion -> SearchResult
        -> JSON (/api/search)  or  template context (/search)

Errors take one shape everywhere (``error_response``): JSON under ``/api/``, the page
elsewhere, with the contract's codes. The interface language comes from ``?ui=`` or the
``Accept-Language`` header, never from the ``lang`` search filter.

Caching: a search response's ``ETag`` is made from the serving index generation (the
``CURRENT`` name plus Whoosh's generation number) and the normalized parameters, never
from the body, whose ``took_ms`` changes on every request. ``Cache-Control: no-cache``
lets clients keep a response and revalidate it; ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from flask import Flask, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException
from . import __version__, config, docpages, engines, openapi
from .errors import EngineUnavailable, IndexMissing, IndexUnusable, QueryError
from .index import INDEX_FORMAT, engine_of, read_current
from .introspect import analyze_json, validate_analyze
from .messages import EXAMPLES, UI_LANGS, messages, plural
from .search import Engine, Hit, SearchRequest, SearchResult, doc_url, validate_request
from .suggest import MAX_COMPLETIONS, complete, with_suggestion

ASSETS = {"style.css": "text/css", "suggest.js": "text/javascript", "icon.svg": "image/svg+xml"}
SEARCH_CACHE_CONTROL = "public, no-cache"
SUGGEST_FORMATS = ("json", "opensearch")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Defaults, then ``CASEARCH_*`` environment (via config), then ``test_config``."""
    app = Flask(__name__, template_folder=str(templates_dir()))
    app.config.update(
        INDEX_DIR=str(config.index_dir()), CORPUS_DIR=str(config.corpus_dir()), ENGINE=config.engine(),
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["casearch_engine"] = Engine(Path(app.config["INDEX_DIR"]), app.config["ENGINE"])
    app.add_template_filter(query_with)
    _register_pages(app)
    _register_api(app)
    _register_errors(app)
    app.after_request(_cors)
    app.after_request(_security_headers)
    return app


def templates_dir() -> Path:
    """Templates inside the installed package, else the checkout's top-level folder."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def engine() -> Engine:
    return current_app.extensions["casearch_engine"]


def ui_lang() -> str:
    chosen = request.args.get("ui")
    if chosen in UI_LANGS:
        return chosen
    return request.accept_languages.best_match(UI_LANGS, default="en") or "en"


def query_with(args: Mapping[str, str], **changes: Any) -> str:
    """The query string of ``args`` with some parameters replaced (None removes one)."""
    merged = {key: value for key, value in args.items()}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return urlencode(merged)


def _context(**extra: Any) -> dict[str, Any]:
    ui = ui_lang()
    other = "en" if ui == "ja" else "ja"
    t = messages(ui)
    return {"ui": ui, "t": t, "plural": lambda key, count: plural(t, key, count), "other_ui": other,
            "ui_switch_href": same_page(ui=other), **extra}


def same_page(**changes: Any) -> str:
    """This page's URL with some parameters changed, always a path on this site.

    The path is re-encoded and starts with exactly one slash: a request for
    ``/\\evil.example/x`` must not yield a link that browsers read as ``//evil.example``.
    """
    path = "/" + quote(request.path, safe="/-._~!$&'()*+,;=:@").lstrip("/")
    return f"{path}?{query_with(request.args, **changes)}"


def error_response(status: int, code: str, message: str, param: str | None = None) -> Response:
    """The one place error responses are made: JSON under /api/ and for /healthz (a
    health check reads JSON), a page elsewhere."""
    body: dict[str, Any] = {"code": code, "message": message}
    if param is not None:
        body["param"] = param
    if request.path.startswith("/api/") or request.path == "/healthz":
        response = jsonify({"error": body})
    else:
        response = Response(render_template("error.html", **_context(error=body, status=status, q="")))
    response.status_code = status
    return response


# --- search shared by the page, the API and (through suggest) the CLI ----------------


SNAPSHOT_TRIES = 3


def run_search(search_request: SearchRequest) -> SearchResult:
    """The search and its suggestion, both from one state of the index.

    They open separate readers; if a reindex commits in between, the hits could come
    from the old index and the suggestion from the new one (an answer that is neither).
    When the index version moved while they ran, they run again.
    """
    for _ in range(SNAPSHOT_TRIES):
        before = index_version()
        result = with_suggestion(engine(), search_request, engine().search(search_request))
        if before is None or index_version() == before:
            break
    return result


def normalized_params(search_request: SearchRequest) -> dict[str, str]:
    """The request's parameters as canonical strings, defaults left out (q always in)."""
    params: dict[str, str] = {}
    for spec in fields(SearchRequest):
        value = getattr(search_request, spec.name)
        if spec.name == "q" or value != spec.default:
            params[spec.name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return params


def index_version() -> list[Any] | None:
    """What identifies the searchable content: the serving generation folder (``CURRENT``)
    and the Whoosh generation of its latest commit; None when the index cannot serve.

    Cheap (a small file and a stat or directory listing, no reader). Read before the search
    runs, so a concurrent reindex can only make the tag older than the body (one extra
    full response later), never newer (a stale body kept under a current tag).
    """
    index_dir = Path(current_app.config["INDEX_DIR"])
    try:
        current = read_current(index_dir)
        if current is None or current.get("format") != INDEX_FORMAT or engine_of(current) != engine().engine:
            return None  # the search itself answers 503 with the reason
        generation = engines.backend(engine().engine).stamp(index_dir / current["name"])
    except (OSError, IndexUnusable, EngineUnavailable):
        return None
    return [current["name"], current["format"], generation] if generation >= 0 else None


def make_etag(kind: str, params: Mapping[str, str], version: list[Any] | None) -> str | None:
    if version is None:
        return None
    material = json.dumps([__version__, kind, version, dict(sorted(params.items()))], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _cacheable(response: Response, etag: str | None, vary: str | None = None) -> Response:
    if etag is None:
        return response
    response.set_etag(etag, weak=True)  # weak: equal results, not equal bytes (took_ms)
    response.headers["Cache-Control"] = SEARCH_CACHE_CONTROL
    if vary:
        response.headers["Vary"] = vary
    return response


def _not_modified(etag: str | None, vary: str | None = None) -> Response | None:
    if etag and request.if_none_match and request.if_none_match.contains_weak(etag):
        return _cacheable(Response(status=304), etag, vary)
    return None


# --- the results page's view data ----------------------------------------------------


@dataclass
class DocumentGroup:
    """The hits of one document on the current page, in rank order."""

    position: int  # 1-based, for element ids
    doc_id: str
    title: str
    title_html: str  # the title with the query's matches marked
    lang: str
    date: str | None
    source: str | None
    href: str
    hits: list[tuple[Hit, str]] = field(default_factory=list)  # (hit, link to its section)


def _doc_href(url: str, q: str, ui: str, part: int = 1) -> str:
    """``/doc/<id>#sN`` -> ``/doc/<id>?q=…&ui=…&at=sN[pM]#sN``: the page highlights the
    terms, and a long document opens on the page holding that passage (``at``)."""
    path, _, anchor = url.partition("#")
    params = {"q": q, "ui": ui}
    if anchor:
        params["at"] = anchor + (f"p{part}" if part > 1 else "")
    return f"{path}?{urlencode(params)}" + (f"#{anchor}" if anchor else "")


def group_hits(result: SearchResult, ui: str) -> list[DocumentGroup]:
    groups: dict[str, DocumentGroup] = {}
    for hit in result.hits:
        group = groups.get(hit.doc_id)
        if group is None:
            group = groups[hit.doc_id] = DocumentGroup(
                len(groups) + 1, hit.doc_id, hit.title, hit.title_html or escape(hit.title, quote=False), hit.lang, hit.date, hit.source,
                _doc_href(doc_url(hit.doc_id), result.query, ui),
            )
        group.hits.append((hit, _doc_href(hit.url, result.query, ui, hit.part)))
    return list(groups.values())


def _pages(result: SearchResult) -> dict[str, int | None]:
    last = max(1, -(-result.total // result.per_page))
    first_shown = (result.page - 1) * result.per_page + 1
    return {
        "last": last,
        "prev": min(result.page - 1, last) if result.page > 1 else None,
        "next": result.page + 1 if result.page < last else None,
        "first_shown": first_shown,
        "last_shown": first_shown + len(result.hits) - 1,
    }


def _search_error_page(exc: QueryError) -> Response:
    page = render_template(
        "search.html",
        **_context(q=request.args.get("q", ""), lang=request.args.get("lang", "all"),
                   sort=request.args.get("sort", "relevance"), result=None,
                   error={"code": exc.code, "param": exc.param, "message": str(exc)}),
    )
    return Response(page, status=400)


def _results_page(search_request: SearchRequest, result: SearchResult) -> str:
    ui = ui_lang()
    params = normalized_params(search_request)

    def search_url(**changes: Any) -> str:
        return "/search?" + query_with({**params, "ui": ui}, **changes)

    return render_template(
        "search.html",
        **_context(
            q=search_request.q, lang=search_request.lang, sort=search_request.sort, result=result,
            groups=group_hits(result, ui), pages=_pages(result), search_url=search_url,
            cross=search_request.cross, counterpart_href=lambda url: _doc_href(url, search_request.q, ui),
            ui_switch_href=search_url(ui="en" if ui == "ja" else "ja"),
            suggestion_href=search_url(q=result.suggestion, page=None) if result.suggestion else None,
        ),
    )


# --- routes ----------------------------------------------------------------------------


def _section_pairs(view, other) -> list[tuple[Any, Any]]:
    """Sections of a document and its translation side by side, matched by number."""
    if other is None:
        return []
    theirs = {section.number: section for section in other.sections}
    numbers = sorted({s.number for s in view.sections} | set(theirs))
    mine = {section.number: section for section in view.sections}
    return [(mine.get(n), theirs.get(n)) for n in numbers]


def _translation_links(doc_ids: list[str]) -> list[tuple[str, str, str | None]]:
    """(title, url, language) of each translation; the id where the index lacks its title."""
    links = []
    with engine().reader() as reader:
        for other in doc_ids:
            record = reader.find_pid(f"doc:{other}") or {}
            title = (record.get("meta") or {}).get("title") or other
            links.append((title, doc_url(other), record.get("lang")))
    return links


def _page_href(page: int, section: int | None = None) -> str:
    """A link to another page of the long document on screen (and to a section there)."""
    return same_page(at=None, page=page) + (f"#s{section}" if section else "")


def _register_pages(app: Flask) -> None:
    @app.get("/")
    def home() -> str:
        return render_template("search.html", **_context(q="", lang="all", sort="relevance", result=None,
                                                           examples=EXAMPLES))

    @app.get("/search")
    def search_page() -> Response | str:
        try:
            search_request = validate_request(request.args)
            etag = make_etag("page", {**normalized_params(search_request), "ui": ui_lang()}, index_version())
            if (unchanged := _not_modified(etag, "Accept-Language")) is not None:
                return unchanged
            result = run_search(search_request)
        except QueryError as exc:  # invalid, or too complex to run: the form keeps the query
            return _search_error_page(exc)
        page = _results_page(search_request, result)
        return _cacheable(Response(page, mimetype="text/html"), etag, "Accept-Language")

    @app.get("/doc/<path:doc_id>")
    def document(doc_id: str) -> Response | str:
        q = (request.args.get("q") or "").strip()[:500] or None
        at = docpages.parse_location(request.args.get("at"))
        try:
            view = engine().document(doc_id, q, page=docpages.parse_page(request.args.get("page")), at=at)
        except docpages.PageNotFound as exc:
            return error_response(404, "not_found", f"Document {doc_id!r}: {exc}")
        if view is None:
            return error_response(404, "not_found", f"No document with id {doc_id!r}")
        if at is not None and view.paging is not None:  # a long document: the page holding the passage
            return redirect(same_page(at=None, page=view.paging.page) + "#" + docpages.anchor(at), 302)
        links = _translation_links(view.translations)
        parallel = None
        if request.args.get("parallel") == "1":
            shown = {section.number for section in view.sections} if view.paging else None
            parallel = next((other for t in view.translations if (other := engine().document(t, q, sections=shown))), None)
        return render_template("doc.html", **_context(doc=view, q=q or "", translations=links, parallel=parallel,
                                                      pairs=_section_pairs(view, parallel), page_href=_page_href))

    @app.get("/opensearch.xml")
    def opensearch() -> Response:
        xml = render_template("opensearch.xml", root=request.url_root, **_context())
        return Response(xml, mimetype="application/opensearchdescription+xml")

    @app.get("/assets/<name>")
    def asset(name: str) -> Response:
        if name not in ASSETS:
            return error_response(404, "not_found", f"No asset named {name!r}")
        text = (templates_dir() / name).read_text(encoding="utf-8")
        return Response(text, mimetype=ASSETS[name], headers={"Cache-Control": "public, max-age=3600"})


def _register_api(app: Flask) -> None:
    @app.get("/api/search")
    def api_search() -> Response:
        search_request = validate_request(request.args)
        etag = make_etag("json", normalized_params(search_request), index_version())
        if (unchanged := _not_modified(etag)) is not None:
            return unchanged
        return _cacheable(jsonify(run_search(search_request).to_json()), etag)

    @app.get("/api/suggest")
    def api_suggest() -> Response:
        q, limit, output = _suggest_params(request.args)
        etag = make_etag("suggest", {"q": q, "limit": str(limit), "format": output}, index_version())
        if (unchanged := _not_modified(etag)) is not None:
            return unchanged
        with engine().reader() as reader:
            completions = complete(reader, q, limit)
        if output == "opensearch":
            body = json.dumps([q, completions], ensure_ascii=False)
            response = Response(body, mimetype="application/x-suggestions+json")
        else:
            response = jsonify({"query": q, "completions": completions})
        return _cacheable(response, etag)

    @app.get("/api/analyze")
    def api_analyze() -> Response:
        return jsonify(analyze_json(engine(), validate_analyze(request.args)))

    @app.get("/api/openapi.json")
    def openapi_document() -> Response:
        return jsonify(openapi.document())

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok", **engine().stats()})


def _suggest_params(args: Mapping[str, str]) -> tuple[str, int, str]:
    """``q`` as for a search; ``limit`` 1-20 (default 8); ``format`` json|opensearch."""
    q = validate_request({"q": args.get("q")}).q  # type: ignore[dict-item]
    raw_limit = (args.get("limit") or "8").strip()
    if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 3
            and 1 <= int(raw_limit) <= MAX_COMPLETIONS):
        raise QueryError(f"limit must be an integer from 1 to {MAX_COMPLETIONS}", param="limit")
    output = args.get("format") or "json"
    if output not in SUGGEST_FORMATS:
        raise QueryError("format must be json or opensearch", param="format")
    return q, int(raw_limit), output


def _register_errors(app: Flask) -> None:
    @app.errorhandler(QueryError)
    def query_error(exc: QueryError) -> Response:
        return error_response(400, exc.code, str(exc), exc.param)

    @app.errorhandler(IndexMissing)
    @app.errorhandler(IndexUnusable)
    @app.errorhandler(EngineUnavailable)
    def index_error(exc: Exception) -> Response:
        hint = getattr(exc, "hint", "")
        return error_response(503, "index_unavailable", f"{exc}. {hint}".strip())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(status, "invalid_parameter" if status < 500 else "index_unavailable")
        if status >= 500:
            status = 503
        response = error_response(status, code, exc.description or exc.name)
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response


def _cors(response: Response) -> Response:
    """Any origin may GET the JSON API (read-only, no cookies)."""
    if request.path.startswith("/api/") and request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
