"""The HTML pages: search results, escaping, documents, interface language."""

from __future__ import annotations

from pathlib import Path

import pytest

from casearch.index import reindex
from casearch.web import create_app

from conftest import write


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_page_has_a_labelled_search_form(client) -> None:
    page = text(client.get("/?ui=en"))
    assert '<form action="/search" method="get">' in page
    assert '<label for="q"' in page and 'role="search"' in page and "<main" in page


def test_results_page_shows_highlighted_hits_and_count(client) -> None:
    page = text(client.get("/search?q=パイプライン&ui=ja&cross=0"))
    assert "<mark>パイプライン</mark>" in page and "2 件" in page
    assert "エネルギー・インフラで結びつく6カ国" in page
    assert 'href="/doc/summit-2025/ja?q=' in page


def test_language_filter_links_keep_the_query(client) -> None:
    page = text(client.get("/search?q=Kazakhstan&ui=en"))
    assert "q=Kazakhstan" in page and "lang=en" in page and "lang=ja" in page


def test_invalid_parameters_render_the_page_with_400(client) -> None:
    response = client.get("/search?q=&ui=en")
    assert response.status_code == 400 and "q must not be empty" in text(response)
    assert client.get("/search?q=a&page=-3").status_code == 400


def test_query_text_is_escaped(client) -> None:
    page = text(client.get('/search', query_string={"q": '<script>alert("x")</script>'}))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_document_text_is_escaped_everywhere(tmp_path: Path) -> None:
    write(tmp_path / "c/x.md", '---\ntitle: <b>T</b>\n---\n<script>evil()</script> 鉄道\n\n## <i>H</i>\n<a href="javascript:x">link</a>\n')
    reindex(tmp_path / "c", tmp_path / "ix")
    client = create_app({"INDEX_DIR": str(tmp_path / "ix")}).test_client()
    for url in ["/search?q=鉄道", "/doc/x?q=鉄道", "/search?q=link"]:
        page = text(client.get(url))
        assert "<script>evil" not in page and "<b>T</b>" not in page and "<i>H</i>" not in page
        assert '<a href="javascript:' not in page
    data = client.get("/api/search?q=鉄道").get_json()
    assert data["hits"][0]["title"] == "<b>T</b>"  # JSON titles are plain text


def test_document_page_has_anchored_sections_and_highlights(client) -> None:
    page = text(client.get("/doc/summit-2025/ja?q=天然ガス&ui=ja"))
    assert all(f'id="s{n}"' in page for n in range(1, 9))
    assert 'id="s5"' in page and "<mark>天然ガス</mark>" in page
    assert "summit-2025/en" in page


def test_unknown_document_is_404_page(client) -> None:
    response = client.get("/doc/does/not/exist")
    assert response.status_code == 404 and "<html" in text(response)
    assert client.get("/doc/../../etc/passwd").status_code == 404


def test_interface_language_from_ui_then_accept_language(client) -> None:
    assert 'lang="ja"' in text(client.get("/?ui=ja"))
    assert 'lang="en"' in text(client.get("/?ui=en", headers={"Accept-Language": "ja"}))
    assert 'lang="ja"' in text(client.get("/", headers={"Accept-Language": "ja,en;q=0.5"}))
    assert "検索" in text(client.get("/search?q=鉄道&lang=en", headers={"Accept-Language": "ja"}))


def test_security_headers_on_every_response(client) -> None:
    for url in ["/", "/search?q=x", "/api/search?q=x", "/nope"]:
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"


# --- API conventions: CORS, caching, completions ----------------------------------------


def test_cors_allows_any_origin_to_get_the_api(client) -> None:
    for url in ["/api/search?q=鉄道", "/api/suggest?q=鉄", "/api/openapi.json", "/api/search?q="]:
        response = client.get(url, headers={"Origin": "https://elsewhere.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*", url
        assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/api/search?q=a", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match"})
    assert preflight.status_code < 300 and "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in client.get("/search?q=鉄道").headers  # pages are same-origin


