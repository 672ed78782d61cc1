"""Corpus reading: files under ``corpus/`` -> ``Document`` -> ``Section`` -> ``Passage``.

    discover(corpus_dir)          which files are documents (ids, conflicts, ignored files)
      -> read_document(file)      bytes -> text (UTF-8, BOM, CRLF) -> front matter + sections
                                  (Markdown becomes the text its reader reads, with its
                                  layout: ``markdown_text``)
      -> passages(document)       long sections split at paragraph boundaries (~2,000
                                  chars); each passage is a slice of its section's text
                                  and carries the slice of its layout

Knows nothing of Whoosh or of the analyzer: the index module decides what to do with the
passages, and a file that cannot be read becomes a ``CorpusError`` whose message is the
reason shown to the user next to its path.

Faults are expected, never fatal: a file or folder that cannot be had (bad UTF-8 or a
UTF-16 file, broken front matter, empty, over the size limit, a FIFO or device, a broken
link, a symlink loop, unreadable, vanished since the folder was listed, a name that is
not UTF-8 or holds a control character) becomes a ``Skipped`` entry with its path and
reason, and the rest is read. Folder links are followed once per real folder: a link
back into the corpus (a loop, or a second way to the same files) is reported instead of
walked. Control characters are dropped from the text, and titles and headings, which are
stored again on every passage, are bounded (``MAX_TITLE_CHARS``).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, CorpusMissing
from .layout import Layout, slice_layout
from .markdown_text import markdown_sections

DOCUMENT_SUFFIXES = (".md", ".txt")
RESERVED_FILES = ("_glossary.tsv", "_userdict.csv", "_synonyms.tsv")
MAX_PASSAGE_CHARS = 2000
# Titles and headings are stored (and analyzed) again on every passage, front-matter values
# are stored on every passage: a bound keeps one odd file (a 20 MB text on one line) from
# costing gigabytes. Text cut from a title or heading stays searchable in the body.
MAX_TITLE_CHARS = 300
MAX_META_CHARS = 2000
LANGS = ("ja", "en")

_JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
# Where a paragraph too long for one passage may be cut: sentence ends, and line ends
# (a Markdown list is one paragraph whose items are lines).
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])|(?<=\.)(?=\s)")
# Control characters are not text: NUL, escape sequences (which would reach a terminal
# through `casearch search`), the C1 range and stray byte order marks (files pasted
# together) are dropped; form and vertical feeds end lines.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff]")
_CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # line breaks and tabs too
_BLANK_LINE = re.compile(r"\n\s*\n")

Span = tuple[int, int]


@dataclass(frozen=True)
class Section:
    number: int  # 1 for the lead section
    heading: str | None  # None for the lead section
    text: str
    layout: Layout = ()  # Markdown's lists, emphasis and links as spans over ``text``


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str  # relative to the corpus folder, "/"-separated
    lang: str
    title: str
    sections: tuple[Section, ...]
    digest: str  # sha256 of the file's bytes
    source: str | None = None
    url: str | None = None
    date: str | None = None
    translations: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Passage:
    doc_id: str
    section: int
    part: int  # 1-based passage number within the section
    heading: str | None
    text: str
    layout: Layout = ()  # the section's layout over this passage's text


@dataclass(frozen=True)
class CorpusFile:
    doc_id: str
    path: Path
    rel: str


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def discover(corpus_dir: Path) -> tuple[list[CorpusFile], list[Skipped]]:
    """List document files sorted by id; same-id files are both skipped as a conflict.

    Files and folders that cannot be listed or named are skipped with the reason.
    """
    if not corpus_dir.is_dir():
        raise CorpusMissing(f"Corpus folder not found: {corpus_dir}")
    paths, skipped = _walk(corpus_dir)
    by_id: dict[str, list[CorpusFile]] = {}
    for path in paths:
        rel = path.relative_to(corpus_dir).as_posix()
        if rel in RESERVED_FILES or path.suffix not in DOCUMENT_SUFFIXES:
            continue
        if not _is_utf8(rel):
            skipped.append(Skipped(printable(rel), "file name is not valid UTF-8; rename the file"))
            continue
        if _CONTROL_IN_NAME.search(rel):
            # an id with a line break could not be linked to (/doc/<id>) nor listed one per line
            skipped.append(Skipped(printable(rel), "file name contains a control character; rename the file"))
            continue
        doc_id = rel[: -len(path.suffix)]
        by_id.setdefault(doc_id, []).append(CorpusFile(doc_id, path, rel))
    files: list[CorpusFile] = []
    for doc_id in sorted(by_id):
        group = by_id[doc_id]
        if len(group) == 1:
            files.append(group[0])
            continue
        names = ", ".join(sorted(f.rel for f in group))
        skipped += [Skipped(f.rel, f"conflict: same document id {doc_id!r} as {names}") for f in group]
    return files, sorted(skipped, key=lambda s: s.path)


def printable(rel: str) -> str:
    """A path as the user can read it on one line: bytes that are not UTF-8 and control
    characters shown as escapes.

    >>> printable("a\\nb.md")
    'a\\\\nb.md'
    """
    text = os.fsencode(rel).decode("utf-8", "backslashreplace")
    return _CONTROL_IN_NAME.sub(lambda m: repr(m.group())[1:-1], text)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes: the name's bytes are not UTF-8
        return False
    return True


def _walk(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Files below root (dot-files and dot-folders left out), and the folders skipped.

    Iterative, so depth is bounded by the file system, not by Python's stack. A link to a
    folder is followed when it leads outside the real folders already walked or queued;
    otherwise (a loop back to an ancestor, or a folder reachable another way) it is
    reported, so every real folder is read at most once and the walk always ends.
    """
    found: list[Path] = []
    skipped: list[Skipped] = []
    real_root = os.path.realpath(root)
    claimed: dict[str, str] = {real_root: "."}  # real folder -> the corpus path that walks it
    pending: list[tuple[Path, str]] = [(root, real_root)]
    while pending:
        folder, real_folder = pending.pop()
        rel_folder = _rel(root, folder)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            if folder == root:
                raise CorpusMissing(f"Corpus folder cannot be read: {root}: {exc.strerror or exc}") from exc
            skipped.append(Skipped(printable(rel_folder) + "/", f"cannot read folder: {_os_reason(exc)}"))
            continue
        links: list[tuple[os.DirEntry, str]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if not _is_folder(entry):
                found.append(Path(entry.path))
            elif entry.is_symlink():
                links.append((entry, os.path.realpath(entry.path)))
            else:
                real = os.path.join(real_folder, entry.name)
                claimed.setdefault(real, _rel(root, Path(entry.path)))
                pending.append((Path(entry.path), real))
        for entry, real in links:
            reason = _link_problem(real, real_folder, real_root, claimed)
            if reason:
                skipped.append(Skipped(printable(_rel(root, Path(entry.path))) + "/", reason))
                continue
            claimed[real] = _rel(root, Path(entry.path))
            pending.append((Path(entry.path), real))
    return found, skipped


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows links; a broken or looping link is not a folder
    except OSError:
        return False


def _link_problem(real: str, real_parent: str, real_root: str, claimed: dict[str, str]) -> str | None:
    """Why a link to the folder ``real`` is not followed, or None to follow it."""
    if _is_within(real_parent, real):
        return f"symlink loop: the link points to {_shown(real, real_root)}, a folder that contains it"
    if _is_within(real, real_root) or real in claimed:
        where = claimed.get(real) or _shown(real, real_root)
        return f"symlink to a folder already indexed as {where}/ (not indexed twice)"
    if any(_is_within(real, other) or _is_within(other, real) for other in claimed):
        return f"symlink to a folder that overlaps one already indexed ({_shown(real, real_root)})"
    return None


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _shown(real: str, real_root: str) -> str:
    if real == real_root:
        return "the corpus folder"
    if _is_within(real, real_root):
        return printable(os.path.relpath(real, real_root))
    return printable(real)


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_bytes(file: CorpusFile, max_bytes: int) -> bytes:
    """The file's bytes, or a CorpusError saying why they cannot be had.

    Never blocks or reads without bound: only regular files are read (a FIFO would wait
    for a writer, a device may never end), and at most ``max_bytes + 1`` bytes are read
    even if the file grows after its size was checked.
    """
    try:
        fd = os.open(file.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise CorpusError(_open_reason(file.path, exc)) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CorpusError(f"not a regular file ({_file_kind(info.st_mode)})")
        if info.st_size > max_bytes:
            raise CorpusError(_too_large(info.st_size, max_bytes))
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise CorpusError(_too_large(size, max_bytes, growing=True))
        return b"".join(chunks)
    except OSError as exc:
        raise CorpusError(f"cannot read file: {_os_reason(exc)}") from exc
    finally:
        os.close(fd)


def read_reserved(corpus_dir: Path, name: str, max_bytes: int) -> bytes | None:
    """A reserved file's bytes (``_glossary.tsv``, ``_userdict.csv``), None when there is
    none; like ``read_bytes``, a folder, FIFO or oversized file is a CorpusError, never a
    hang or an unbounded read."""
    path = corpus_dir / name
    if not os.path.lexists(path):
        return None
    return read_bytes(CorpusFile(name, path, name), max_bytes)


def _too_large(size: int, max_bytes: int, growing: bool = False) -> str:
    grew = ", and growing" if growing else ""
    return (
        f"file too large ({size} bytes{grew}; the limit is {max_bytes}, "
        "set by CASEARCH_MAX_FILE_BYTES)"
    )


def _open_reason(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"broken symlink (its target {os.readlink(path)!r} does not exist)"
        return "file vanished while the reindex ran (it will count as removed next time)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot read file: permission denied ({_os_reason(exc)})"
    return f"cannot read file: {_os_reason(exc)}"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _file_kind(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")]
    return next((name for test, name in kinds if test(mode)), "a special file")


def decode_text(raw: bytes) -> str:
    """UTF-8 text with any BOM removed, line ends made LF and control characters dropped.

    >>> decode_text(b"\\xef\\xbb\\xbfa\\r\\nb\\x00\\x1b[1mc\\x0cd")
    'a\\nb[1mc\\nd'
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        mark = raw[:2].hex(" ").upper()
        raise CorpusError(f"not valid UTF-8: UTF-16 or UTF-32 text (byte order mark {mark}); save the file as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CorpusError(f"not valid UTF-8 (byte {exc.start}, line {line}: {exc.reason})") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    return _CONTROL.sub("", text)


def read_document(file: CorpusFile, raw: bytes) -> Document:
    """Parse one file's bytes into a Document (raises CorpusError with the reason)."""
    text = decode_text(raw)
    if not text.strip():
        raise CorpusError("empty file")
    if file.path.suffix == ".md":
        return _markdown_document(file, text, digest_of(raw))
    return _text_document(file, text, digest_of(raw))


def detect_lang(text: str) -> str:
    """``ja`` when the text holds any kana or kanji, else ``en``.

    >>> detect_lang("Astana summit"), detect_lang("アスタナ summit")
    ('en', 'ja')
    """
    return "ja" if _JAPANESE_CHAR.search(text) else "en"


def _text_document(file: CorpusFile, text: str, digest: str) -> Document:
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    title = shorten(lines[first].strip())
    kept = lines[first + 1 :] if title == lines[first].strip() else lines[first:]
    body = _strip_blank_lines("\n".join(kept))
    lang = detect_lang(body or title)
    return Document(file.doc_id, file.rel, lang, title, (Section(1, None, body),), digest)


def _markdown_document(file: CorpusFile, text: str, digest: str) -> Document:
    meta, body = split_front_matter(text)
    sections, h1 = _markdown_sections(body)
    title = next((t.strip() for t in (meta.get("title"), h1) if t and t.strip()), Path(file.rel).stem)
    title = shorten(title)
    lang = meta.get("lang", "").strip().lower() or detect_lang("\n".join(s.text for s in sections) or title)
    if lang not in LANGS:
        raise CorpusError(f"front matter: lang must be 'ja' or 'en', not {lang!r}")
    date = meta.get("date")
    if date is not None:
        date = _check_date(date)
    translations = tuple(_as_list(meta.get("translations", ""))) + tuple(_as_list(meta.get("translation_of", "")))
    return Document(
        file.doc_id, file.rel, lang, title, tuple(sections), digest,
        source=meta.get("source"), url=meta.get("url"), date=date,
        translations=tuple(dict.fromkeys(translations)), meta=meta,
    )


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """``key: value`` lines between a leading ``---`` and the next ``---``.

    A document that opens with ``---`` but never closes it is a broken front matter.

    >>> split_front_matter("---\\ntitle: A\\nlang: en\\n---\\nbody")
    ({'title': 'A', 'lang': 'en'}, 'body')
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise CorpusError("front matter: opening '---' is never closed") from None
    meta: dict[str, str] = {}
    key = None
    for n, line in enumerate(lines[1:end], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.lstrip().startswith("- ") and key:  # YAML block list item
            meta[key] = ", ".join(filter(None, [meta[key], _unquote(line.strip()[2:])]))[:MAX_META_CHARS]
            continue
        if ":" not in line:
            raise CorpusError(f"front matter line {n}: expected 'key: value', got {line.strip()!r}")
        key, value = (part.strip() for part in line.split(":", 1))
        key = key.lower()
        meta[key] = _unquote(value)[:MAX_META_CHARS]
    return meta, "\n".join(lines[end + 1 :])


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _as_list(value: str) -> list[str]:
    value = value.strip().strip("[]")
    return [_unquote(v.strip()) for v in value.split(",") if v.strip()]


def _check_date(value: str) -> str:
    """The date in its canonical ISO form, so that dates sort as strings.

    >>> _check_date("20250617"), _check_date("2025-06-17T09:30+09:00")
    ('2025-06-17', '2025-06-17T09:30:00+09:00')
    """
    try:
        if "T" in value or " " in value.strip():
            return dt.datetime.fromisoformat(value).isoformat()
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise CorpusError(f"front matter: date {value!r} is not ISO 8601 (YYYY-MM-DD)") from None


def _markdown_sections(body: str) -> tuple[list[Section], str | None]:
    """Split at ``##`` headings; the first ``#`` heading is returned as a title candidate."""
    parsed, h1 = markdown_sections(body, shorten)
    return [Section(i + 1, part.heading, part.text, part.layout) for i, part in enumerate(parsed)], h1


def shorten(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when one is near the end.

    >>> shorten("one two three", 10), shorten("一二三四五六", 4)
    ('one two…', '一二三…')
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 2 // 3:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _strip_blank_lines(text: str) -> str:
    return text.strip("\n").rstrip()


def passages(document: Document, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Every section as one or more passages; each passage is a run of whole paragraphs."""
    result: list[Passage] = []
    for section in document.sections:
        spans = passage_spans(section.text, max_chars) or [(0, 0)]
        result += [
            Passage(document.doc_id, section.number, part, section.heading, section.text[a:b],
                    slice_layout(section.layout, a, b))
            for part, (a, b) in enumerate(spans, start=1)
        ]
    return result


def split_passages(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[str]:
    """The passages' texts (see ``passage_spans``).

    >>> split_passages("aa\\n\\nbb\\n\\ncc", max_chars=6)
    ['aa\\n\\nbb', 'cc']
    """
    return [text[a:b] for a, b in passage_spans(text, max_chars)]


def passage_spans(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[Span]:
    """Group paragraphs into spans of at most ``max_chars``; a longer paragraph is cut
    at sentence or line ends, and a longer sentence at ``max_chars``. Each passage is the text
    between its spans' ends as it stands (offsets into the section stay offsets into
    the passage), without the line ends and spaces around it."""
    pieces: list[Span] = []
    cursor = 0
    for gap in [*_BLANK_LINE.finditer(text), None]:
        stop = gap.start() if gap else len(text)
        start, end = _trimmed(text, cursor, stop, "\n")
        if text[start:end].strip():
            pieces += _cut_long(text, start, end, max_chars)
        cursor = gap.end() if gap else stop
    chunks: list[Span] = []
    for start, end in pieces:
        if chunks and end - chunks[-1][0] <= max_chars:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    return chunks


def _cut_long(text: str, start: int, end: int, max_chars: int) -> list[Span]:
    if end - start <= max_chars:
        return [(start, end)]
    parts: list[Span] = []
    current: Span | None = None
    position = start
    for sentence in _SENTENCE_END.split(text[start:end]):  # zero-width cuts: nothing is lost
        first, position = position, position + len(sentence)
        while position - first > max_chars:
            if current:
                parts.append(current)
                current = None
            parts.append((first, first + max_chars))
            first += max_chars
        if current and position - current[0] > max_chars:
            parts.append(current)
            current = None
        current = (current[0] if current else first, position)
    if current:
        parts.append(current)
    trimmed = (_trimmed(text, a, b) for a, b in parts)
    return [(a, b) for a, b in trimmed if b > a]


def _trimmed(text: str, start: int, end: int, chars: str | None = None) -> Span:
    """``(start, end)`` without the ``chars`` (whitespace by default) at either end."""
    piece = text[start:end]
    if not piece.strip(chars):
        return start, start
    return start + len(piece) - len(piece.lstrip(chars)), start + len(piece.rstrip(chars))
