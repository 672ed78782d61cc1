"""Terminal output of the CLI: the reindex progress bar, search results, index stats.

On a terminal the reindex progress is one redrawn bar; otherwise (a pipe, a log file, CI)
each progress message is a plain line, as the library says it. Colours are click styles,
which click strips when the output is not a terminal unless colour is forced.
"""

from __future__ import annotations

import html
import re
import shutil
import time
from typing import TYPE_CHECKING, Callable, TextIO

import click

if TYPE_CHECKING:  # the CLI imports this module for every command; keep it light
    from .search import SearchResult
    from .stats import IndexStats

_COUNT = re.compile(r"^checked (\d+)/(\d+) files")  # only these move the bar: a path may hold 12/34
_PASSAGE = re.compile(r"^indexing (.+): passage (\d+)/(\d+)$")
_MARK_OPEN, _MARK_CLOSE = "\x00", "\x01"


class ReindexProgress:
    """A ``progress(message)`` callback for ``index.reindex``.

    ``mode`` is "bar" (redraw one line on a terminal), "lines" (print each message) or
    "quiet" (print nothing). Messages "checked N/T files" (indexed or skipped) move the
    bar, and so do "indexing PATH: passage N/T" within a long file (the bar then shows how
    far that file is); any other message is printed above it.
    """

    def __init__(self, stream: TextIO, mode: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.mode = mode
        self.clock = clock
        self.began = clock()
        self.drawn = False
        self.unicode = (getattr(stream, "encoding", None) or "").lower().replace("-", "") in ("utf8", "utf_8")
        self.files = (0, 0)  # files done, files in all (0: not told yet)
        self.within: tuple[str, int, int] | None = None  # the long file being indexed: path, passages done, in all
        self.file_began = self.began

    @staticmethod
    def mode_for(stream: TextIO, quiet: bool) -> str:
        if quiet:
            return "quiet"
        isatty = getattr(stream, "isatty", None)
        return "bar" if isatty is not None and isatty() else "lines"

    def __call__(self, message: str) -> None:
        if self.mode == "quiet":
            return
        if self.mode == "bar" and self._moves_bar(message):
            self._draw()
            return
        self._clear()
        self.stream.write(message + "\n")
        self.stream.flush()

    def _moves_bar(self, message: str) -> bool:
        """Take the counts of a progress message; False for any other message."""
        count = _COUNT.search(message)
        if count:
            self.files = (int(count.group(1)), int(count.group(2)))
            self.within = None
            return True
        passage = _PASSAGE.search(message)
        if passage:
            path, done, total = passage.group(1), int(passage.group(2)), int(passage.group(3))
            if self.within is None or self.within[0] != path:
                self.file_began = self.clock()
            self.within = (path, done, total)
            return True
        return False

    def _draw(self) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        done, total = self.files
        elapsed = self.clock() - self.began
        within = ""
        if self.within is None:
            fraction = done / total if total else 1.0
            rate = f"{done / elapsed:,.0f} files/s" if elapsed > 0 and done else ""
            eta = f"{elapsed / done * (total - done):.0f} s left" if done and done < total else f"{elapsed:.1f} s"
        else:  # inside a long file: it moves the bar by its share of one file
            path, part, parts = self.within
            fraction = (done + part / parts) / total if total else part / parts
            spent = self.clock() - self.file_began
            rate = ""  # the line is long enough with the file's name and count
            eta = f"{spent / part * (parts - part):.0f} s left" if part < parts else f"{elapsed:.1f} s"
            within = f" · {_short(path)} {part:,}/{parts:,} passages"
        files = f" {done:,}/{total:,} files" if total else ""
        tail = f"{files} {fraction:4.0%}{within}  {rate}  {eta}"
        room = max(10, min(40, width - len(tail) - 12))
        filled = int(round(room * fraction))
        full, empty = ("█", "░") if self.unicode else ("#", "-")
        line = f"indexing [{full * filled}{empty * (room - filled)}]{tail}"
        self.stream.write("\r\x1b[2K" + line[: width - 1])
        self.stream.flush()
        self.drawn = True

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.drawn = False

    def close(self) -> None:
        """End the bar's line so what follows starts on a fresh one."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _short(path: str, limit: int = 30) -> str:
    """
    >>> _short("docs/very/deep/folder/of/files/big.md", 16)
    '…of/files/big.md'
    """
    return path if len(path) <= limit else "…" + path[-(limit - 1):]


def snippet_text(snippet: str, color: bool) -> str:
    """A snippet's HTML for the terminal: marks highlighted (or [bracketed]), entities decoded."""
    marked = snippet.replace("<mark>", _MARK_OPEN).replace("</mark>", _MARK_CLOSE)
    text = html.unescape(marked)
    if color:
        on = click.style("", fg="black", bg="yellow", bold=True, reset=False)
        return text.replace(_MARK_OPEN, on).replace(_MARK_CLOSE, click.style("", reset=True))
    return text.replace(_MARK_OPEN, "[").replace(_MARK_CLOSE, "]")


PARTIAL_NOTE = "Partial matches: no passage contains every word; these match some of them."


def result_lines(result: "SearchResult", color: bool) -> list[str]:
    """The search results as the terminal shows them (same order as the JSON)."""
    def style(text: str, **styles) -> str:
        return click.style(text, **styles) if color else text

    facets = result.facets or {}
    header = f"{counted(result.total, 'passage')} ({result.took_ms} ms)"
    if facets:
        header += style(f"  ·  ja {facets.get('ja', 0)}, en {facets.get('en', 0)}", dim=True)
    lines = [header]
    if result.suggestion:
        lines.append(f"Did you mean: {style(result.suggestion, fg='cyan', bold=True)}")
    if result.hint:
        lines.append(style(result.hint, fg="yellow"))
    if result.matching == "partial":
        lines.append(style(PARTIAL_NOTE, fg="yellow"))
    elsewhere = other_language_line(result)
    if elsewhere:
        lines.append(style(elsewhere, fg="yellow"))
    first = (result.page - 1) * result.per_page + 1
    previous_doc = None
    for n, hit in enumerate(result.hits, start=first):
        section = hit.section or "(lead)"
        meta = " · ".join(part for part in (hit.lang, hit.date, hit.source) if part)
        lines.append("")
        if hit.doc_id != previous_doc:
            lines.append(f"{n}. {style(hit.title, bold=True)} — {section} [{meta}] {style(hit.url, fg='blue')}")
        else:  # another passage of the document just above
            lines.append(f"{n}. {style('↳ ' + section, bold=True)} {style(hit.url, fg='blue')}")
        lines.append("   " + snippet_text(hit.snippet, color))
        if hit.translation_snippet:
            lines.append("   translation of: " + snippet_text(hit.translation_snippet, color))
        previous_doc = hit.doc_id
    if not result.hits and result.total:
        lines.append("(this page is past the last result)")
    return lines


def counted(count: int, noun: str) -> str:
    """
    >>> counted(1, "passage"), counted(0, "passage"), counted(1_200, "document")
    ('1 passage', '0 passages', '1,200 documents')
    """
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


LANGUAGE_NAMES = {"ja": "Japanese", "en": "English"}


def other_language_line(result: "SearchResult") -> str | None:
    """The page's "nothing in 日本語, but 2 in English" for a filtered search that found
    nothing: what the other language has and the option that shows it."""
    facets = result.facets or {}
    if result.total or result.lang not in LANGUAGE_NAMES:
        return None
    other = "en" if result.lang == "ja" else "ja"
    if not facets.get(other):
        return None
    return (f"Nothing in {LANGUAGE_NAMES[result.lang]}, but {counted(facets[other], 'passage')} in "
            f"{LANGUAGE_NAMES[other]}: search again with --lang {other} (or --lang all).")


def human_bytes(size: int) -> str:
    """
    >>> human_bytes(999), human_bytes(1536), human_bytes(5 * 1024 ** 3)
    ('999 B', '1.5 KiB', '5.0 GiB')
    """
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def stats_lines(stats: "IndexStats", color: bool) -> list[str]:
    def label(text: str) -> str:
        padded = f"{text:<13}"
        return click.style(padded, bold=True) if color else padded

    languages = ", ".join(
        f"{lang} {counted(counts['documents'], 'document')} / {counted(counts['passages'], 'passage')}"
        for lang, counts in stats.languages.items()
    )
    top = ", ".join(f"{item['term']} ({item['passages']})" for item in stats.top_terms)
    return [
        f"{label('index')}{stats.index_dir} ({stats.generation}, format {stats.format})",
        f"{label('documents')}{stats.documents}",
        f"{label('passages')}{stats.passages}",
        f"{label('languages')}{languages or '-'}",
        f"{label('size on disk')}{human_bytes(stats.size_bytes)} (serving generation {human_bytes(stats.serving_bytes)})",
        f"{label('vocabulary')}{stats.vocabulary:,} words",
        f"{label('top words')}{top or '-'}",
    ] + _reclaimable_lines(stats, label)


def _reclaimable_lines(stats: "IndexStats", label) -> list[str]:
    """What deleted documents still hold on disk, and how to get it back."""
    if not stats.deleted_records:
        return []
    return [
        f"{label('reclaimable')}{stats.deleted_records:,} records and {stats.stale_words:,} words of deleted "
        "documents still on disk (not searchable): casearch reindex --full frees them"
    ]
