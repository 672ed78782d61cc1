"""The OpenAPI 3.1 description of every route, served at ``/api/openapi.json``.

Built from the same limits the code enforces (``search.MAX_*``, ``suggest``), so the
document cannot drift from the validation. Schemas are JSON Schema 2020-12 (OpenAPI
3.1's dialect); objects allow fields not listed, as the contract lets responses grow.
The test suite validates real responses of every route against this document.
"""

from __future__ import annotations

from typing import Any

from . import __version__
from .docpages import MAX_PAGE as MAX_DOC_PAGE, PAGE_CHARS
from .search import LANGS, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS, SORTS
from .introspect import ANALYZE_LANGS, MAX_TEXT_CHARS
from .suggest import MAX_COMPLETIONS

ERROR_CODES = ("invalid_parameter", "query_too_complex", "not_found", "method_not_allowed", "index_unavailable")
MATCH_VIA = ("surface", "base", "reading", "gloss", "dictionary", "corpus", "glossary", "mined", "transliteration",
             "synonym", "translation")
MATCH_FIELDS = ("body", "reading", "ngram", "heading", "title")
HTML = "text/html"
NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    return response


def _text(media_type: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}


def _error(description: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{description}"}


def _param(name: str, where: str = "query", **schema: Any) -> dict[str, Any]:
    description = schema.pop("description", None)
    required = schema.pop("required", False)
    param: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


Q_DESCRIPTION = (
    f"The query, 1 to {MAX_QUERY_CHARS} characters after trimming Unicode whitespace (U+3000 "
    "included); NFKC-normalized. Syntax: words ANDed, \"phrase\", A OR B, NOT w / -w, "
    "parentheses, title: / section: / body:, trailing * for a prefix."
)
SEARCH_PARAMS = [
    _param("q", required=True, type="string", minLength=1, description=Q_DESCRIPTION),
    _param("lang", type="string", enum=list(LANGS), default="all", description="Language filter."),
    _param("page", type="integer", minimum=1, maximum=MAX_PAGE, default=1),
    _param("per_page", type="integer", minimum=1, maximum=MAX_PER_PAGE, default=10),
    _param("sort", type="string", enum=list(SORTS), default="relevance",
           description="relevance (score, then doc_id, then section) or date (newest first; undated last)."),
    _param("cross", type="integer", enum=[0, 1], default=1, description="Cross-lingual expansion off (0) or on (1)."),
]
UI_PARAM = _param("ui", type="string", enum=["ja", "en"],
                  description="Interface language; without it, Accept-Language decides.")

SCHEMAS: dict[str, Any] = {
    "SearchResult": {
        "type": "object",
        "required": ["query", "lang", "page", "per_page", "total", "took_ms", "suggestion", "hits"],
        "properties": {
            "query": {"type": "string", "description": "q as searched (trimmed)."},
            "lang": {"type": "string", "enum": list(LANGS)},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0, "description": "Matching passages, expansion included."},
            "took_ms": {"type": "number", "minimum": 0},
            "suggestion": {**NULLABLE_STRING, "description": "A corrected query (\"did you mean\"), or null."},
            "hint": {**NULLABLE_STRING, "description": "A sentence for the user, or null."},
            "sort": {"type": "string", "enum": list(SORTS)},
            "matching": {
                "type": "string", "enum": ["all", "partial"],
                "description": "all: every hit matches the whole query. partial: no passage did (in "
                               "any language), so the hits are passages that match some of its words (more "
                               "words, and rarer ones, first; question words like いくら or what count "
                               "little); total and facets count them.",
            },
            "facets": {
                "type": "object", "description": "Matching passages per language, whatever the lang filter.",
                "properties": {code: {"type": "integer", "minimum": 0} for code in LANGS},
            },
            "hits": {"type": "array", "maxItems": MAX_PER_PAGE, "items": _ref("Hit")},
        },
    },
    "Hit": {
        "type": "object",
        "required": ["doc_id", "title", "lang", "section", "url", "score", "snippet"],
        "properties": {
            "doc_id": {"type": "string"},
            "title": {"type": "string", "description": "Plain text."},
            "lang": {"type": "string", "enum": ["ja", "en"]},
            "section": {**NULLABLE_STRING, "description": "The heading (plain text), null for the lead section."},
            "url": {"type": "string", "pattern": "^/doc/[\\x21-\\x7e]+#s[0-9]+$",
                    "description": "/doc/<doc_id>#sN, non-ASCII percent-encoded."},
            "score": {"type": "number"},
            "snippet": {"type": "string", "description": "HTML: text escaped, only <mark> and </mark> raw."},
            "matched": {"type": "array", "items": _ref("Match")},
            "counterpart": {"oneOf": [_ref("Counterpart"), {"type": "null"}]},
            "date": {**NULLABLE_STRING, "description": "ISO 8601 date of the document."},
            "source": NULLABLE_STRING,
            "title_html": {"type": "string", "description": "The title as HTML, its matches in <mark>."},
            "heading_html": {**NULLABLE_STRING, "description": "The heading as HTML, its matches in <mark>; null for the lead section."},
            "translation_snippet": {**NULLABLE_STRING, "description": (
                "A hit that joined as the translation of a matching passage and holds no word of the "
                "query: that passage's snippet (HTML, matches in <mark>), in the other language. Else null.")},
        },
    },
    "Match": {
        "type": "object", "required": ["term", "via"],
        "properties": {
            "term": {"type": "string", "description": "The query part, as typed."},
            "via": {"type": "string", "enum": list(MATCH_VIA)},
            "field": {"type": "string", "enum": list(MATCH_FIELDS),
                      "description": "Where it matched: the text (body), its reading or characters (ngram), the heading or the title."},
            "word": {"type": "string", "description": "A counterpart's or synonym's own word in the passage (パイプライン for pipeline)."},
        },
    },
    "Counterpart": {
        "type": "object", "required": ["doc_id", "section", "url"],
        "description": "The passage in the other language.",
        "properties": {"doc_id": {"type": "string"}, "section": NULLABLE_STRING, "url": {"type": "string"}},
    },
    "Completions": {
        "type": "object", "required": ["query", "completions"],
        "properties": {
            "query": {"type": "string"},
            "completions": {"type": "array", "maxItems": MAX_COMPLETIONS, "items": {"type": "string"},
                            "description": "Whole queries: q with its last word completed, most frequent first."},
        },
    },
    "Analysis": {
        "type": "object", "required": ["tokens"],
        "description": "How the index sees a text (text=) or a query (q=: also what each word became).",
        "properties": {
            "tokens": {"type": "array", "items": _ref("Token")},
            "query": {"type": "string", "description": "q as parsed (trimmed); only for q=."},
            "words": {"type": "array", "items": _ref("QueryWord"), "description": "Only for q=: the searched words."},
            "stop_only": {"type": "array", "items": {"type": "string"},
                          "description": "Only for q=: words made only of particles, searched for nothing."},
        },
    },
    "Token": {
        "type": "object", "required": ["surface", "start", "end", "term", "base", "reading", "pos", "indexed", "stop"],
        "properties": {
            "surface": {"type": "string", "description": "text[start:end] of the original text."},
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 0},
            "term": {"type": "string", "description": "The form indexed (folded base form)."},
            "base": {"type": "string", "description": "Dictionary form (English: the stem)."},
            "reading": {**NULLABLE_STRING, "description": "Katakana, or null."},
            "pos": {"type": "string", "description": "Part of speech."},
            "indexed": {"type": "boolean", "description": "False for symbols, which are not indexed."},
            "stop": {"type": "boolean", "description": "Particle or stop word: only searched inside phrases."},
        },
    },
    "QueryWord": {
        "type": "object", "required": ["word", "lemma", "surface", "reading", "counterparts", "alternatives"],
        "properties": {
            "word": {"type": "string", "description": "The part of the query as written."},
            "lemma": {"type": ["array", "null"], "items": {"type": "string"}, "description": "Base forms searched."},
            "surface": {"type": ["array", "null"], "items": {"type": "string"}, "description": "Written forms."},
            "reading": {**NULLABLE_STRING, "description": "Katakana reading, or null."},
            "counterparts": {"type": "array", "items": _ref("QueryCounterpart"),
                             "description": "The other language's terms and synonyms searched too."},
            "alternatives": {"type": "array", "items": _ref("Alternative"),
                             "description": "Every way the word is looked up."},
        },
    },
    "QueryCounterpart": {
        "type": "object", "required": ["terms", "source", "fields"],
        "properties": {
            "terms": {"type": "array", "items": {"type": "string"}, "description": "Index terms, as a phrase."},
            "source": {"type": "string", "enum": list(MATCH_VIA)},
            "fields": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Alternative": {
        "type": "object", "required": ["field", "terms", "via", "boost", "searched"],
        "properties": {
            "field": {"type": "string"},
            "terms": {"type": "array", "items": {"type": "string"}},
            "via": {"type": "string", "enum": list(MATCH_VIA)},
            "boost": {"type": "number"},
            "searched": {"type": "boolean", "description": "False: only used to explain and mark a match."},
        },
    },
    "OpenSearchSuggestions": {
        "type": "array", "description": "OpenSearch suggestions: [query, [completions]].",
        "prefixItems": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "minItems": 2, "maxItems": 2,
    },
    "Health": {
        "type": "object", "required": ["status", "documents", "passages"],
        "properties": {
            "status": {"const": "ok"},
            "documents": {"type": "integer", "minimum": 0},
            "passages": {"type": "integer", "minimum": 0},
        },
    },
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {
            "error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": list(ERROR_CODES)},
                    "param": {"type": "string", "description": "The parameter at fault (invalid_parameter)."},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

HEADERS = {
    "ETag": {"description": "Weak tag of the index generation and the normalized parameters.",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, no-cache: keep, but revalidate with If-None-Match.",
                      "schema": {"type": "string"}},
    "Access-Control-Allow-Origin": {"description": "* (any origin may GET the API).", "schema": {"type": "string"}},
}

RESPONSES = {
    "BadRequest": _json(_ref("Error"), "invalid_parameter (with param) or query_too_complex.",
                        ("Access-Control-Allow-Origin",)),
    "Unavailable": _json(_ref("Error"), "index_unavailable: the index is missing or unreadable.",
                         ("Access-Control-Allow-Origin",)),
    "NotModified": {"description": "If-None-Match matched the ETag.",
                    "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}},
    "ErrorPage": _text(HTML, "The page with the error message (errors outside /api/ and /healthz are pages)."),
}


def _paths() -> dict[str, Any]:
    cached = ("ETag", "Cache-Control", "Access-Control-Allow-Origin")
    return {
        "/api/search": {"get": {
            "operationId": "search", "summary": "Search passages (JSON).",
            "parameters": SEARCH_PARAMS,
            "responses": {
                "200": _json(_ref("SearchResult"), "A page of hits.", cached),
                "304": _error("NotModified"), "400": _error("BadRequest"), "503": _error("Unavailable"),
            },
        }},
        "/api/suggest": {"get": {
            "operationId": "suggest", "summary": "Completions of the last word being typed.",
            "parameters": [
                _param("q", required=True, type="string", minLength=1, description=Q_DESCRIPTION),
                _param("limit", type="integer", minimum=1, maximum=MAX_COMPLETIONS, default=8),
                _param("format", type="string", enum=["json", "opensearch"], default="json",
                       description="opensearch answers [q, [completions]] as application/x-suggestions+json."),
            ],
            "responses": {
                "200": {
                    "description": "Completions, most frequent first.",
                    "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in cached},
                    "content": {
                        "application/json": {"schema": _ref("Completions")},
                        "application/x-suggestions+json": {"schema": _ref("OpenSearchSuggestions")},
                    },
                },
                "304": _error("NotModified"), "400": _error("BadRequest"), "503": _error("Unavailable"),
            },
        }},
        "/api/analyze": {"get": {
            "operationId": "analyze",
            "summary": "How the index sees a text, or what a query becomes (user dictionary included).",
            "parameters": [
                _param("text", type="string", minLength=1, maxLength=MAX_TEXT_CHARS,
                       description=f"A text to analyze, 1 to {MAX_TEXT_CHARS} characters. Give text or q."),
                _param("q", type="string", minLength=1, description=Q_DESCRIPTION + " Its tokens and expansion."),
                _param("lang", type="string", enum=[*ANALYZE_LANGS, "all"],
                       description="With text: ja or en (one analyzer reads both). With q: the results' "
                       "language, as for a search (all, ja, en)."),
                _param("cross", type="integer", enum=[0, 1], default=1, description="With q: expansion off or on."),
            ],
            "responses": {
                "200": _json(_ref("Analysis"), "Tokens; for q also the words.", ("Access-Control-Allow-Origin",)),
                "400": _error("BadRequest"), "503": _error("Unavailable"),
            },
        }},
        "/api/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document.",
            "responses": {"200": _json({"type": "object", "required": ["openapi", "paths"]}, "OpenAPI 3.1.")},
        }},
        "/healthz": {"get": {
            "operationId": "health", "summary": "Liveness and index size.",
            "responses": {
                "200": _json(_ref("Health"), "Serving."),
                "503": _json(_ref("Error"), "index_unavailable: the index is missing or unreadable (JSON, for health checks)."),
            },
        }},
        "/": {"get": {
            "operationId": "home", "summary": "The search form.", "parameters": [UI_PARAM],
            "responses": {"200": _text(HTML, "The page.")},
        }},
        "/search": {"get": {
            "operationId": "searchPage", "summary": "The results page.",
            "parameters": [*SEARCH_PARAMS, UI_PARAM],
            "responses": {
                "200": _text(HTML, "Hits grouped by document, facets, paging."),
                "304": _error("NotModified"), "400": _error("ErrorPage"), "503": _error("ErrorPage"),
            },
        }},
        "/doc/{doc_id}": {"get": {
            "operationId": "document",
            "summary": "A whole document, sections anchored #s1, #s2, ...; a long one a page at a time",
            "description": (
                f"A document of more than {PAGE_CHARS:,} characters is shown in pages of whole passages "
                "(passages after a section's first anchored #sNpM), with links to the other pages and a "
                "table of contents linking each heading on its page. A shorter one is shown whole and "
                "ignores page and at."
            ),
            "parameters": [
                _param("doc_id", "path", required=True, type="string",
                       description="The document id; may contain / (summit-2025/ja)."),
                _param("q", type="string", description="Highlight these query terms."), UI_PARAM,
                _param("page", type="integer", minimum=1, maximum=MAX_DOC_PAGE,
                       description="The page of a long document (default 1)."),
                _param("at", type="string", pattern="^s[1-9][0-9]*(p[1-9][0-9]*)?$",
                       description="A section (s5) or passage (s5p3): a long document redirects to "
                                   "the page holding it, with that anchor."),
                _param("parallel", type="string", enum=["1"],
                       description="Side by side with its translation (the sections of this page)."),
            ],
            "responses": {
                "200": _text(HTML, "The document, or one page of it."),
                "302": {"description": "at on a long document: Location is the page holding it, with its anchor."},
                "400": _error("ErrorPage"), "404": _error("ErrorPage"), "503": _error("ErrorPage"),
            },
        }},
        "/opensearch.xml": {"get": {
            "operationId": "opensearch", "summary": "OpenSearch description (add casearch to a browser).",
            "responses": {"200": _text("application/opensearchdescription+xml", "OpenSearch 1.1 description.")},
        }},
        "/assets/{name}": {"get": {
            "operationId": "asset", "summary": "The page's stylesheet, icon and optional script.",
            "parameters": [_param("name", "path", required=True, type="string",
                                  enum=["style.css", "suggest.js", "icon.svg"])],
            "responses": {
                "200": {"description": "The file.", "content": {
                    media: {"schema": {"type": "string"}} for media in ("text/css", "text/javascript", "image/svg+xml")}},
                "404": _error("ErrorPage"),
            },
        }},
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "casearch",
            "version": __version__,
            "description": (
                "Search Japanese and English documents. Errors share one shape, "
                "{\"error\": {\"code\", \"param\", \"message\"}}: JSON under /api/, a page elsewhere; "
                "any other method than GET answers 405 method_not_allowed; unknown paths 404 not_found. "
                "Responses may gain fields; clients ignore fields they do not know, and the server "
                "ignores query parameters it does not know."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {"schemas": SCHEMAS, "headers": HEADERS, "responses": RESPONSES},
    }
