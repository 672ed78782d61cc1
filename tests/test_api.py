"""The JSON endpoint and the error shape, as the contract pins them."""

from __future__ import annotations

import pytest

HIT_KEYS = {"doc_id", "title", "lang", "section", "url", "score", "snippet"}
TOP_KEYS = {"query", "lang", "page", "per_page", "total", "took_ms", "suggestion", "hits"}


def test_search_json_shape(client) -> None:
    response = client.get("/api/search", query_string={"q": "パイプライン"})
    data = response.get_json()
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert TOP_KEYS <= set(data)
    assert (data["query"], data["lang"], data["page"], data["per_page"]) == ("パイプライン", "all", 1, 10)
    assert data["total"] == len(data["hits"]) >= 2 and data["suggestion"] is None
    assert isinstance(data["took_ms"], float)
    for hit in data["hits"]:
        assert HIT_KEYS <= set(hit)
    energy = data["hits"][0]
    assert energy["section"] == "エネルギー・インフラで結びつく6カ国"
    assert "<mark>パイプライン</mark>" in energy["snippet"]


def test_english_query_with_language_filter_returns_the_companion(client) -> None:
    data = client.get("/api/search?q=Kazakhstan&lang=en").get_json()
    assert data["total"] >= 1 and {h["doc_id"] for h in data["hits"]} == {"summit-2025/en"}
    assert all(h["lang"] == "en" for h in data["hits"])


def test_lead_section_is_null_and_urls_are_percent_encoded(client) -> None:
    data = client.get("/api/search?q=整理").get_json()
    lead = data["hits"][0]
    assert lead["section"] is None and lead["url"] == "/doc/summit-2025/ja#s1"
    assert all(h["url"].isascii() for h in data["hits"])


def test_query_is_trimmed_and_parameters_parsed(client) -> None:
    data = client.get("/api/search", query_string={"q": "\u3000鉄道 ", "page": "2", "per_page": "1"}).get_json()
    assert (data["query"], data["page"], data["per_page"], len(data["hits"])) == ("鉄道", 2, 1, 1)


def test_page_past_the_last_is_empty_with_true_total(client) -> None:
    data = client.get("/api/search?q=鉄道&page=1000").get_json()
    assert data["hits"] == [] and data["total"] > 0


def test_unknown_parameters_are_ignored(client) -> None:
    assert client.get("/api/search?q=鉄道&foo=bar").status_code == 200


@pytest.mark.parametrize(
    ("url", "param"),
    [("/api/search", "q"), ("/api/search?q=", "q"), ("/api/search?q=%E3%80%80", "q"),
     ("/api/search?q=" + "a" * 501, "q"), ("/api/search?q=a&lang=de", "lang"),
     ("/api/search?q=a&page=0", "page"), ("/api/search?q=a&page=abc", "page"),
     ("/api/search?q=a&per_page=0", "per_page"), ("/api/search?q=a&per_page=51", "per_page")],
)
def test_invalid_parameters_give_400_with_error_shape(client, url: str, param: str) -> None:
    response = client.get(url)
    error = response.get_json()["error"]
    assert response.status_code == 400
    assert (error["code"], error["param"]) == ("invalid_parameter", param) and error["message"]


def test_not_found_and_method_not_allowed(client) -> None:
    missing = client.get("/api/nothing-here")
    wrong_method = client.post("/api/search?q=a")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_missing_index_is_503(tmp_path) -> None:
    from casearch.web import create_app

    client = create_app({"INDEX_DIR": str(tmp_path / "none")}).test_client()
    for url in ["/api/search?q=a", "/healthz"]:
        response = client.get(url)
        assert response.status_code == 503
    assert client.get("/api/search?q=a").get_json()["error"]["code"] == "index_unavailable"
    assert client.get("/healthz").get_json()["error"]["code"] == "index_unavailable"  # a health check reads JSON
    page = client.get("/search?q=a")
    assert page.status_code == 503 and "reindex" in page.get_data(as_text=True)


def test_healthz_counts_documents_and_passages(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok", "documents": 2, "passages": 16}