def test_search_etag_and_304(client) -> None:
    first = client.get("/api/search?q=鉄道")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/api/search?q=鉄道", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    # the same search written differently (defaults spelt out, whitespace) has the same tag
    assert client.get("/api/search?q=%E3%80%80鉄道&lang=all&page=1&per_page=10").headers["ETag"] == etag
    for other in ["/api/search?q=鉄道&lang=ja", "/api/search?q=鉄道&page=2", "/api/search?q=鉄道&sort=date",
                  "/api/search?q=鉄道&per_page=5", "/api/search?q=中国"]:
        response = client.get(other, headers={"If-None-Match": etag})
        assert response.status_code == 200 and response.headers["ETag"] != etag, other
    assert client.get("/api/search?q=鉄道", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/api/search?q=鉄道", headers={"If-None-Match": '"other", ' + etag}).status_code == 304


def test_etag_changes_when_the_index_changes(tmp_path: Path) -> None:
    write(tmp_path / "c/a.md", "鉄道の話\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    client = create_app({"INDEX_DIR": str(tmp_path / "ix")}).test_client()
    before = client.get("/api/search?q=鉄道")
    assert before.get_json()["total"] == 1
    write(tmp_path / "c/b.md", "鉄道の新しい話\n")
    reindex(tmp_path / "c", tmp_path / "ix")  # incremental: same folder, new Whoosh generation
    after = client.get("/api/search?q=鉄道", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["total"] == 2
    reindex(tmp_path / "c", tmp_path / "ix", full=True)  # a new generation folder
    rebuilt = client.get("/api/search?q=鉄道", headers={"If-None-Match": after.headers["ETag"]})
    assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] != after.headers["ETag"]


def test_suggest_endpoint(client) -> None:
    data = client.get("/api/suggest?q=パイ").get_json()
    assert data == {"query": "パイ", "completions": ["パイプライン"]}
    assert client.get("/api/suggest?q=中国の鉄").get_json()["completions"][0] == "中国の鉄道"
    assert len(client.get("/api/suggest?q=c&limit=2").get_json()["completions"]) == 2
    opensearch = client.get("/api/suggest?q=Kaz&format=opensearch")
    assert opensearch.mimetype == "application/x-suggestions+json"
    assert opensearch.get_json() == ["Kaz", ["Kazakhstan"]]
    etag = opensearch.headers["ETag"]
    assert client.get("/api/suggest?q=Kaz&format=opensearch", headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    ("url", "param"),
    [("/api/suggest", "q"), ("/api/suggest?q=%E3%80%80", "q"), ("/api/suggest?q=" + "a" * 501, "q"),
     ("/api/suggest?q=a&limit=0", "limit"), ("/api/suggest?q=a&limit=21", "limit"),
     ("/api/suggest?q=a&limit=x", "limit"), ("/api/suggest?q=a&format=xml", "format")],
)
def test_suggest_validates_like_search(client, url: str, param: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == param and response.get_json()["error"]["code"] == "invalid_parameter"


def test_did_you_mean_is_the_same_in_json_and_page(client) -> None:
    assert client.get("/api/search?q=Kazakstan").get_json()["suggestion"] == "Kazakhstan"
    assert "<strong>Kazakhstan</strong>" in text(client.get("/search?q=Kazakstan&ui=en"))
    assert client.get("/api/search?q=Kazakhstan").get_json()["suggestion"] is None


def test_method_not_allowed_names_the_allowed_methods(client) -> None:
    response = client.delete("/api/suggest?q=a")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_hits_and_suggestion_come_from_one_index_state(tmp_path: Path, monkeypatch) -> None:
    """A reindex that commits between the search and the suggestion must not mix them."""
    write(tmp_path / "c/a.md", "---\nlang: en\n---\nonlyaword here\n")
    reindex(tmp_path / "c", tmp_path / "ix")
    app = create_app({"INDEX_DIR": str(tmp_path / "ix")})
    engine = app.extensions["casearch_engine"]
    search = engine.search
    commits: list[int] = []

    def search_then_commit(request):
        result = search(request)
        if not commits:  # the first search answers from state A, then B is committed
            commits.append(1)
            (tmp_path / "c/a.md").unlink()
            write(tmp_path / "c/b.md", "---\nlang: en\n---\nonlybword here\n")
            reindex(tmp_path / "c", tmp_path / "ix")
        return result

    monkeypatch.setattr(engine, "search", search_then_commit)
    data = app.test_client().get("/api/search?q=onlybword").get_json()
    # state A alone: total 0 with "onlyaword" suggested; state B alone: total 1, nothing to
    # suggest. Never total 0 without the suggestion (hits of A, vocabulary of B).
    assert (data["total"], data["suggestion"]) == (1, None)
    assert len(commits) == 1
