"""Web layer: Flask app factory and routes. HTML and JSON share one search call.

    request args -> search.validate_request -> Engine.search -> SearchResult
        -> JSON (/api/search)  or  template context (/search)

Errors take one shape everywhere (``error_response``): JSON under ``/api/``, the page
elsewhere, with the contract's codes. The interface language comes from ``?ui=`` or the
``Accept-Language`` header, never from the ``lang`` search filter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from . import config
from .errors import IndexMissing, IndexUnusable, QueryError
from .search import Engine, SearchResult, doc_url, validate_request

UI_LANGS = ("ja", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "Japanese and English document search",
        "search": "Search", "query_label": "Search query", "placeholder": "e.g. パイプライン or pipeline",
        "all": "All", "ja": "日本語", "en": "English", "results": "{total} results ({ms} ms)",
        "no_results": "No passages match “{q}”.", "try": "Try fewer words, another spelling, or the other language.",
        "prev": "Previous", "next": "Next", "first": "First", "page": "Page {page}",
        "lead": "Introduction", "source": "Source", "error": "Error", "back": "Back to search",
        "not_found": "Not found", "translations": "Also in", "lang_filter": "Language",
        "ui_switch": "日本語で表示", "contents": "Contents",
    },
    "ja": {
        "tagline": "日本語と英語の文書検索",
        "search": "検索", "query_label": "検索語", "placeholder": "例: パイプライン、pipeline",
        "all": "すべて", "ja": "日本語", "en": "English", "results": "{total} 件（{ms} ミリ秒）",
        "no_results": "「{q}」に一致する箇所はありません。", "try": "語を減らす、表記を変える、別の言語で探すなどを試してください。",
        "prev": "前へ", "next": "次へ", "first": "最初", "page": "{page} ページ",
        "lead": "はじめに", "source": "出典", "error": "エラー", "back": "検索に戻る",
        "not_found": "見つかりません", "translations": "他の言語", "lang_filter": "言語",
        "ui_switch": "English", "contents": "目次",
    },
}


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Defaults, then ``CASEARCH_*`` environment (via config), then ``test_config``."""
    app = Flask(__name__, template_folder=str(templates_dir()))
    app.config.update(INDEX_DIR=str(config.index_dir()), CORPUS_DIR=str(config.corpus_dir()))
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["casearch_engine"] = Engine(Path(app.config["INDEX_DIR"]))
    app.add_template_filter(query_with)
    _register_routes(app)
    _register_errors(app)
    app.after_request(_security_headers)
    return app


def templates_dir() -> Path:
    """Templates inside the installed package, else the checkout's top-level folder."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def engine() -> Engine:
    from flask import current_app

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
    return {"ui": ui, "t": MESSAGES[ui], "other_ui": "en" if ui == "ja" else "ja", **extra}


def error_response(status: int, code: str, message: str, param: str | None = None) -> Response:
    """The one place error responses are made: JSON under /api/, a page elsewhere."""
    body: dict[str, Any] = {"code": code, "message": message}
    if param is not None:
        body["param"] = param
    if request.path.startswith("/api/"):
        response = jsonify({"error": body})
    else:
        response = Response(render_template("error.html", **_context(error=body, status=status, q="")))
    response.status_code = status
    return response


def _register_routes(app: Flask) -> None:
    @app.get("/")
    def home() -> str:
        return render_template("search.html", **_context(q="", lang="all", result=None))

    @app.get("/search")
    def search_page() -> Response | str:
        try:
            search_request = validate_request(request.args)
        except QueryError as exc:
            page = render_template(
                "search.html",
                **_context(q=request.args.get("q", ""), lang=request.args.get("lang", "all"), result=None,
                           error={"code": exc.code, "param": exc.param, "message": str(exc)}),
            )
            return Response(page, status=400)
        result = engine().search(search_request)
        return render_template("search.html", **_context(q=search_request.q, lang=search_request.lang,
                                                           result=result, pages=_pages(result)))

    @app.get("/api/search")
    def api_search() -> Response:
        result = engine().search(validate_request(request.args))
        return jsonify(result.to_json())

    @app.get("/doc/<path:doc_id>")
    def document(doc_id: str) -> Response | str:
        q = (request.args.get("q") or "").strip()[:500] or None
        view = engine().document(doc_id, q)
        if view is None:
            return error_response(404, "not_found", f"No document with id {doc_id!r}")
        links = [(other, doc_url(other)) for other in view.translations]
        return render_template("doc.html", **_context(doc=view, q=q or "", translations=links))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok", **engine().stats()})

    @app.get("/assets/style.css")
    def stylesheet() -> Response:
        css = (templates_dir() / "style.css").read_text(encoding="utf-8")
        return Response(css, mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})


def _pages(result: SearchResult) -> dict[str, int | None]:
    last = max(1, -(-result.total // result.per_page))
    return {
        "last": last,
        "prev": result.page - 1 if result.page > 1 else None,
        "next": result.page + 1 if result.page < last else None,
    }


def _register_errors(app: Flask) -> None:
    @app.errorhandler(QueryError)
    def query_error(exc: QueryError) -> Response:
        return error_response(400, exc.code, str(exc), exc.param)

    @app.errorhandler(IndexMissing)
    @app.errorhandler(IndexUnusable)
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
        return error_response(status, code, exc.description or exc.name)


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
