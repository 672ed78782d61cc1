"""Large files: progress within a file, memory that follows the passage, and long documents
shown a page at a time around the hit (issue 16, item 7).

Speed is measured in ``bench/big_file.py``, not here.
"""

from __future__ import annotations

import html
import io
import re
import weakref
from dataclasses import fields as dataclass_fields
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from click.testing import CliRunner

from casearch import analysis, bridge, docpages, mining, openapi
from casearch.analysis import Token
from casearch.cli import main
from casearch.console import ReindexProgress
from casearch.corpus import CorpusFile, passages, read_document
from casearch.index import reindex
from casearch.records import DocumentRecords, passage_progress
from casearch.search import Engine
from casearch.web import create_app

from conftest import write

MARKER = "zephyrine"  # a word of one paragraph of the long document only
WORDS = ("harbour", "freight", "timetable", "signal", "ferry", "bridge", "station", "tunnel", "canal", "depot")


def long_text(sections: int, paragraphs: int, marked: int | None = None, lang: str = "en") -> str:
    """A Markdown document whose paragraphs (about 1,600 characters) are one passage each."""
    head = f"---\ntitle: Long notes\nlang: {lang}\n---\n\nLead paragraph about the {WORDS[0]}.\n"
    parts = [head]
    for number in range(1, sections + 1):
        parts.append(f"\n## Part {number} on the {WORDS[number % len(WORDS)]}\n")
        for n in range(paragraphs):
            sentence = f"The {WORDS[(number + n) % 10]} near the {WORDS[(number * n) % 10]} was checked in week {n}. "
            text = (sentence * (1600 // len(sentence) + 1))[:1600].rstrip()
            if number == marked and n == paragraphs // 2:
                text = f"A {MARKER} lock gate. " + text
            parts.append(f"\n{text}\n")
    return "".join(parts)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# --- progress within a file ----------------------------------------------------------


def test_reindex_reports_progress_for_every_passage_of_a_long_file(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    long_file = write(corpus / "long.md", long_text(sections=3, paragraphs=8))
    write(corpus / "short.md", "# Short\n\nOne passage only.\n")
    total = len(passages(read_document(CorpusFile("long", long_file, "long.md"), long_file.read_bytes())))
    assert total >= 20  # a long file in the library's sense (PROGRESS_MIN_PASSAGES)
    result = run("reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    told = [line for line in lines if line.startswith("indexing ")]
    assert told == [f"indexing long.md: passage {n}/{total}" for n in range(1, total + 1)]
    assert lines.index(told[-1]) < lines.index("checked 2/2 files")  # while the file is indexed
    assert not any("short.md" in line for line in lines)  # a one-passage file says nothing


def test_a_very_long_file_reports_at_most_a_hundred_steps() -> None:
    said = [m for n in range(1, 1001) if (m := passage_progress("big.md", n, 1000))]
    assert len(said) == 100 and said[0] == "indexing big.md: passage 10/1000" and said[-1].endswith("1000/1000")
    assert [m for n in range(1, 20) if passage_progress("small.md", n, 19)] == []


def test_parallel_workers_relay_the_progress_of_a_long_file(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    write(corpus / "long.md", long_text(sections=2, paragraphs=11))
    for n in range(3):
        write(corpus / f"note{n}.md", f"# Note {n}\n\nA short note about the {WORDS[n]}.\n")
    said: list[str] = []
    report = reindex(corpus, tmp_path / "ix", engine="whoosh", jobs=2, progress=said.append)
    assert report.added == 4 and not report.skipped
    told = [m for m in said if m.startswith("indexing long.md: passage ")]
    assert told and told[-1] == f"indexing long.md: passage {len(told)}/{len(told)}"
    assert [int(m.split()[-1].split("/")[0]) for m in told] == list(range(1, len(told) + 1))


class Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_the_progress_bar_moves_within_a_long_file() -> None:
    screen = Terminal()
    progress = ReindexProgress(screen, "bar", clock=iter([0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0]).__next__)
    progress("indexing docs/big.md: passage 10/40")
    progress("indexing docs/big.md: passage 30/40")
    progress("checked 1/1 files")
    progress.close()
    frames = screen.getvalue().split("\r\x1b[2K")[1:]
    assert "docs/big.md 10/40 passages" in frames[0] and " 25%" in frames[0]
    assert "docs/big.md 30/40 passages" in frames[1] and " 75%" in frames[1] and "1 s left" in frames[1]
    assert "1/1 files 100%" in frames[2] and "passages" not in frames[2]
    assert screen.getvalue().count("\n") == 1  # one line, redrawn


# --- memory follows the passage ----------------------------------------------------------


class _Counted(Token):
    """A token that can be watched (a weak reference sees when it is freed)."""


class _NullWriter:
    def __init__(self, on_add) -> None:
        self.on_add = on_add

    def add(self, record: dict) -> None:
        self.on_add()


def test_indexing_a_long_file_holds_the_tokens_of_one_passage_at_a_time(monkeypatch, tmp_path: Path) -> None:
    """Peak number of tokens alive while a long document is added, against the most one
    passage has: a file's tokens kept until its end would be all of them."""
    alive: weakref.WeakSet = weakref.WeakSet()
    largest = [0]
    real_analyze = analysis.analyze
    names = [f.name for f in dataclass_fields(Token)]

    def counted(text: str) -> list[Token]:
        tokens = [_Counted(**{name: getattr(t, name) for name in names}) for t in real_analyze(text)]
        alive.update(tokens)
        largest[0] = max(largest[0], len(tokens))
        return tokens

    peak = [0]
    monkeypatch.setattr(analysis, "analyze", counted)
    path = write(tmp_path / "long.md", long_text(sections=4, paragraphs=10))
    document = read_document(CorpusFile("long", path, "long.md"), path.read_bytes())
    documents = DocumentRecords(_NullWriter(lambda: peak.__setitem__(0, max(peak[0], len(alive)))), None)
    documents.add(document)
    total = sum(len(real_analyze(p.text)) for p in passages(document))
    assert total > 20 * largest[0]  # the case is real: many passages' worth of tokens
    assert peak[0] <= 2 * largest[0], (peak[0], largest[0], total)
    assert len(alive) <= largest[0]  # after the file: at most the last passage's
    assert documents.pending[0].document.sections == ()  # the text is not kept until finish() either


def test_streamed_profiles_and_pairs_equal_those_of_the_whole_document(tmp_path: Path) -> None:
    text = "---\nlang: ja\n---\n" + "\n\n".join(
        f"## 第{n}節\n\n" + "天然ガスのパイプライン(pipeline)とファイル(file)を確認した。" * 60 for n in range(1, 4))
    path = write(tmp_path / "ja.md", text)
    document = read_document(CorpusFile("ja", path, "ja.md"), path.read_bytes())
    assert len(passages(document)) > 3
    documents = DocumentRecords(_NullWriter(lambda: None), None)
    documents.add(document)
    pending = documents.pending[0]
    by_section: dict[int, list] = {}
    for passage in passages(document):
        by_section.setdefault(passage.section, []).extend(analysis.analyze(passage.text))
    assert pending.profile == mining.profile("ja", (), [by_section[n] for n in sorted(by_section)])
    whole = [t for n in sorted(by_section) for t in by_section[n]]
    bracketed = [p for passage in passages(document) for p in bridge.bracket_pairs(passage.text)]
    assert bridge.unique(pending.pairs) == bridge.unique(bridge.gloss_pairs(whole) + bracketed)
    assert (pending.japanese, pending.english) == bridge.lookup_candidates(whole)


# --- long documents are paged ---------------------------------------------------------------

LONG_ID = "long/en"
MARKED_PART = 11  # "## Part 11 ...": section s12 (the lead is s1)


@pytest.fixture(scope="module")
def long_app(tmp_path_factory: pytest.TempPathFactory, engine_name: str):
    """A document of about 135,000 characters (three pages) with MARKER in one section near
    the end, its short translation, and the repository's article."""
    root = tmp_path_factory.mktemp(f"long-{engine_name}")
    corpus = root / "c"
    write(corpus / "long" / "en.md", long_text(12, 7, marked=MARKED_PART).replace(
        "lang: en\n", "lang: en\ntranslations: long/ja\n"))
    write(corpus / "long" / "ja.md", "---\ntitle: 長いメモ\nlang: ja\ntranslation_of: long/en\n---\n\n港についての短いメモ。\n\n"
          + "".join(f"## 第{n}部\n\n貨物と時刻表の確認。\n\n" for n in range(1, 13)))
    for name in ("ja", "en"):
        write(corpus / "summit-2025" / f"{name}.md", (Path(__file__).parents[1] / "corpus" / "summit-2025" / f"{name}.md").read_text(encoding="utf-8"))
    report = reindex(corpus, root / "i", engine=engine_name)
    assert not report.skipped
    return create_app({"INDEX_DIR": str(root / "i"), "ENGINE": engine_name, "TESTING": True})


def _hit_link(client, query: str) -> str:
    page = client.get("/search", query_string={"q": query, "ui": "en"}).get_data(as_text=True)
    return html.unescape(re.search(r'<h3 class="hit-section"><a href="([^"]+)"', page).group(1))


def _body_chars(page: str) -> int:
    """Characters of document text on a page (the article's paragraphs, marks removed)."""
    article = page[page.index("<article") : page.index("</article>")]
    return sum(len(html.unescape(re.sub(r"<[^>]+>", "", p))) for p in re.findall(r"<p(?: id=\"[^\"]+\")?>(.*?)</p>", article, re.S))


def test_a_hit_in_a_long_document_opens_the_page_that_holds_it(long_app) -> None:
    client = long_app.test_client()
    link = _hit_link(client, MARKER)
    assert f"at=s{MARKED_PART + 1}p" in link  # the results page names the passage
    moved = client.get(link.split("#")[0])
    assert moved.status_code == 302 and "302" in openapi.document()["paths"]["/doc/{doc_id}"]["get"]["responses"]
    target = urlsplit(moved.headers["Location"])
    params = parse_qs(target.query)
    assert unquote(target.path) == f"/doc/{LONG_ID}" and "at" not in params and params["q"] == [MARKER]
    page = client.get(f"{target.path}?{target.query}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'id="{target.fragment}"' in text  # the passage's anchor is on that page
    assert f"<mark>{MARKER}</mark>" in text
    number = int(params["page"][0])
    assert number > 1 and f"page {number} of 3" in text.lower()
    nav = re.search(r'<nav class="paging doc-pages".*?</nav>', text, re.S).group(0)
    linked = {int(parse_qs(urlsplit(html.unescape(h)).query)["page"][0]) for h in re.findall(r'href="([^"]+)"', nav)}
    assert linked == {1, 2, 3} - {number}  # every other page is a link away
    assert "Lead paragraph" not in text  # page 1's text is not here


def test_every_page_of_a_long_document_is_bounded_and_the_pages_hold_it_all(long_app) -> None:
    client = long_app.test_client()
    whole = Engine(Path(long_app.config["INDEX_DIR"]), long_app.config["ENGINE"])
    with whole.reader() as reader:
        stored = reader.passages_of(LONG_ID)
    total = sum(len(p["body"]) for p in stored)
    assert total > 2 * docpages.PAGE_CHARS
    seen = 0
    for number in (1, 2, 3):
        page = client.get(f"/doc/{LONG_ID}?page={number}&ui=en")
        text = page.get_data(as_text=True)
        chars = _body_chars(text)
        assert page.status_code == 200 and 0 < chars <= docpages.PAGE_CHARS
        assert len(page.get_data()) < 3 * docpages.PAGE_CHARS  # the whole HTML page, not only its text
        seen += chars
    # every paragraph is on some page once (paragraph breaks are not counted)
    assert seen == sum(len(p) for f in stored for p in re.split(r"\n\s*\n", f["body"]) if p.strip())
    assert client.get(f"/doc/{LONG_ID}?page=4").status_code == 404


def test_the_table_of_contents_of_a_long_document_links_each_heading_on_its_page(long_app) -> None:
    text = long_app.test_client().get(f"/doc/{LONG_ID}?page=2&ui=en").get_data(as_text=True)
    toc = re.search(r'<nav class="toc".*?</nav>', text, re.S).group(0)
    entries = re.findall(r'<a href="([^"]+)"[^>]*>(Part \d+[^<]*)</a>', toc)
    assert len(entries) == 12
    for href, heading in entries:
        number = int(heading.split()[1])
        href = html.unescape(href)
        if href.startswith("#"):  # on this page
            assert href == f"#s{number + 1}" and f'<section id="s{number + 1}"' in text
        else:
            assert href.endswith(f"#s{number + 1}") and "page=" in href and "page=2" not in href


def test_a_long_document_side_by_side_shows_only_the_sections_of_its_page(long_app) -> None:
    client = long_app.test_client()
    page = client.get(f"/doc/{LONG_ID}?page=3&parallel=1&ui=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'class="parallel-row"' in text
    rows = re.findall(r'<div class="parallel-row" id="s(\d+)">', text)
    single = client.get(f"/doc/{LONG_ID}?page=3&ui=en").get_data(as_text=True)
    assert rows == re.findall(r'<section id="s(\d+)"', single)  # the page's sections, no others
    assert "第12部" in text  # the translation's same sections alongside


def test_a_short_document_is_shown_whole_whatever_the_link_says(long_app) -> None:
    client = long_app.test_client()
    plain = client.get("/doc/summit-2025/ja?ui=en").get_data(as_text=True)
    assert "doc-pages" not in plain and "page=" not in plain and not re.search(r'id="s\d+p\d+"', plain)
    sections = re.findall(r'<section id="s(\d+)"', plain)
    assert sections == [str(n) for n in range(1, len(sections) + 1)] and len(sections) > 3
    located = client.get("/doc/summit-2025/ja?ui=en&at=s5p1")  # a hit's link: no redirect, the whole document
    assert located.status_code == 200
    assert re.findall(r'<section id="s(\d+)"', located.get_data(as_text=True)) == sections


@pytest.mark.parametrize("query, param", [("page=0", "page"), ("page=two", "page"), ("at=5", "at"), ("at=s1p", "at")])
def test_document_page_parameters_are_checked(long_app, query: str, param: str) -> None:
    page = long_app.test_client().get(f"/doc/{LONG_ID}?{query}")
    assert page.status_code == 400 and param in page.get_data(as_text=True)


def test_page_cuts_fall_between_passages_and_find_them() -> None:
    outline = {"passages": [[1, 1, 30], [2, 1, 40], [2, 2, 40], [3, 1, 10], [3, 2, 80]], "headings": [[2, "H2"], [3, "H3"]]}
    cuts = docpages.PageCuts.of(outline, budget=100)
    assert cuts.starts == (0, 2, 4) and cuts.paged
    assert cuts.locate((2, 2)) == 2 and cuts.locate((3, None)) == 2 and cuts.locate((9, 1)) is None
    assert cuts.span(3) == (4, 5)
    with pytest.raises(docpages.PageNotFound):
        cuts.span(4)
    assert [(entry.heading, entry.page) for entry in cuts.paging(1).toc] == [("H2", 1), ("H3", 2)]
    assert not docpages.PageCuts.of(outline).paged  # the real budget: one page
    assert docpages.PageCuts.of(outline, sections={3}, budget=100).places == ((3, 1), (3, 2))


def test_page_links_show_the_ends_and_the_neighbours() -> None:
    outline = {"passages": [[n, 1, 90] for n in range(1, 21)], "headings": [[n, f"H{n}"] for n in range(1, 21)]}
    links = docpages.PageCuts.of(outline, budget=100).paging(10).links
    assert [link.number if link else None for link in links] == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert [link.current for link in links if link] == [False, False, False, True, False, False, False]
