"""Document pages: a long document is shown a page at a time, a short one whole.

    PageCuts.of(outline)    a document's outline (its "outline" record: each passage's
                            section, part and length, the headings; written at reindex
                            time, so a page never reads the passages it does not show) ->
                            pages: runs of whole passages of at most PAGE_CHARS characters
                            (text and headings; a longer passage is a page of its own). A
                            document that fits on one page is not paged: it is shown whole.
    PageCuts.locate(place)  "s5" / "s5p3" (the ``at`` parameter: a hit's passage, a
                            section) -> the page that holds it
    PageCuts.paging(page)   the page's navigation: the page links (first, last and the few
                            around the current one) and the table of contents, each heading
                            with the page it starts on

A page's size is bounded by the budget, whatever the document's size, so opening a hit in
a 20 MB file costs what a page costs. Pure functions over passage sizes: no engine, no
HTML.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Sequence

from .errors import CasearchError, QueryError

PAGE_CHARS = 60_000  # characters of passage text (and headings) on one page
NEAR_PAGES = 2  # page links shown on each side of the current page
TOC_ENTRIES = 200  # headings listed at most (those nearest the current page)
MAX_PAGE = 1_000_000
_LOCATION = re.compile(r"s([1-9][0-9]{0,6})(?:p([1-9][0-9]{0,6}))?")
_PAGE = re.compile(r"[1-9][0-9]{0,6}")

Place = tuple[int, int | None]  # section number, passage number in it (None: the section's start)


class PageNotFound(CasearchError):
    """A page number past the document's last page."""


@dataclass(frozen=True)
class PageLink:
    number: int
    label: str  # the heading the page opens with ("" for the lead section)
    current: bool = False


@dataclass(frozen=True)
class TocEntry:
    section: int
    heading: str
    page: int


@dataclass(frozen=True)
class Paging:
    """What the template needs to move between the pages of a long document."""

    page: int
    last: int
    links: list[PageLink | None]  # None: a gap of pages not listed (…)
    toc: list[TocEntry] = field(default_factory=list)


@dataclass(frozen=True)
class PageCuts:
    """A document's passages, (section, part) in reading order, cut into pages."""

    places: tuple[tuple[int, int], ...]
    headings: tuple[str, ...]  # each passage's section heading ("" for the lead)
    starts: tuple[int, ...]  # index of each page's first passage

    @classmethod
    def of(
        cls, outline: Mapping[str, Any], sections: Collection[int] | None = None, budget: int = PAGE_CHARS,
    ) -> "PageCuts":
        """From an outline ``{"passages": [[section, part, characters], ...], "headings":
        [[section, heading], ...]}``, in reading order; ``sections``: only those."""
        headings = {int(number): heading for number, heading in outline.get("headings") or []}
        rows = [(int(s), int(p), int(size)) for s, p, size in outline.get("passages") or []
                if sections is None or s in sections]
        places = tuple((section, part) for section, part, _ in rows)
        return cls(places, tuple(headings.get(section, "") for section, _ in places),
                   tuple(plan([size for _, _, size in rows], budget)))

    @property
    def pages(self) -> int:
        return len(self.starts)

    @property
    def paged(self) -> bool:
        return len(self.starts) > 1

    def span(self, page: int) -> tuple[int, int]:
        """Indexes of the page's first passage and one past its last."""
        if not 1 <= page <= self.pages:
            raise PageNotFound(f"the document has {self.pages} page{'s' if self.pages != 1 else ''}, not {page}")
        end = self.starts[page] if page < self.pages else len(self.places)
        return self.starts[page - 1], end

    def page_of(self, index: int) -> int:
        return bisect.bisect_right(self.starts, index)

    def locate(self, place: Place) -> int | None:
        """The page holding a section's start (part None) or one of its passages; None
        when the document has no such passage (a link older than the document)."""
        section, part = place
        for index, (number, its_part) in enumerate(self.places):
            if number == section and (part is None or its_part == part):
                return self.page_of(index)
        return None

    def paging(self, page: int) -> Paging:
        return Paging(page, self.pages, self._links(page), self._toc(page))

    def _links(self, page: int) -> list[PageLink | None]:
        shown = sorted({1, self.pages, *range(max(1, page - NEAR_PAGES), min(self.pages, page + NEAR_PAGES) + 1)})
        links: list[PageLink | None] = []
        for number in shown:
            if links and links[-1] is not None and number > links[-1].number + 1:
                links.append(None)
            links.append(PageLink(number, self.headings[self.starts[number - 1]], number == page))
        return links

    def _toc(self, page: int) -> list[TocEntry]:
        entries = [
            TocEntry(section, self.headings[index], self.page_of(index))
            for index, (section, part) in enumerate(self.places) if part == 1 and self.headings[index]
        ]
        if len(entries) <= TOC_ENTRIES:
            return entries
        pages = [entry.page for entry in entries]
        middle = bisect.bisect_left(pages, page)
        first = min(max(0, middle - TOC_ENTRIES // 2), len(entries) - TOC_ENTRIES)
        return entries[first : first + TOC_ENTRIES]


def plan(sizes: Sequence[int], budget: int = PAGE_CHARS) -> list[int]:
    """The index of each page's first passage: passages are added to a page while they
    fit in ``budget``; a passage larger than a page has one to itself.

    >>> plan([40, 40, 40, 10, 90, 5], budget=100)
    [0, 2, 4]
    >>> plan([], budget=100)
    [0]
    """
    starts = [0]
    used = 0
    for index, size in enumerate(sizes):
        if used and used + size > budget:
            starts.append(index)
            used = 0
        used += size
    return starts


def parse_location(text: str | None) -> Place | None:
    """The ``at`` parameter: ``s5`` (a section) or ``s5p3`` (its third passage).

    >>> parse_location("s5p3"), parse_location("s12"), parse_location(None)
    ((5, 3), (12, None), None)
    """
    if text is None or text == "":
        return None
    found = _LOCATION.fullmatch(text.strip())
    if found is None:
        raise QueryError("at must name a section and optionally a passage, like s5 or s5p2", param="at")
    return int(found.group(1)), int(found.group(2)) if found.group(2) else None


def parse_page(text: str | None) -> int | None:
    """The ``page`` parameter of a document page: a positive integer, or None.

    >>> parse_page("3"), parse_page(None)
    (3, None)
    """
    if text is None or text == "":
        return None
    if not _PAGE.fullmatch(text.strip()) or int(text) > MAX_PAGE:
        raise QueryError(f"page must be an integer from 1 to {MAX_PAGE}", param="page")
    return int(text)


def anchor(place: Place) -> str:
    """The element id of a section (``s5``) or passage (``s5p3``) on a document page; a
    section's first passage is where the section starts.

    >>> anchor((5, None)), anchor((5, 1)), anchor((5, 3))
    ('s5', 's5', 's5p3')
    """
    section, part = place
    return f"s{section}" if part is None or part == 1 else f"s{section}p{part}"
