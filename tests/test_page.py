"""The results page as a person uses it: facets, sorting, paging, grouping, did you mean,
the empty state, interface language, accessibility hooks, caching headers."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, unquote

import pytest

from casearch.index import reindex
from casearch.messages import MESSAGES
from casearch.web import create_app

from live_server import write_sample_corpus


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory):
    """The repository corpus plus twelve dated railway notes (32 passages for 鉄道: a
    title match lists a document's first passage once)."""
    root = tmp_path_factory.mktemp("notes")
    write_sample_corpus(root / "corpus")
    reindex(root / "corpus", root / "index")
    return create_app({"INDEX_DIR": str(root / "index"), "TESTING": True}).test_client()


def page(client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def links(text: str) -> list[str]:
    return [unquote(html.unescape(h)) for h in re.findall(r'href="([^"]+)"', text)]


def target(url: str) -> tuple[str, dict[str, str]]:
    """A link as (path, parameters): the order of parameters does not matter."""
    path, _, query = url.partition("?")
    return path, dict(parse_qsl(query))


def targets(text: str) -> list[tuple[str, dict[str, str]]]:
    return [target(link) for link in links(text)]


def nav(text: str, label: str) -> str:
    found = re.search(rf'<nav[^>]*aria-label="{label}"[^>]*>(.*?)</nav>', text, re.S)
    assert found, f"no navigation labelled {label}"
    return found.group(1)


def test_language_facets_show_counts_and_keep_the_query(notes) -> None:
    text = page(notes, "/search?q=鉄道&ui=ja&sort=date")
    facets = nav(text, "言語で絞り込む")
    counts = dict(re.findall(r'>(すべて|日本語|English) <span class="count">(\d+)</span>', facets))
    assert int(counts["すべて"]) == int(counts["日本語"]) + int(counts["English"]) and int(counts["日本語"]) >= 24
    assert 'aria-current="page"' in facets.split("すべて")[0]  # "all" is the current filter
    assert ("/search", {"q": "鉄道", "sort": "date", "ui": "ja", "lang": "ja"}) in targets(facets)  # query and order kept
    japanese = page(notes, "/search?q=鉄道&ui=ja&lang=ja")
    assert 'class="facet current" aria-current="page"' in nav(japanese, "言語で絞り込む").split("English")[0].split("すべて")[1]
    languages = re.findall(r'class="group-title" id="[^"]+" lang="(\w+)"', japanese)
    assert len(languages) >= 3 and set(languages) == {"ja"}


def test_sort_switch_orders_by_date(notes) -> None:
    text = page(notes, "/search?q=貨物&ui=en&sort=date")
    dates = re.findall(r'<time datetime="([0-9-]+)"', text)
    assert dates == sorted(dates, reverse=True) and len(dates) == 10
    order = nav(text, "Order")
    current = re.search(r'aria-current="page" href="([^"]+)">Newest first<', order)
    assert current and target(unquote(html.unescape(current.group(1)))) == ("/search", {"q": "貨物", "sort": "date", "ui": "en"})
    assert ("/search", {"q": "貨物", "ui": "en"}) in targets(order)  # relevance is the default: no parameter


def test_paging_has_first_previous_and_next(notes) -> None:
    first = page(notes, "/search?q=鉄道&ui=en")
    paging = nav(first, "Pages")
    assert "Page 1 of 4" in paging and "First" not in paging and "Previous" not in paging
    base = {"q": "鉄道", "ui": "en"}
    assert targets(paging) == [("/search", {**base, "page": "2"})]
    second = nav(page(notes, "/search?q=鉄道&ui=en&page=2"), "Pages")
    assert targets(second) == [("/search", base), ("/search", base), ("/search", {**base, "page": "3"})]
    assert 'rel="prev"' in second and 'rel="next"' in second
    last = nav(page(notes, "/search?q=鉄道&ui=en&page=4"), "Pages")
    assert "Next" not in last and "Page 4 of 4" in last


def test_a_page_past_the_last_says_so(notes) -> None:
    text = page(notes, "/search?q=鉄道&ui=en&page=9")
    assert "past the last result" in text and ("/search", {"q": "鉄道", "ui": "en"}) in targets(text)


def test_hits_are_grouped_by_document_with_their_sections(notes) -> None:
    text = page(notes, "/search?q=貨物 OR 駅&ui=ja&sort=date")
    groups = re.findall(r'<li class="group">(.*?)</li>\s*(?=<li class="group">|</ol>)', text, re.S)
    assert groups
    titles = [re.search(r'class="group-title"[^>]*><a href="([^"]+)">(.*?)</a>', g).group(2) for g in groups]
    assert len(titles) == len(set(titles))  # one group per document
    first = groups[0]
    sections = re.findall(r'<h3 class="hit-section"><a href="([^"]+)"[^>]*>(.*?)</a>', first)
    # the newest note: its two matching sections, each linking to its anchor, the heading's match marked
    assert sorted((name, html.unescape(href).rsplit("#", 1)[1]) for href, name in sections) == [
        ("<mark>貨物</mark>", "s3"), ("<mark>駅</mark>と車両", "s2")]
    # ... and naming it in ``at`` too, which a long document needs to open on the right page
    assert all(target(unquote(html.unescape(href)).split("#")[0])
               == ("/doc/notes/koshinetsu", {"q": "貨物 OR 駅", "ui": "ja", "at": href.rsplit("#", 1)[1]})
               for href, _ in sections)
    assert "<mark>貨物</mark>" in first and "2024-12-15" in first and "鉄道資料室" in first


def test_the_document_page_highlights_the_query(notes) -> None:
    text = page(notes, "/doc/notes/kanto?q=貨物&ui=ja")
    assert '<section id="s3"' in text and "<mark>貨物</mark>" in text
    assert 'aria-label="目次"' in text  # contents of a document with several headings
    assert ("/search", {"q": "貨物", "ui": "ja"}) in targets(text)  # back to the results


def test_did_you_mean_links_to_the_corrected_search(notes) -> None:
    text = page(notes, "/search?q=pipline&ui=en&lang=en")
    found = re.search(r'class="did-you-mean">Did you mean: <a href="([^"]+)"[^>]*><strong>([^<]+)</strong>', text)
    assert found and found.group(2) == "pipeline"
    assert target(unquote(html.unescape(found.group(1)))) == ("/search", {"q": "pipeline", "lang": "en", "ui": "en"})
    assert notes.get("/api/search?q=pipline").get_json()["suggestion"] == "pipeline"


def test_the_empty_state_suggests_what_to_try(notes) -> None:
    text = page(notes, "/search?q=貨物&lang=en&ui=en")
    assert "No passages match “貨物”." in text and "Things to try" in text
    assert "Nothing in English, but 12 passages in 日本語." in text
    assert ("/search", {"q": "貨物", "lang": "ja", "ui": "en"}) in targets(text)
    japanese = page(notes, "/search?q=zzzzqqqq&ui=ja")
    assert "「zzzzqqqq」に一致する箇所はありません。" in japanese and "試してみること" in japanese


def summary(text: str) -> str:
    found = re.search(r'<p class="summary" role="status">([^<]*)', text)
    assert found, "no result summary"
    return re.sub(r"[\d.]+ (ms|ミリ秒)", "T \\1", found.group(1))


def test_one_passage_is_singular_in_both_interface_languages(client) -> None:
    """The shared article holds Shymkent in one English passage (both engines)."""
    assert summary(page(client, "/search?q=Shymkent&lang=en&ui=en")) == "1 passage (T ms)"
    assert summary(page(client, "/search?q=Shymkent&lang=en&ui=ja")) == "1 件（T ミリ秒）"
    assert summary(page(client, "/search?q=Shymkent&ui=en")) == "2 passages (T ms)"
    elsewhere = page(client, "/search?q=シルダリヤ&lang=en&cross=0&ui=en")
    assert "Nothing in English, but 1 passage in 日本語." in elsewhere


def test_the_other_language_tip_follows_the_cross_lingual_switch(notes) -> None:
    """With cross-lingual search on, the words' translations are searched: the tip must not
    say that パイプライン and pipeline are separate words; with it off, it says so and how
    to turn it on."""
    for ui in ("en", "ja"):
        t = MESSAGES[ui]
        on = html.unescape(page(notes, f"/search?q=zzzzqqqq&ui={ui}"))
        off = html.unescape(page(notes, f"/search?q=zzzzqqqq&ui={ui}&cross=0"))
        assert t["try_other_lang_cross"] in on and t["try_other_lang"] not in on
        assert t["try_other_lang"] in off and t["try_other_lang_cross"] not in off
        assert "pipeline" not in t["try_other_lang_cross"] and "pipeline" in t["try_other_lang"]
        assert t["cross_on"] in t["try_other_lang"]  # names the switch that joins the languages


def test_also_in_shows_the_translation_title_not_its_id(client) -> None:
    text = page(client, "/doc/summit-2025/ja?ui=en")
    also = re.search(r"Also in:(.*?)</span>", text, re.S)
    assert also, "no translation links"
    link = re.search(r'<a href="([^"]+)" lang="en" hreflang="en">([^<]+)</a>', also.group(1))
    assert link and link.group(2).startswith("Second China-Central Asia Summit")
    assert "summit-2025/en" not in re.sub(r'href="[^"]*"', "", also.group(1))
    assert target(html.unescape(link.group(1))) == ("/doc/summit-2025/en", {"ui": "en"})
    japanese = page(client, "/doc/summit-2025/en?ui=ja&q=railway")
    also = re.search(r"他の言語:(.*?)</span>", japanese, re.S)
    assert also and "第2回中国・中央アジアサミット" in also.group(1) and 'lang="ja"' in also.group(1)


def test_the_home_page_offers_examples_and_syntax(notes) -> None:
    text = page(notes, "/?ui=en")
    assert ("/search", {"q": "パイプライン", "ui": "en"}) in targets(text) and "Query syntax" in text
    assert "autofocus" in text  # type straight away


def test_interface_language_switch_keeps_the_search(notes) -> None:
    text = page(notes, "/search?q=鉄道&lang=ja&ui=ja")
    switch = nav(text, "表示言語")
    assert targets(switch) == [("/search", {"q": "鉄道", "lang": "ja", "ui": "en"})] and ">English<" in switch
    assert 'lang="ja"' in text.split(">", 2)[1]
    assert '<html lang="en">' in page(notes, "/search?q=鉄道", **{"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="ja">' in page(notes, "/search?q=鉄道", **{"Accept-Language": "ja-JP,ja;q=0.9"})


def test_landmarks_labels_and_skip_link(notes) -> None:
    text = page(notes, "/search?q=鉄道&ui=en")
    assert text.index('class="skip-link" href="#main"') < text.index("<header")
    for landmark in ("<header", '<search role="search"', '<main id="main"', "<footer"):
        assert landmark in text
    assert '<label for="q"' in text and '<input id="q" name="q"' in text
    assert re.search(r"<h1[^>]*>Results for “鉄道”</h1>", text)
    assert 'role="status"' in text  # the result count is announced


def test_no_inline_script_and_the_script_is_optional(notes) -> None:
    text = page(notes, "/search?q=鉄道&ui=en")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, re.S)
    assert scripts == [(' src="/assets/suggest.js" defer', "")]
    assert '<form action="/search" method="get">' in text  # plain GET form: works without it
    script = notes.get("/assets/suggest.js")
    assert script.mimetype == "text/javascript" and "/api/suggest" in script.get_data(as_text=True)


def test_opensearch_description_is_linked_and_valid(notes) -> None:
    head = page(notes, "/").split("</head>")[0]
    assert 'rel="search" type="application/opensearchdescription+xml"' in head and 'href="/opensearch.xml"' in head
    response = notes.get("/opensearch.xml", base_url="http://search.example:8080")
    assert response.mimetype == "application/opensearchdescription+xml"
    root = ET.fromstring(response.get_data())
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.find("os:ShortName", ns).text == "casearch"
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    assert templates["text/html"].startswith("http://search.example:8080/search?q={searchTerms}")
    assert templates["application/x-suggestions+json"] == (
        "http://search.example:8080/api/suggest?format=opensearch&q={searchTerms}"
    )


def test_search_page_etag_depends_on_parameters_and_interface_language(notes) -> None:
    first = notes.get("/search?q=鉄道&ui=en")
    assert first.headers["Vary"] == "Accept-Language" and first.headers["ETag"].startswith('W/"')
    assert notes.get("/search?q=鉄道&ui=en", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert notes.get("/search?q=鉄道&ui=ja", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    assert notes.get("/search?q=鉄道&ui=en&page=2", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    # unknown parameters are ignored, so they do not change the tag
    assert notes.get("/search?q=鉄道&ui=en&utm=x").headers["ETag"] == first.headers["ETag"]


def test_both_interface_languages_have_every_message() -> None:
    assert set(MESSAGES["ja"]) == set(MESSAGES["en"])
    for ui in ("ja", "en"):
        for key, text in MESSAGES[ui].items():
            assert text.strip(), (ui, key)


@pytest.mark.parametrize(
    "url",
    ["/search?q=%00", "/search?q=a&ui=xx", "/search?q=a&sort=random", "/search?q=a&page=99999999999",
     "/search?q=(((", "/search?q=\"", "/search?q=OR", "/doc/%00", "/doc/?q=a", "/search?q=a&lang=",
     "/api/suggest?q=%00", "/api/suggest?q=a&format=xml", "/api/suggest?q=a&limit=-1", "/opensearch.xml?ui=zz",
     "/api/suggest?q=" + "あ" * 500, "/api/search?q=a&cross=7", "/assets/..%2Fstyle.css"],
)
def test_odd_input_never_gives_a_server_error(notes, url: str) -> None:
    assert notes.get(url).status_code < 500


def test_the_error_page_for_invalid_input_keeps_the_form(notes) -> None:
    response = notes.get("/search?q=a&sort=random&ui=en")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "sort must be relevance or date" in text
    assert 'role="alert"' in text and '<input id="q" name="q"' in text


def test_a_query_too_complex_to_run_keeps_it_in_the_search_box(tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("prefix")
    for n in range(260):  # more words starting with "w" than a prefix may expand to
        (root / "c").mkdir(exist_ok=True)
        (root / "c" / f"d{n}.md").write_text(f"---\nlang: en\n---\nw{n:03d}x word\n", encoding="utf-8")
    reindex(root / "c", root / "ix")
    client = create_app({"INDEX_DIR": str(root / "ix"), "TESTING": True}).test_client()
    assert client.get("/api/search?q=w*").get_json()["error"]["code"] == "query_too_complex"
    response = client.get("/search?q=w*&ui=en")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and 'role="alert"' in text
    assert '<input id="q" name="q" type="search" value="w*"' in text
