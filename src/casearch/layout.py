"""Layout: the structure of a stored text (lists, emphasis, links) as spans over it.

A Markdown passage is stored as the text its reader reads (``markdown_text``); what the
Markdown said about that text is kept beside it as a layout, a tuple of ``Element``
spans over the same characters, well nested, parents before children:

    slice_layout    a section's layout -> one passage's (clipped and shifted)
    encode/decode   layout <-> plain lists, as the engines store it
    render_blocks   text + layout + marks -> HTML of each top-level block; text outside
                    every element (a ``.txt`` document has no layout) becomes paragraphs
    item_markers    where each list item starts -> the bullet or number a snippet shows

Because the layout only points at the stored text, a mark found by the analyzer's
offsets lands on the same characters on the page as in a snippet. Rendering is safe by
construction: every character of the text is escaped, tags come from a fixed list, and
a link keeps its address only when it is http, https or mailto.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Iterable, Sequence
from urllib.parse import urlsplit

Span = tuple[int, int]

# Elements the page may show; anything else in a stored layout is rendered as its text.
BLOCK_TAGS = ("p", "ul", "ol", "li", "blockquote", "pre", "h3", "h4", "h5", "h6")
INLINE_TAGS = ("strong", "em", "code", "a", "br")
SAFE_SCHEMES = ("http", "https", "mailto")
BULLET = "• "
_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?!\s*\n))+")


@dataclass(frozen=True)
class Element:
    start: int
    end: int
    tag: str
    attr: str = ""  # a link's address; an ordered list item's number


@dataclass
class _Node:
    element: Element
    children: list[_Node] = field(default_factory=list)


Layout = tuple[Element, ...]


def safe_href(url: str) -> str | None:
    """The address when a link may point there (http, https, mailto), else None.

    >>> safe_href("https://example.jp/tram"), safe_href("javascript:alert(1)"), safe_href("/x")
    ('https://example.jp/tram', None, None)
    """
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in SAFE_SCHEMES and not any(c.isspace() or ord(c) < 32 for c in url) else None


def slice_layout(layout: Sequence[Element], start: int, end: int) -> Layout:
    """The elements over ``[start, end)``, clipped to it and shifted to start at 0.

    >>> slice_layout([Element(0, 4, "p"), Element(6, 12, "li")], 2, 8)
    (Element(start=0, end=2, tag='p', attr=''), Element(start=4, end=6, tag='li', attr=''))
    """
    return tuple(
        Element(max(e.start, start) - start, min(e.end, end) - start, e.tag, e.attr)
        for e in layout if e.start < end and e.end > start
    )


def encode(layout: Sequence[Element]) -> list[list]:
    """Plain lists (what both engines store).

    >>> encode([Element(0, 3, "a", "https://x.jp")])
    [[0, 3, 'a', 'https://x.jp']]
    """
    return [[e.start, e.end, e.tag, e.attr] for e in layout]


def decode(stored: Iterable[Sequence] | None) -> Layout:
    """The layout of a stored record; an unreadable entry is left out (shown as text)."""
    elements: list[Element] = []
    for entry in stored or ():
        try:
            start, end, tag, attr = entry
            elements.append(Element(int(start), int(end), str(tag), str(attr)))
        except (TypeError, ValueError):
            continue
    return tuple(elements)


def item_markers(layout: Sequence[Element]) -> dict[int, str]:
    """Where each list item starts -> what a snippet shows before it.

    >>> item_markers([Element(0, 3, "li"), Element(4, 7, "li", "2")])
    {0: '• ', 4: '2. '}
    """
    return {e.start: f"{e.attr}. " if e.attr else BULLET for e in layout if e.tag == "li"}


def render_blocks(text: str, layout: Sequence[Element], marks: Sequence[Span] = ()) -> list[str]:
    """HTML of each top-level block of ``text``, with ``marks`` (sorted, disjoint spans)
    wrapped in <mark>; text outside every element is split into paragraphs."""
    blocks: list[str] = []
    cursor = 0
    for node in _tree(layout, len(text)):
        blocks += _paragraphs(text, cursor, node.element.start, marks)
        blocks.append(_render(text, node, marks))
        cursor = node.element.end
    return blocks + _paragraphs(text, cursor, len(text), marks)


def _tree(layout: Sequence[Element], length: int) -> list[_Node]:
    """The elements as a forest; empty, out-of-range or overlapping ones are left out."""
    roots: list[_Node] = []
    stack: list[_Node] = []
    for element in sorted(layout, key=lambda e: (e.start, -e.end)):  # stable: parents first
        if not 0 <= element.start < element.end <= length:
            continue
        while stack and not (stack[-1].element.start <= element.start and element.end <= stack[-1].element.end):
            stack.pop()
        siblings = stack[-1].children if stack else roots
        if siblings and element.start < siblings[-1].element.end:
            continue  # overlaps its previous sibling: not a layout this module wrote
        node = _Node(element)
        siblings.append(node)
        stack.append(node)
    return roots


def _render(text: str, node: _Node, marks: Sequence[Span]) -> str:
    element = node.element
    if element.tag == "br":
        return "<br>"
    inner: list[str] = []
    cursor = element.start
    for child in node.children:
        inner.append(marked(text, cursor, child.element.start, marks))
        inner.append(_render(text, child, marks))
        cursor = child.element.end
    inner.append(marked(text, cursor, element.end, marks))
    opening, closing = _tags(node)
    return opening + "".join(inner) + closing


def _tags(node: _Node) -> tuple[str, str]:
    element = node.element
    tag = element.tag
    if tag == "a":
        href = safe_href(element.attr)
        if href is None:
            return "", ""
        return f'<a href="{escape(href, quote=True)}" rel="nofollow noopener noreferrer">', "</a>"
    if tag == "pre":
        return "<pre><code>", "</code></pre>"
    if tag == "ol":
        first = node.children[0].element.attr if node.children else ""
        start = f' start="{int(first)}"' if first.isdigit() and int(first) != 1 else ""
        return f"<ol{start}>", "</ol>"
    if tag in BLOCK_TAGS or tag in INLINE_TAGS:
        return f"<{tag}>", f"</{tag}>"
    return "", ""


def _paragraphs(text: str, start: int, end: int, marks: Sequence[Span]) -> list[str]:
    """Each blank-line separated paragraph of ``text[start:end]`` as a <p>."""
    out: list[str] = []
    for match in _PARAGRAPH.finditer(text, start, end):
        if match.group().strip():
            out.append("<p>" + marked(text, match.start(), match.end(), marks).strip() + "</p>")
    return out


def marked(text: str, start: int, end: int, marks: Sequence[Span]) -> str:
    """``text[start:end]`` escaped, with the parts inside ``marks`` wrapped in <mark>.

    >>> marked("a<b c", 0, 5, [(1, 3)])
    'a<mark>&lt;b</mark> c'
    """
    out: list[str] = []
    cursor = start
    for a, b in marks:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        out.append(escape(text[cursor:a], quote=False))
        out.append("<mark>" + escape(text[a:b], quote=False) + "</mark>")
        cursor = b
    out.append(escape(text[cursor:end], quote=False))
    return "".join(out)
