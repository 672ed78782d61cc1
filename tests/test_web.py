"""The HTML pages: search results, escaping, documents, interface language."""

from __future__ import annotations

from pathlib import Path

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
    assert all(f'id="s{n}"' for n in range(1, 9))
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
