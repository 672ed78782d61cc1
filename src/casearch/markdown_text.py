"""Markdown -> the text its reader reads, section by section, with its layout.

    parse       markdown-it (CommonMark; raw HTML off, so ``<script>`` stays text that
                is escaped wherever it is shown) -> block tokens with inline children
    sections    a top-level ``##`` heading starts a section; the first ``#`` heading
                before any is the title candidate (both as plain text)
    _Section    each block's text is written out, and the element it sits in is noted
                as a span over that text (``layout.Element``):
                  blocks      top-level blocks are joined by a blank line; the blocks
                              inside one (list items, a quote's paragraphs) by a line
                              end, so a list stays one paragraph for passage splitting
                              and every item is a line (a sentence) of its own
                  inline      text, code spans' text, link text (the address goes to the
                              layout only, so it is neither searched nor shown as text),
                              image alt text; emphasis markers are dropped; a soft line
                              break is a space, or nothing between two wide (Japanese)
                              characters; a hard one is a line end

The index analyzes exactly this text, so every token offset and mark points at the
characters the page and the snippets show; the page rebuilds lists, emphasis and links
from the layout (``layout.render_blocks``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .layout import Element, Layout, safe_href

_PARSER = MarkdownIt("commonmark", {"html": False})
# Entities can spell characters that corpus text never holds (see ``corpus.decode_text``).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")
_BLOCK_TAGS = {
    "bullet_list_open": "ul", "ordered_list_open": "ol", "list_item_open": "li",
    "blockquote_open": "blockquote", "paragraph_open": "p",
}
_INLINE_TAGS = {"strong_open": "strong", "em_open": "em", "link_open": "a"}

Piece = tuple  # ("text", str) | ("open", tag or None, attr) | ("close",) | ("br",) | ("soft",)


@dataclass(frozen=True)
class MarkdownSection:
    heading: str | None  # None for the lead section
    text: str
    layout: Layout


def markdown_sections(
    body: str, shorten: Callable[[str], str] = lambda text: text,
) -> tuple[list[MarkdownSection], str | None]:
    """The sections of a Markdown body and its title candidate (the first ``#`` heading
    before any ``##``). A heading that ``shorten`` cuts keeps its whole text as the
    first paragraph of its section, so nothing stops being searchable.

    >>> sections, h1 = markdown_sections("# T\\n\\n- **a**\\n- [b](https://x.jp)\\n\\n## H\\ntext")
    >>> h1, [(s.heading, s.text) for s in sections]
    ('T', [(None, 'a\\nb'), ('H', 'text')])
    """
    tokens = _PARSER.parse(body)
    sections = [_Section(None)]
    h1: str | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open" and token.level == 0 and token.markup in ("#", "##"):
            text = inline_text(tokens[i + 1])
            if token.markup == "##" and text:
                sections.append(_Section(shorten(text)))
                sections[-1].cut_heading(text)
                i += 3
                continue
            if token.markup == "#" and text and h1 is None and len(sections) == 1:
                h1 = text
                if shorten(text) != text:
                    sections[-1].cut_heading(text)
                i += 3
                continue
        sections[-1].feed(token)
        i += 1
    return [section.finish() for section in sections], h1


def inline_text(token: Token) -> str:
    """The plain text of an inline token (a heading's), on one line.

    >>> inline_text(_PARSER.parse("## A *b* [c](https://x.jp)")[1])
    'A b c'
    """
    pieces = _inline_pieces(token.children or [])
    text = "".join(piece[1] if piece[0] == "text" else " " if piece[0] == "br" else "" for piece in pieces)
    return " ".join(text.split())


class _Section:
    """Writes one section's blocks as text and notes their elements."""

    def __init__(self, heading: str | None) -> None:
        self.heading = heading
        self.parts: list[str] = []
        self.length = 0
        self.elements: list[list] = []  # [start, end, tag, attr] in opening order
        self.open: list[int | None] = []  # indexes into elements; None for what is not shown
        self.top = 0  # number of the top-level block being read
        self.last_top = -1  # the top-level block of the last text written

    def cut_heading(self, text: str) -> None:
        """A heading too long for its field: its whole text opens the section."""
        if self.heading != text:
            self.feed_leaf("p", [("text", text)])

    def feed(self, token: Token) -> None:
        if token.level == 0 and token.nesting >= 0:
            self.top += 1
        if token.nesting == 1:
            self._open(*_block_element(token))
        elif token.nesting == -1:
            self._close()
        elif token.type == "inline":
            self._leaf(_inline_pieces(token.children or []))
        elif token.type in ("fence", "code_block"):
            self.feed_leaf("pre", [("text", token.content.rstrip("\n"))])

    def feed_leaf(self, tag: str, pieces: list[Piece]) -> None:
        self._open(tag, "")
        self._leaf(pieces)
        self._close()

    def finish(self) -> MarkdownSection:
        layout = tuple(
            Element(start, end, tag, attr) for start, end, tag, attr in self.elements
            if start is not None and end is not None and end > start
        )
        return MarkdownSection(self.heading, "".join(self.parts), layout)

    def _open(self, tag: str | None, attr: str) -> None:
        if tag is None:
            self.open.append(None)
            return
        self.elements.append([None, None, tag, attr])
        self.open.append(len(self.elements) - 1)

    def _close(self) -> None:
        if not self.open:
            return
        index = self.open.pop()
        if index is not None and self.elements[index][0] is not None:
            self.elements[index][1] = self.length

    def _write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def _leaf(self, pieces: list[Piece]) -> None:
        """One block's text; written only when it has some."""
        if not any(piece[0] == "text" and piece[1] for piece in pieces):
            return
        if self.length:
            self._write("\n" if self.top == self.last_top else "\n\n")
        self.last_top = self.top
        for index in self.open:  # the blocks this text opens start here
            if index is not None and self.elements[index][0] is None:
                self.elements[index][0] = self.length
        for piece in pieces:
            if piece[0] == "text":
                self._write(piece[1])
            elif piece[0] == "open":
                self._open(piece[1], piece[2])
                if self.open[-1] is not None:
                    self.elements[self.open[-1]][0] = self.length
            elif piece[0] == "close":
                self._close()
            elif piece[0] == "br":
                self.elements.append([self.length, self.length + 1, "br", ""])
                self._write("\n")


def _block_element(token: Token) -> tuple[str | None, str]:
    """The element a block token opens (None: not shown, e.g. a tight list's paragraph)."""
    if token.type == "heading_open":
        return f"h{max(3, min(6, int(token.tag[1:] or 3)))}", ""
    if token.type == "paragraph_open" and token.hidden:
        return None, ""
    if token.type == "list_item_open":
        return "li", token.info if token.info.isdigit() else ""
    return _BLOCK_TAGS.get(token.type), ""


def _inline_pieces(children: Sequence[Token]) -> list[Piece]:
    pieces: list[Piece] = []
    for child in children:
        kind = child.type
        if kind == "text" or kind == "html_inline":
            pieces.append(("text", _clean(child.content)))
        elif kind == "code_inline":
            pieces += [("open", "code", ""), ("text", _clean(child.content)), ("close",)]
        elif kind == "softbreak":
            pieces.append(("soft",))
        elif kind == "hardbreak":
            pieces.append(("br",))
        elif kind == "image":  # its alt text, which may hold emphasis of its own
            pieces += [piece for piece in _inline_pieces(child.children or []) if piece[0] in ("text", "soft")]
        elif kind == "link_open":
            href = safe_href(str(child.attrGet("href") or ""))
            pieces.append(("open", "a" if href else None, href or ""))
        elif kind.endswith("_open"):
            pieces.append(("open", _INLINE_TAGS.get(kind), ""))
        elif kind.endswith("_close"):
            pieces.append(("close",))
        elif child.content:
            pieces.append(("text", _clean(child.content)))
    return _resolve_soft_breaks(pieces)


def _resolve_soft_breaks(pieces: list[Piece]) -> list[Piece]:
    """A soft line break is a space, except between two wide characters (Japanese
    wrapped mid-sentence reads as one line)."""
    resolved: list[Piece] = []
    for index, piece in enumerate(pieces):
        if piece[0] != "soft":
            resolved.append(piece)
            continue
        before = next((p[1][-1] for p in reversed(resolved) if p[0] == "text" and p[1]), "")
        after = next((p[1][0] for p in pieces[index + 1:] if p[0] == "text" and p[1]), "")
        resolved.append(("text", "" if _wide(before) and _wide(after) else " "))
    return resolved


def _wide(char: str) -> bool:
    return bool(char) and unicodedata.east_asian_width(char) in ("W", "F")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)
