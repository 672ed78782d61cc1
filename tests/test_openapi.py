"""/api/openapi.json: a valid OpenAPI 3.1 document that every real response matches.

Each request below is made against the app; its status and media type must be documented
for that path, and a JSON body must validate against the documented schema with every
object closed (``additionalProperties: false``), so a field the server sends but the
document does not describe fails here. Every documented (path, status) must be exercised.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from casearch.web import create_app

# (path template, URL, request headers); the status is whatever the server answers.
REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("/api/search", "/api/search?q=パイプライン", {}),
    ("/api/search", "/api/search?q=首脳会議&lang=ja", {}),  # matched via synonym
    ("/api/search", "/api/search?q=pipline&lang=en&sort=date&per_page=3", {}),
    ("/api/search", "/api/search?q=鉄道&page=1000", {}),
    ("/api/search", "/api/search?q=a&per_page=51", {}),
    ("/api/search", "/api/search", {}),
    ("/api/search", "/api/search?q=" + "x" * 501, {}),
    ("/api/suggest", "/api/suggest?q=パイ", {}),
    ("/api/suggest", "/api/suggest?q=Kaz&format=opensearch", {}),
    ("/api/suggest", "/api/suggest?q=%20", {}),
    ("/api/suggest", "/api/suggest?q=a&limit=99", {}),
    ("/api/analyze", "/api/analyze?text=天然ガスのパイプライン", {}),
    ("/api/analyze", "/api/analyze?q=天然ガス pipeline&lang=ja", {}),
    ("/api/analyze", "/api/analyze?text=a&q=b", {}),
    ("/api/openapi.json", "/api/openapi.json", {}),
    ("/healthz", "/healthz", {}),
    ("/", "/?ui=ja", {}),
    ("/search", "/search?q=鉄道&ui=en", {}),
    ("/search", "/search?q=&ui=en", {}),
    ("/doc/{doc_id}", "/doc/summit-2025/ja?q=鉄道", {}),
    ("/doc/{doc_id}", "/doc/no/such/doc", {}),
    ("/opensearch.xml", "/opensearch.xml", {}),
    ("/assets/{name}", "/assets/style.css", {}),
    ("/assets/{name}", "/assets/suggest.js", {}),
    ("/assets/{name}", "/assets/icon.svg", {}),
    ("/assets/{name}", "/assets/nothing.css", {}),
]
MISSING_INDEX_REQUESTS = [
    ("/api/search", "/api/search?q=a"), ("/api/suggest", "/api/suggest?q=a"), ("/healthz", "/healthz"),
    ("/api/analyze", "/api/analyze?text=a"),
    ("/search", "/search?q=a"), ("/doc/{doc_id}", "/doc/a"),
]


@pytest.fixture(scope="module")
def spec(app) -> dict:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(spec: dict) -> None:
    validate_spec(spec)
    assert spec["openapi"].startswith("3.1")


def test_every_route_is_documented(app, spec: dict) -> None:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        routes.add(path)
        assert "GET" in rule.methods, path
        assert "get" in spec["paths"].get(path, {}), f"{path} is not in the OpenAPI document"
    assert routes == set(spec["paths"]), "the document describes a route the app does not have"


def _response_spec(spec: dict, path: str, status: int) -> dict:
    responses = spec["paths"][path]["get"]["responses"]
    assert str(status) in responses, f"{path} answered {status}, which is not documented"
    found = responses[str(status)]
    if "$ref" in found:
        found = spec["components"]["responses"][found["$ref"].rsplit("/", 1)[1]]
    return found


def _closed(schema):
    """The schema with every object closed to fields it does not list."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def check(spec: dict, path: str, response) -> tuple[str, int]:
    documented = _response_spec(spec, path, response.status_code)
    content = documented.get("content")
    if not content:
        assert response.get_data() == b"", f"{path} {response.status_code} has a body it does not document"
        return path, response.status_code
    assert response.mimetype in content, f"{path} {response.status_code} answered {response.mimetype}"
    for header in documented.get("headers", {}):
        assert header in response.headers, f"{path} {response.status_code} lacks the documented {header}"
    schema = content[response.mimetype]["schema"]
    if response.mimetype.endswith("json"):
        validator = Draft202012Validator({**_closed(schema), "components": _closed(spec["components"])})
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.get_json())]
        assert not errors, f"{path} {response.status_code}: {errors}"
    else:
        assert response.get_data(as_text=True)
    return path, response.status_code


def test_real_responses_match_the_document(app, spec: dict, tmp_path: Path) -> None:
    client = app.test_client()
    exercised = set()
    for path, url, headers in REQUESTS:
        response = client.get(url, headers=headers)
        exercised.add(check(spec, path, response))
        if response.status_code == 200 and "ETag" in response.headers:
            again = client.get(url, headers={**headers, "If-None-Match": response.headers["ETag"]})
            assert again.status_code == 304
            exercised.add(check(spec, path, again))
    missing = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    for path, url in MISSING_INDEX_REQUESTS:
        response = missing.get(url)
        assert response.status_code == 503
        exercised.add(check(spec, path, response))
    documented = {
        (path, int(status)) for path, item in spec["paths"].items() for status in item["get"]["responses"]
    }
    assert documented <= exercised, f"documented but never exercised: {sorted(documented - exercised)}"


def test_the_document_carries_the_contract_limits(spec: dict) -> None:
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params["q"]["required"] is True
    assert (params["page"]["schema"]["minimum"], params["page"]["schema"]["maximum"]) == (1, 1000)
    assert (params["per_page"]["schema"]["maximum"], params["per_page"]["schema"]["default"]) == (50, 10)
    assert params["lang"]["schema"]["enum"] == ["all", "ja", "en"]
    hit = spec["components"]["schemas"]["Hit"]
    assert set(hit["required"]) == {"doc_id", "title", "lang", "section", "url", "score", "snippet"}
    assert {"matched", "counterpart", "date", "source"} <= set(hit["properties"])
    codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    assert set(codes) == {"invalid_parameter", "query_too_complex", "not_found", "method_not_allowed",
                          "index_unavailable"}


def test_closing_objects_catches_an_undocumented_field(spec: dict) -> None:
    """The strict check above is not vacuous: an extra field fails it."""
    schema = {**_closed(spec["components"]["schemas"]["Health"]), "components": spec["components"]}
    assert Draft202012Validator(schema).is_valid({"status": "ok", "documents": 1, "passages": 2})
    assert not Draft202012Validator(schema).is_valid({"status": "ok", "documents": 1, "passages": 2, "x": 1})
