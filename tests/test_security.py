"""Security: escaping everywhere, security headers, /doc confinement, broken indexes.

A hostile corpus (script tags, attribute breakers, ``javascript:`` links, template syntax,
entities) is indexed and every page that shows it is parsed as a browser would: no
element or attribute may come from the documents or the query, only from the templates,
and the hostile text must still be visible as text. The helpers here (``check_page``,
``check_headers``) are also used by the fuzz tests on every response they get.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.cli import main
from casearch.index import reindex
from casearch.layout import BLOCK_TAGS, INLINE_TAGS
from casearch.web import create_app, templates_dir

from conftest import REPO, write

# --- what a page may contain -----------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "cite", "data", "background", "srcset",
                  "xlink:href", "ping", "manifest"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")


def template_tags() -> set[str]:
    """Every element the templates write: anything else in a page came from the data."""
    tags = {"mark", *BLOCK_TAGS, *INLINE_TAGS}  # marks; the fixed elements of a Markdown layout
    for template in templates_dir().glob("*.html"):
        tags |= {t.lower() for t in re.findall(r"<([A-Za-z][A-Za-z0-9-]*)", template.read_text(encoding="utf-8"))}
    return tags


class PageScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.script_text: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] in ("script", "style"):
            self.script_text.append(data)
        else:
            self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)


def scan(html: str) -> PageScan:
    parser = PageScan()
    parser.feed(html)
    parser.close()
    return parser


_TAGS = None


def check_page(html: str) -> PageScan:
    """The page holds only the templates' elements, no inline script, no event handler
    attribute and no link that leaves the site or runs code."""
    global _TAGS
    _TAGS = _TAGS or template_tags()
    page = scan(html)
    for tag, attrs in page.elements:
        assert tag in _TAGS, f"element <{tag}> does not come from a template"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler attribute {name}={value!r} on <{tag}>"
            if name in URL_ATTRIBUTES and value is not None:
                check_url(value, f"<{tag} {name}>")
        if tag == "meta":
            assert (attrs.get("http-equiv") or "").lower() != "refresh"
        if tag == "script":
            assert attrs.get("src"), "inline script"
    assert "".join(page.script_text).strip() == "", "inline script content"
    return page


def check_url(value: str, where: str) -> None:
    compact = re.sub(r"[\x00-\x20\x7f]+", "", value).lower()
    assert not compact.startswith(DANGEROUS_SCHEMES), f"{where} runs code: {value!r}"
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", compact)
    if scheme:
        assert scheme.group(1) in ("http", "https", "mailto"), f"{where} has scheme {value!r}"
    else:
        assert not compact.startswith(("//", "/\\", "\\")), f"{where} leaves the site: {value!r}"


def csp(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


def check_headers(response) -> None:
    """The security headers the issue asks for, on any response."""
    headers = response.headers
    policy = csp(headers.get("Content-Security-Policy", ""))
    scripts = policy.get("script-src", policy.get("default-src"))
    assert scripts is not None, "CSP does not restrict scripts"
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts), scripts
    assert policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("object-src", policy.get("default-src")) in (["'none'"], ["'self'"])
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in (
        "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin")


def check_snippet(snippet: str) -> None:
    """Escaped text with only <mark> and </mark> raw."""
    bare = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare, snippet
    assert snippet.count("<mark>") == snippet.count("</mark>")


# --- a hostile corpus -----------------------------------------------------------------

TITLE = '<script>alert("title")</script> xssprobe'
HEADING = '"><img src=x onerror=alert(1)> xssprobe heading'
SCRIPT_BODY = "<script>alert('body')</script>"
ATTRIBUTE_BREAKERS = "\"' onmouseover='alert(2)' x=\" ` =` <svg/onload=alert(3)>"
HOSTILE: dict[str, str] = {
    "hostile/tags.md": (
        f"---\ntitle: {TITLE}\nsource: <b onclick=alert(4)>source</b>\nurl: javascript:alert(5)\n"
        "translations: [\"><script>x</script>, javascript:alert(6)]\n---\n"
        f"xssprobe lead {SCRIPT_BODY} and <a href=\"javascript:alert(7)\">a link</a>.\n\n"
        f"## {HEADING}\n\n{ATTRIBUTE_BREAKERS} xssprobe body.\n\n"
        "[markdown link](javascript:alert(8)) <iframe src=\"//evil.example\"></iframe> xssprobe\n"
    ),
    "hostile/template.md": (
        "---\ntitle: {{ 7*7 }} {% if 1 %}jinja{% endif %} xssprobe\nlang: en\n---\n"
        "Entities stay text: &lt;b&gt; &amp;amp; &#x3C;script&#x3E; xssprobe\n\n"
        "## </title><script>alert(9)</script>\n\n<!-- comment --> ]]> </textarea></style> xssprobe\n"
    ),
    "hostile/<img src=x onerror=alert(10)>.md": "No title here, xssprobe in the body\n",
    "hostile/ja.md": "---\ntitle: 日本語の<script>見出し</script>\n---\n鉄道<b>太字</b>の xssprobe 記事。\n",
}
# Markdown decodes entities once, as any Markdown reader shows them: what they spell is text.
SHOWN_AS_TEXT = [TITLE, SCRIPT_BODY, '<a href="javascript:alert(7)">a link</a>', "{{ 7*7 }}",
                 "<b> &amp; <script>", "</title><script>alert(9)</script>", "<!-- comment -->",
                 "[markdown link](javascript:alert(8))"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("hostile")
    shutil.copytree(REPO / "corpus", base / "corpus")
    for rel, text in HOSTILE.items():
        write(base / "corpus" / rel, text)
    report = reindex(base / "corpus", base / "ix")
    assert report.skipped == []
    return base / "corpus", base / "ix"


@pytest.fixture(scope="module")
def hclient(hostile):
    return create_app({"INDEX_DIR": str(hostile[1]), "CORPUS_DIR": str(hostile[0]), "TESTING": True}).test_client()


def get_page(client, url: str, status: int = 200, **kwargs) -> PageScan:
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "text/html"
    check_headers(response)
    return check_page(response.get_data(as_text=True))


def test_the_checker_catches_what_it_should() -> None:
    for bad in ["<script>alert(1)</script>", '<p onclick="x">', '<a href=" JaVa\nscript:alert(1)">',
                '<a href="//evil.example/">', '<img src=x>', '<a href="/\\evil.example">']:
        with pytest.raises(AssertionError):
            check_page(f"<p>{bad}</p>")
    check_page('<p>&lt;script&gt; <a href="/doc/x?q=1#s2">ok</a> <mark>m</mark></p>')


def test_results_page_shows_hostile_documents_as_text(hclient) -> None:
    for ui in ("en", "ja"):
        page = get_page(hclient, f"/search?q=xssprobe&per_page=50&ui={ui}")
        assert TITLE in page.text and HEADING in page.text
    for q in ["script", "alert", "javascript", "onerror", "jinja", "太字"]:
        page = get_page(hclient, "/search", query_string={"q": q})
        assert "<mark>" not in page.text  # marks are elements, never text


def test_document_pages_show_hostile_text_as_text(hclient) -> None:
    api = hclient.get("/api/search?q=xssprobe&per_page=50").get_json()
    ids = {hit["doc_id"] for hit in api["hits"]}
    assert ids == {"hostile/tags", "hostile/template", "hostile/<img src=x onerror=alert(10)>", "hostile/ja"}
    shown = ""
    for doc_id in sorted(ids):
        url = next(h["url"] for h in api["hits"] if h["doc_id"] == doc_id).split("#")[0]
        assert url.startswith("/doc/") and url.isascii()
        for suffix in ("", "?q=xssprobe", "?q=script+alert", "?q=%3Cscript%3E"):
            shown += get_page(hclient, url + suffix).text
    for text in SHOWN_AS_TEXT + [HEADING, "<b>太字</b>", "<img src=x onerror=alert(10)>"]:
        assert text in shown, text
    assert "49" not in shown  # {{ 7*7 }} was not evaluated


def test_json_titles_and_sections_are_plain_text_and_snippets_escaped(hclient) -> None:
    data = hclient.get("/api/search?q=xssprobe&per_page=50").get_json()
    by_id = {hit["doc_id"]: hit for hit in data["hits"]}
    assert by_id["hostile/tags"]["title"] == TITLE
    assert by_id["hostile/template"]["title"].startswith("{{ 7*7 }} {% if 1 %}jinja")
    assert by_id["hostile/<img src=x onerror=alert(10)>"]["title"] == "<img src=x onerror=alert(10)>"
    sections = {hit["section"] for hit in hclient.get("/api/search?q=heading").get_json()["hits"]}
    assert HEADING in sections
    for q in ["xssprobe", "script", "alert", "onmouseover", "iframe", "amp"]:
        response = hclient.get("/api/search", query_string={"q": q, "per_page": "50"})
        assert response.mimetype == "application/json"
        check_headers(response)
        for hit in response.get_json()["hits"]:
            check_snippet(hit["snippet"])
            check_url(hit["url"], "hit url")
            assert hit["url"].startswith("/doc/")
    snippet = hclient.get("/api/search?q=script").get_json()["hits"]
    assert any("&lt;<mark>script</mark>&gt;" in hit["snippet"] for hit in snippet)


HOSTILE_QUERIES = [
    '<script>alert("q")</script>', '" autofocus onfocus=alert(1) x="', "' onmouseover='alert(1)",
    "</title><script>alert(1)</script>", "javascript:alert(1)", "{{ 7*7 }}", "<!--", "]]>",
    "title:<svg/onload=alert(1)>", '"<img src=x onerror=alert(1)>"', "&lt;script&gt;", "%3Cscript%3E",
]


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_query_text_is_reflected_only_as_text(hclient, q: str) -> None:
    for route in ("/search", "/doc/summit-2025/ja"):
        page = get_page(hclient, route, query_string={"q": q, "ui": "en"})
        values = [attrs.get("value") for tag, attrs in page.elements if tag == "input" and attrs.get("id") == "q"]
        assert values == [q], values
    data = hclient.get("/api/search", query_string={"q": q}).get_json()
    assert data["query"] == q
    for hit in data["hits"]:
        check_snippet(hit["snippet"])


@pytest.mark.parametrize("param", ["lang", "page", "per_page", "sort", "ui", "cross", "unknown"])
def test_other_parameters_are_never_reflected_as_markup(hclient, param: str) -> None:
    value = '"><script>alert(1)</script>'
    response = hclient.get("/search", query_string={"q": "鉄道", param: value})
    assert response.status_code in (200, 400)
    check_headers(response)
    check_page(response.get_data(as_text=True))
    api = hclient.get("/api/search", query_string={"q": "鉄道", param: value})
    assert api.status_code in (200, 400) and api.mimetype == "application/json"


def test_hostile_accept_language_and_paths_on_error_pages(hclient) -> None:
    get_page(hclient, "/", headers={"Accept-Language": '"><script>alert(1)</script>'})
    page = get_page(hclient, "/doc/<script>alert(1)</script>", status=404)
    assert "<script>alert(1)</script>" in page.text  # the message names the id, as text
    get_page(hclient, "/<script>alert(1)</script>", status=404)


def test_error_page_links_stay_on_the_site(hclient) -> None:
    for path in ["/\\evil.example/x", "/%5Cevil.example/x", "/\\\\evil.example"]:
        response = hclient.get("/", environ_overrides={"PATH_INFO": path})
        assert response.status_code == 404
        check_page(response.get_data(as_text=True))


def test_templates_hold_no_inline_script_or_handlers() -> None:
    for template in templates_dir().glob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), template.name
        assert not re.search(r"\son[a-z]+\s*=", source), template.name
        assert "javascript:" not in source.lower(), template.name
        assert "|safe" not in source.replace(" ", "") or _only_prepared_html_is_safe(source), template.name


def _only_prepared_html_is_safe(source: str) -> bool:
    """``| safe`` only on values the search module built with escaping (snippets, *_html)."""
    marked = re.findall(r"{{\s*([^}|]+?)\s*\|\s*safe\s*}}", source)
    return all(v.endswith(("snippet", "_html")) or v in ("paragraph",) for v in (m.strip() for m in marked))


# --- headers on every response --------------------------------------------------------

def _every_url(app) -> list[str]:
    urls = ["/", "/search?q=鉄道", "/search?q=", "/api/search?q=鉄道", "/api/search?q=", "/doc/summit-2025/ja",
            "/doc/nope", "/healthz", "/assets/style.css", "/nope", "/api/nope"]
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.rule.startswith("/static"):
            url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
            urls.append(url)
    return urls


def test_security_headers_on_every_route_and_status(hclient, tmp_path: Path) -> None:
    seen: set[int] = set()
    for url in _every_url(hclient.application):
        for method in ("GET", "HEAD", "POST", "OPTIONS", "DELETE"):
            response = hclient.open(url, method=method)
            seen.add(response.status_code)
            assert response.status_code < 500 or response.status_code == 503, (method, url)
            check_headers(response)
    broken = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    for url in ["/api/search?q=a", "/search?q=a", "/healthz", "/doc/a", "/"]:
        response = broken.get(url)
        seen.add(response.status_code)
        check_headers(response)
    assert {200, 400, 404, 405, 503} <= seen


# --- /doc confinement -----------------------------------------------------------------

TRAVERSALS = [
    "/doc/../../etc/passwd", "/doc/%2e%2e/%2e%2e/etc/passwd", "/doc/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/doc/..%2f..%2fetc%2fpasswd", "/doc/....//....//etc/passwd", "/doc/%252e%252e/etc/passwd",
    "/doc/..%c0%af..%c0%afetc/passwd", "/doc/%c0%ae%c0%ae/etc/passwd", "/doc/etc/passwd%00",
    "/doc/%00", "/doc/summit-2025/ja%00.md", "/doc/summit-2025/ja.md", "/doc/summit-2025/../summit-2025/ja",
    "/doc/./summit-2025/ja", "/doc/summit-2025/./ja", "/doc/C:%5CWindows%5Cwin.ini", "/doc/~root/.bashrc",
    "/doc/*", "/doc/summit*", "/doc/summit-2025/*", "/doc/summit-2025/j?", "/doc/CURRENT", "/doc/.reindex.lock",
    "/doc/gen-*", "/doc/..", "/doc/.", "/doc/%2e", "/doc/" + "a/" * 300 + "b", "/doc/" + "%2e%2e/" * 50 + "etc",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_doc_cannot_reach_outside_the_index(hclient, url: str) -> None:
    response = hclient.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 404, (url, response.status_code, response.headers.get("Location"))
    assert "root:" not in body and "[fonts]" not in body
    check_headers(response)
    check_page(body)


@pytest.mark.parametrize("path", ["/etc/passwd", "//etc/passwd", "/doc//etc/passwd", "/doc/%2Fetc%2Fpasswd",
                                  "/doc/\\..\\..\\etc\\passwd", "/assets/../../../etc/passwd",
                                  "/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/style.css/../../pyproject.toml"])
def test_absolute_and_raw_paths_never_serve_files(hclient, path: str) -> None:
    response = hclient.get("/", environ_overrides={"PATH_INFO": path})
    body = response.get_data(as_text=True)
    assert response.status_code in (404, 308), (path, response.status_code)
    if response.status_code == 308:  # merged slashes: the target must be the same site, and a 404
        location = response.headers["Location"]
        assert location.startswith(("http://localhost/", "/")) and "//" not in location.split("://", 1)[-1]
        assert hclient.get(location).status_code == 404
    assert "root:" not in body and "[project]" not in body


# --- missing, empty and corrupt indexes --------------------------------------------------

def _seg_region(index_dir: Path, part: str) -> tuple[Path, int, int]:
    """Where one of Whoosh's sub-files lies inside the compound segment file."""
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.filestore import FileStorage

    segment = next(index_dir.glob("gen-*/*.seg"))
    storage = CompoundStorage(FileStorage(str(segment.parent)).open_file(segment.name))
    try:
        info = next(v for k, v in storage._dir.items() if k.endswith("." + part))
    finally:
        storage.close()
    return segment, info["offset"], info["length"]


