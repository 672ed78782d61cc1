"""Markdown is read as its reader reads it: link text but no addresses, emphasis without
its markers, lists as items (on the page and in snippets), raw HTML as escaped text; and
every offset still points at the characters that are shown."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from casearch import analysis
from casearch.cli import main
from casearch.corpus import CorpusFile, passages, read_document, split_passages
from casearch.index import reindex
from casearch.layout import Element, render_blocks, slice_layout
from casearch.markdown_text import markdown_sections
from casearch.snippets import sentences
from casearch.web import create_app

from conftest import write

TRAM = """---
title: Tram notes
lang: en
---
Read the [timetable](https://example.jp/wombat-tram) before you go. **Capybara** rides are free.

## Lines

Stops on the route:

- Harbour gate
- Museum *square*
- Old market

1. First ticket
2. Second ticket

<script>alert("pwned")</script> and <b>bold</b> stay text.

Do not [click](javascript:alert(1)) or [open](javascript:void(0) "x"); `pantograph` is code.
"""

TETSUDO = """---
title: 路線のメモ
lang: ja
---
**鉄道**の旅は[時刻表](https://example.jp/kapibara)を見てから。

- 駅前広場
- 博物館
"""


@pytest.fixture(scope="module")
def markdown_index(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Path:
    root = tmp_path_factory.mktemp(f"markdown-{engine_name}")
    write(root / "corpus" / "tram.md", TRAM)
    write(root / "corpus" / "tetsudo.md", TETSUDO)
    report = reindex(root / "corpus", root / "index", engine=engine_name)
    assert not report.skipped
    return root / "index"


@pytest.fixture()
def md_client(markdown_index: Path, engine_name: str):
    app = create_app({"INDEX_DIR": str(markdown_index), "ENGINE": engine_name, "TESTING": True})
    return app.test_client()


def api(client, q: str, **params: str) -> dict:
    response = client.get("/api/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def section_html(text: str, number: int) -> str:
    found = re.search(rf'<section id="s{number}".*?</section>', text, re.S)
    assert found, f"no section s{number}"
    return found.group()


# --- through the contract (both engines) ---------------------------------------------

def test_link_address_is_not_searchable_while_link_text_is(md_client, markdown_index: Path) -> None:
    assert api(md_client, "wombat")["total"] == 0
    assert api(md_client, "example.jp")["total"] == 0
    assert api(md_client, "kapibara")["total"] == 0
    found = api(md_client, "timetable", cross="0")
    assert [hit["doc_id"] for hit in found["hits"]] == ["tram"]
    snippet = found["hits"][0]["snippet"]
    assert "<mark>timetable</mark>" in snippet and "example.jp" not in snippet and "](" not in snippet
    result = CliRunner().invoke(main, ["search", "wombat", "--json", "--index", str(markdown_index)])
    assert result.exit_code == 0 and json.loads(result.stdout)["total"] == 0


def test_link_text_is_a_safe_link_on_the_document_page(md_client) -> None:
    text = page(md_client, "/doc/tram?q=timetable")
    assert re.search(r'<a href="https://example.jp/wombat-tram" rel="[^"]*noopener[^"]*"><mark>timetable</mark></a>', text)
    assert "[click](javascript:alert(1))" in text  # CommonMark refuses the link: it stays text
    assert not re.search(r'href="\s*javascript', text, re.I)


def test_bold_text_is_searchable_and_marked_without_the_asterisks(md_client) -> None:
    hit = api(md_client, "capybara", cross="0")["hits"][0]
    assert "<mark>Capybara</mark> rides are free." in hit["snippet"] and "*" not in hit["snippet"]
    hit = api(md_client, "鉄道", lang="ja")["hits"][0]
    assert hit["snippet"].startswith("<mark>鉄道</mark>の旅は時刻表を見てから。") and "*" not in hit["snippet"]
    text = page(md_client, "/doc/tram?q=capybara")
    assert "<strong><mark>Capybara</mark></strong> rides are free." in text and "**" not in text
    assert "<em>square</em>" in page(md_client, "/doc/tram")


def test_list_items_are_li_on_the_page_and_separate_items_in_snippets(md_client) -> None:
    lines = section_html(page(md_client, "/doc/tram?q=museum"), 2)
    assert re.search(r"<ul><li>Harbour gate</li>\s*<li><mark>Museum</mark> <em>square</em></li>\s*<li>Old market</li></ul>", lines)
    assert re.search(r"<ol><li>First ticket</li>\s*<li>Second ticket</li></ol>", lines)
    assert "- Harbour" not in lines and "1. First" not in lines
    snippet = api(md_client, "museum", cross="0")["hits"][0]["snippet"]
    assert "• Harbour gate • <mark>Museum</mark> square • Old market" in snippet
    snippet = api(md_client, "second ticket", cross="0")["hits"][0]["snippet"]
    assert "1. First ticket 2. Second ticket" in re.sub("</?mark>", "", snippet), snippet
    assert "2. <mark>Second</mark> <mark>ticket</mark>" in snippet


def test_shipped_article_lists_are_items_on_the_page_and_in_snippets(client) -> None:
    text = page(client, "/doc/summit-2025/ja")
    items = ["相互支援(mutual assistance)", "共同発展(common development)", "普遍的安全(universal security)",
             "永遠の友好(everlasting friendship)"]
    assert re.search(r"<ul>\s*" + r"\s*".join(f"<li>{re.escape(item)}</li>" for item in items) + r"\s*</ul>", text)
    assert "- 相互支援" not in text
    english = page(client, "/doc/summit-2025/en")
    assert "<li>Mutual assistance</li>" in english and "- Mutual" not in english
    snippet = next(hit["snippet"] for hit in api(client, "普遍的安全", lang="ja")["hits"] if hit["doc_id"] == "summit-2025/ja")
    assert re.search(r"• 共同発展\(common development\) • (<mark>)?普遍的", snippet), snippet
    snippet = next(hit["snippet"] for hit in api(client, "mutual assistance", lang="en")["hits"] if hit["doc_id"] == "summit-2025/en")
    assert "• <mark>Mutual</mark> <mark>assistance</mark> • Common development" in snippet, snippet


def test_html_and_script_in_markdown_are_escaped_on_the_page(md_client) -> None:
    text = page(md_client, "/doc/tram?q=pwned")
    assert '&lt;script&gt;alert("<mark>pwned</mark>")&lt;/script&gt;' in text
    assert "<script>alert" not in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    snippet = api(md_client, "pwned", cross="0")["hits"][0]["snippet"]
    assert "&lt;script&gt;" in snippet and "<script" not in snippet
    assert "<code>pantograph</code>" in text


# --- the Markdown -> text step ---------------------------------------------------------

@pytest.mark.parametrize(("markdown", "text"), [
    ("**bold** and *em* and __b__", "bold and em and b"),
    ("[text](https://example.jp/path) after", "text after"),
    ("<https://example.jp/auto>", "https://example.jp/auto"),
    ("a `code span` b", "a code span b"),
    ("- one\n- two\n  - nested", "one\ntwo\nnested"),
    ("3. three\n4. four", "three\nfour"),
    ("para\n\n- item\n\nafter", "para\n\nitem\n\nafter"),
    ("天然\nガス", "天然ガス"),
    ("soft\nwrap", "soft wrap"),
    ("鉄道\nline", "鉄道 line"),
    ("hard  \nbreak", "hard\nbreak"),
    ("![alt *text*](x.png)", "alt text"),
    ("<b>raw</b> & &amp; &#x3042;", "<b>raw</b> & & あ"),
    ("> quoted\n> more", "quoted more"),
    ("```py\ncode()\n```", "code()"),
    ("### Sub heading\nbody", "Sub heading\n\nbody"),
    ("Setext\n---\nbody", "Setext\n\nbody"),
    ("\\*not emphasis\\*", "*not emphasis*"),
])
def test_markdown_becomes_the_text_its_reader_reads(markdown: str, text: str) -> None:
    sections, _ = markdown_sections(markdown)
    assert [s.text for s in sections] == [text]


def test_headings_split_sections_and_lose_their_markup() -> None:
    sections, h1 = markdown_sections("# The *title*\n\nlead\n\n## A [linked](https://x.jp) **head** ##\nbody\n\n    ## in code\n")
    assert h1 == "The title"
    assert [(s.heading, s.text) for s in sections] == [(None, "lead"), ("A linked head", "body\n\n## in code")]


def test_layout_marks_lists_emphasis_and_links_over_the_text() -> None:
    (section,), _ = markdown_sections("Go [**there**](https://x.jp).\n\n1. a\n2. b\n")
    assert section.text == "Go there.\n\na\nb"
    shown = {(section.text[e.start:e.end], e.tag, e.attr) for e in section.layout}
    assert shown == {
        ("Go there.", "p", ""), ("there", "a", "https://x.jp"), ("there", "strong", ""),
        ("a\nb", "ol", ""), ("a", "li", "1"), ("b", "li", "2"),
    }


def test_list_items_never_share_a_sentence() -> None:
    (section,), _ = markdown_sections("Intro\n\n- no full stop here\n- next item\n- 句点なし\n- 次")
    bounds = sentences(section.text)
    for item in (e for e in section.layout if e.tag == "li"):
        assert any(a <= item.start and item.end <= b for a, b in bounds), section.text[item.start:item.end]


def test_a_long_list_split_across_passages_keeps_its_items() -> None:
    items = [f"item {n} " + "word " * 60 for n in range(30)]
    doc = read_document(CorpusFile("l", Path("l.md"), "l.md"), ("## List\n\n" + "\n".join(f"- {i}" for i in items)).encode())
    parts = [p for p in passages(doc) if p.section == 2]
    assert len(parts) > 1
    for part in parts:
        html_text = "".join(render_blocks(part.text, part.layout))
        assert html_text.startswith("<ul><li>item ") and html_text.count("<li>") == part.text.count("\n") + 1


def test_passages_are_slices_of_their_section_with_their_layout() -> None:
    text = "aa bb.\n\n\ncc dd.\n\n" + "ee. " * 10
    chunks = split_passages(text, 20)
    assert chunks[0] == "aa bb.\n\n\ncc dd." and all(0 < len(c) <= 20 for c in chunks)
    cursor = 0
    for chunk in chunks:  # each passage is the text as it stands, in order
        cursor = text.index(chunk, cursor) + len(chunk)
    layout = (Element(0, 6, "p"), Element(9, 60, "p"), Element(12, 14, "em"))
    assert slice_layout(layout, 9, 24) == (Element(0, 15, "p"), Element(3, 5, "em"))


def test_unsafe_and_relative_links_are_text_only() -> None:
    (section,), _ = markdown_sections("[a](javascript:alert(1)) [b](data:text/html,x) [c](../other.md) [d](mailto:x@y.jp)")
    links = [(section.text[e.start:e.end], e.attr) for e in section.layout if e.tag == "a"]
    assert links == [("d", "mailto:x@y.jp")]
    # a hostile stored layout is no worse: the address is checked again when rendering
    rendered = "".join(render_blocks(section.text, (*section.layout, Element(0, 1, "a", "javascript:alert(1)"))))
    assert 'href="javascript' not in rendered and 'href="mailto:x@y.jp"' in rendered


# --- properties ------------------------------------------------------------------------

MARKDOWNISH = st.lists(st.sampled_from([
    "**", "*", "_", "__", "[", "](", ")", "https://example.jp/tram", "javascript:x", "- ", "* ", "1. ", "2) ",
    "\n", "\n\n", "  \n", "# ", "## ", "### ", "`", "```", "    ", "> ", "<b>", "</b>", "<script>", "&amp;",
    "&#12354;", "\\", "!", "---", "鉄道", "天然ガス", "パイプライン", "の", "。", "、", "Capybara", "rides",
    " ", "2025年", "x.", "|", "<", ">", "\t",
]), max_size=60).map("".join)


def _visible(fragments: list[str]) -> str:
    """The characters a browser shows of some HTML, without whitespace."""
    text = html.unescape(re.sub(r"<[^>]+>", "", "".join(fragments)))
    return "".join(text.split())


@settings(max_examples=250, deadline=None)
@given(MARKDOWNISH)
def test_every_indexed_token_slices_the_stored_text_to_its_surface(markdown: str) -> None:
    doc = read_document(CorpusFile("p", Path("p.md"), "p.md"), ("lead\n\n" + markdown).encode())
    for passage in passages(doc):
        for token in analysis.analyze(passage.text):
            assert passage.text[token.start:token.end] == token.surface
        for element in passage.layout:
            assert 0 <= element.start < element.end <= len(passage.text)
        # the page shows exactly the stored text: nothing lost, nothing added
        assert _visible(render_blocks(passage.text, passage.layout)) == "".join(passage.text.split())
    for heading in [doc.title] + [s.heading or "" for s in doc.sections]:
        for token in analysis.analyze(heading):
            assert heading[token.start:token.end] == token.surface