def _overwrite(index_dir: Path, part: str, where: str) -> None:
    segment, offset, length = _seg_region(index_dir, part)
    start = offset + (0 if where == "head" else length // 3)
    raw = bytearray(segment.read_bytes())
    raw[start : start + max(1, length // 3)] = b"\x55" * max(1, length // 3)
    segment.write_bytes(bytes(raw))


def _current(index_dir: Path, value) -> None:
    (index_dir / "CURRENT").write_text(json.dumps(value), encoding="utf-8")


def _format(index_dir: Path) -> str:
    return json.loads((index_dir / "CURRENT").read_text())["format"]


BREAKAGES = {
    # name: (how to break a good index, the hint the CLI must give)
    "missing": (lambda d: shutil.rmtree(d), "casearch reindex"),
    "empty-folder": (lambda d: (shutil.rmtree(d), d.mkdir()), "casearch reindex"),
    "current-empty": (lambda d: (d / "CURRENT").write_bytes(b""), "casearch reindex --full"),
    "current-binary": (lambda d: (d / "CURRENT").write_bytes(b"\xff\x00\xfe"), "casearch reindex --full"),
    "current-a-list": (lambda d: _current(d, [1, 2]), "casearch reindex --full"),
    "current-name-a-number": (lambda d: _current(d, {"format": _format(d), "name": 5}), "casearch reindex --full"),
    "current-name-null": (lambda d: _current(d, {"format": _format(d), "name": None}), "casearch reindex --full"),
    "current-name-empty": (lambda d: _current(d, {"format": _format(d), "name": ""}), "casearch reindex --full"),
    "current-name-traversal": (lambda d: _current(d, {"format": _format(d), "name": "../../../../etc"}),
                               "casearch reindex --full"),
    "current-unknown-generation": (lambda d: _current(d, {"format": _format(d), "name": "gen-x"}),
                                   "casearch reindex --full"),
    "current-old-format": (lambda d: _current(d, {"format": "0.0", "name": "gen-x"}), "casearch reindex --full"),
    "generation-deleted": (lambda d: [shutil.rmtree(g) for g in d.glob("gen-*")], "casearch reindex --full"),
    "toc-empty": (lambda d: next(d.glob("gen-*/*.toc")).write_bytes(b""), "casearch reindex --full"),
    "toc-garbage": (lambda d: next(d.glob("gen-*/*.toc")).write_bytes(b"\x55" * 3000), "casearch reindex --full"),
    "toc-deleted": (lambda d: next(d.glob("gen-*/*.toc")).unlink(), "casearch reindex --full"),
    "segment-empty": (lambda d: next(d.glob("gen-*/*.seg")).write_bytes(b""), "casearch reindex --full"),
    "segment-deleted": (lambda d: next(d.glob("gen-*/*.seg")).unlink(), "casearch reindex --full"),
    "segment-truncated": (lambda d: (lambda s: s.write_bytes(s.read_bytes()[: s.stat().st_size // 2]))(
        next(d.glob("gen-*/*.seg"))), "casearch reindex --full"),
    "terms-head-overwritten": (lambda d: _overwrite(d, "trm", "head"), "casearch reindex --full"),
}
# Damage inside the segment that Whoosh only notices while reading hits.
DEEP_DAMAGE = {
    "stored-fields-overwritten": lambda d: _overwrite(d, "_stored.col", "middle"),
    "postings-overwritten": lambda d: _overwrite(d, "pst", "head"),
    "terms-middle-overwritten": lambda d: _overwrite(d, "trm", "middle"),
}
# Whether the test queries always run into it (which terms lie in the middle of the terms
# file depends on the build, so that damage may go unnoticed by a given query).
ALWAYS_NOTICED = {"stored-fields-overwritten", "postings-overwritten"}


# Whoosh leaves the TOC or segment file open when it fails to read it (CPython closes it
# when the exception is dropped, with a ResourceWarning): not ours to fix, and not a leak.
def tolerate_whoosh_open_failures(test):
    test = pytest.mark.filterwarnings("ignore::ResourceWarning")(test)
    return pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")(test)


def _breakage_params():
    params = [pytest.param(name, id=name) for name in sorted(BREAKAGES)]
    params.append(pytest.param("current-a-folder", id="current-a-folder"))
    return params


@pytest.fixture(scope="module")
def built_index(tmp_path_factory, corpus_dir: Path) -> Path:
    """The breakages below are of Whoosh's files (and of CURRENT, which is the same for both)."""
    index_dir = tmp_path_factory.mktemp("built") / "ix"
    reindex(corpus_dir, index_dir, engine="whoosh")
    return index_dir


@pytest.fixture()
def good_index(tmp_path: Path, built_index: Path) -> Path:
    """A fresh copy of an index of the repository's corpus, for one test to break."""
    index_dir = tmp_path / "ix"
    shutil.copytree(built_index, index_dir)
    return index_dir


@pytest.fixture()
def collect_garbage():
    """Drop Whoosh's half-opened files inside the test that made them (see above)."""
    import gc

    yield
    gc.collect()


def _assert_server_says_unavailable(index_dir: Path) -> None:
    client = create_app({"INDEX_DIR": str(index_dir)}).test_client()  # not TESTING: as served
    assert client.get("/healthz").status_code == 503
    for url in ["/api/search?q=鉄道", "/api/search?q=pipeline&lang=en"]:
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.get_json()["error"]["code"] == "index_unavailable"
        assert "Traceback" not in response.get_data(as_text=True)
        check_headers(response)
    for url in ["/search?q=鉄道", "/doc/summit-2025/ja"]:
        response = client.get(url)
        assert response.status_code == 503, url
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "<html" in body
        check_page(body)


def _assert_cli_gives_a_way_out(index_dir: Path, hint: str, corpus_dir: Path) -> None:
    result = CliRunner().invoke(main, ["search", "鉄道", "--index", str(index_dir)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and hint in result.stderr and "Traceback" not in result.stderr
    way_out = ["reindex", "--corpus", str(corpus_dir), "--index", str(index_dir)]
    if hint.endswith("--full"):
        way_out.append("--full")
    rebuilt = CliRunner().invoke(main, way_out)
    assert rebuilt.exit_code == 0, rebuilt.output
    fixed = CliRunner().invoke(main, ["search", "鉄道", "--index", str(index_dir), "--json"])
    assert fixed.exit_code == 0 and json.loads(fixed.stdout)["total"] > 0


@pytest.mark.parametrize("breakage", _breakage_params())
@pytest.mark.usefixtures("collect_garbage")
@tolerate_whoosh_open_failures
def test_a_broken_index_gives_503_and_a_cli_way_out(good_index: Path, corpus_dir: Path, breakage: str) -> None:
    breaker, hint = BREAKAGES.get(breakage) or (
        lambda d: ((d / "CURRENT").unlink(), (d / "CURRENT").mkdir()), "casearch reindex --full")
    breaker(good_index)
    _assert_server_says_unavailable(good_index)
    _assert_cli_gives_a_way_out(good_index, hint, corpus_dir)


def test_an_index_path_that_is_a_file_is_reported_not_crashed_on(tmp_path: Path, corpus_dir: Path) -> None:
    not_a_folder = tmp_path / "ix"
    not_a_folder.write_text("x")
    _assert_server_says_unavailable(not_a_folder)
    search = CliRunner().invoke(main, ["search", "鉄道", "--index", str(not_a_folder)])
    assert search.exception is None or isinstance(search.exception, SystemExit), repr(search.exception)
    assert search.exit_code == 1 and search.stderr.startswith("Error: ")
    build = CliRunner().invoke(main, ["reindex", "--corpus", str(corpus_dir), "--index", str(not_a_folder)])
    assert build.exit_code == 3 and "not writable" in build.stderr and not_a_folder.read_text() == "x"


@pytest.mark.parametrize("breakage", ["current-empty", "toc-garbage", "segment-truncated", "generation-deleted"])
@pytest.mark.usefixtures("collect_garbage")
@tolerate_whoosh_open_failures
def test_a_plain_reindex_also_repairs_a_broken_index(good_index: Path, corpus_dir: Path, breakage: str) -> None:
    BREAKAGES[breakage][0](good_index)
    result = CliRunner().invoke(main, ["reindex", "--corpus", str(corpus_dir), "--index", str(good_index)])
    assert result.exit_code == 0 and result.stdout.startswith("added 2,"), result.output
    assert len(list(good_index.glob("gen-*"))) <= 2


@pytest.mark.parametrize("damage", sorted(DEEP_DAMAGE))
@pytest.mark.usefixtures("collect_garbage")
@tolerate_whoosh_open_failures
def test_deep_segment_damage_is_503_on_the_server(good_index: Path, damage: str) -> None:
    DEEP_DAMAGE[damage](good_index)
    client = create_app({"INDEX_DIR": str(good_index)}).test_client()
    statuses = []
    for url in ["/api/search?q=鉄道", "/api/search?q=pipeline", "/search?q=鉄道", "/healthz",
                "/doc/summit-2025/ja?q=鉄道"]:
        response = client.get(url)
        statuses.append(response.status_code)
        assert response.status_code in (200, 404, 503), (url, response.status_code)
        assert "Traceback" not in response.get_data(as_text=True)
        if response.status_code == 503 and url.startswith("/api/"):
            assert response.get_json()["error"]["code"] == "index_unavailable"
    if damage in ALWAYS_NOTICED:
        assert 503 in statuses


@pytest.mark.parametrize("damage", sorted(ALWAYS_NOTICED))
@pytest.mark.usefixtures("collect_garbage")
@tolerate_whoosh_open_failures
def test_deep_segment_damage_gives_a_cli_way_out(good_index: Path, corpus_dir: Path, damage: str) -> None:
    DEEP_DAMAGE[damage](good_index)
    _assert_cli_gives_a_way_out(good_index, "casearch reindex --full", corpus_dir)
