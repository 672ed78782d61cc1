"""Corpus reading: files under ``corpus/`` -> ``Document`` -> ``Section`` -> ``Passage``.

    discover(corpus_dir)          which files are documents (ids, conflicts, ignored files)
      -> read_document(file)      bytes -> text (UTF-8, BOM, CRLF) -> front matter + sections
      -> passages(document)       long sections split at paragraph boundaries (~2,000 chars)

Knows nothing of Whoosh or of the analyzer: the index module decides what to do with the
passages, and a file that cannot be read becomes a ``CorpusError`` whose message is the
reason shown to the user next to its path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError, CorpusMissing

DOCUMENT_SUFFIXES = (".md", ".txt")
RESERVED_FILES = ("_glossary.tsv", "_userdict.csv")
MAX_PASSAGE_CHARS = 2000
LANGS = ("ja", "en")

_JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=\.)(?=\s)")


@dataclass(frozen=True)
class Section:
    number: int  # 1 for the lead section
    heading: str | None  # None for the lead section
    text: str


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
    """List document files sorted by id; same-id files are both skipped as a conflict."""
    if not corpus_dir.is_dir():
        raise CorpusMissing(f"Corpus folder not found: {corpus_dir}")
    by_id: dict[str, list[CorpusFile]] = {}
    for path in _walk(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        if rel in RESERVED_FILES or path.suffix not in DOCUMENT_SUFFIXES:
            continue
        doc_id = rel[: -len(path.suffix)]
        by_id.setdefault(doc_id, []).append(CorpusFile(doc_id, path, rel))
    files: list[CorpusFile] = []
    skipped: list[Skipped] = []
    for doc_id in sorted(by_id):
        group = by_id[doc_id]
        if len(group) == 1:
            files.append(group[0])
            continue
        names = ", ".join(sorted(f.rel for f in group))
        skipped += [Skipped(f.rel, f"conflict: same document id {doc_id!r} as {names}") for f in group]
    return files, skipped


def _walk(root: Path) -> list[Path]:
    """Files below root, skipping dot-files and dot-folders; folder links are not followed."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, f) for f in sorted(filenames) if not f.startswith(".")]
    return found


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read_bytes(file: CorpusFile, max_bytes: int) -> bytes:
    """The file's bytes, or a CorpusError saying why they cannot be had."""
    try:
        size = file.path.stat().st_size
        if size > max_bytes:
            raise CorpusError(f"file too large ({size} bytes; the limit is {max_bytes})")
        return file.path.read_bytes()
    except CorpusError:
        raise
    except OSError as exc:
        raise CorpusError(f"cannot read file: {exc.strerror or exc}") from exc


def decode_text(raw: bytes) -> str:
    """UTF-8 text with any BOM removed and line ends made LF."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"not valid UTF-8 (byte {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    title = lines[first].strip()
    body = _strip_blank_lines("\n".join(lines[first + 1 :]))
    lang = detect_lang(body or title)
    return Document(file.doc_id, file.rel, lang, title, (Section(1, None, body),), digest)


def _markdown_document(file: CorpusFile, text: str, digest: str) -> Document:
    meta, body = split_front_matter(text)
    sections, h1 = _markdown_sections(body)
    title = meta.get("title") or h1 or Path(file.rel).stem
    lang = meta.get("lang") or detect_lang("\n".join(s.text for s in sections) or title)
    if lang not in LANGS:
        raise CorpusError(f"front matter: lang must be 'ja' or 'en', not {lang!r}")
    date = meta.get("date")
    if date is not None:
        date = _check_date(date)
    translations = tuple(_as_list(meta.get("translations", ""))) + tuple(_as_list(meta.get("translation_of", "")))
    return Document(
        file.doc_id, file.rel, lang, title.strip(), tuple(sections), digest,
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
            meta[key] = ", ".join(filter(None, [meta[key], _unquote(line.strip()[2:])]))
            continue
        if ":" not in line:
            raise CorpusError(f"front matter line {n}: expected 'key: value', got {line.strip()!r}")
        key, value = (part.strip() for part in line.split(":", 1))
        meta[key.lower()] = _unquote(value)
        key = key.lower()
    return meta, "\n".join(lines[end + 1 :])


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _as_list(value: str) -> list[str]:
    value = value.strip().strip("[]")
    return [_unquote(v.strip()) for v in value.split(",") if v.strip()]


def _check_date(value: str) -> str:
    try:
        if "T" in value or " " in value.strip():
            dt.datetime.fromisoformat(value)
        else:
            dt.date.fromisoformat(value)
    except ValueError:
        raise CorpusError(f"front matter: date {value!r} is not ISO 8601 (YYYY-MM-DD)") from None
    return value


def _markdown_sections(body: str) -> tuple[list[Section], str | None]:
    """Split at ``##`` headings; the first ``#`` heading is returned as a title candidate."""
    h1: str | None = None
    headings: list[str | None] = [None]
    texts: list[list[str]] = [[]]
    for line in body.split("\n"):
        if line.startswith("## "):
            headings.append(line[3:].strip().rstrip("#").strip())
            texts.append([])
        elif line.startswith("# ") and h1 is None and len(headings) == 1:
            h1 = line[2:].strip().rstrip("#").strip()
        else:
            texts[-1].append(line)
    sections = [
        Section(i + 1, heading, _strip_blank_lines("\n".join(lines)))
        for i, (heading, lines) in enumerate(zip(headings, texts))
    ]
    return sections, h1


def _strip_blank_lines(text: str) -> str:
    return text.strip("\n").rstrip()


def passages(document: Document, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Every section as one or more passages; each passage is a run of whole paragraphs."""
    result: list[Passage] = []
    for section in document.sections:
        chunks = split_passages(section.text, max_chars) or [""]
        result += [
            Passage(document.doc_id, section.number, part, section.heading, chunk)
            for part, chunk in enumerate(chunks, start=1)
        ]
    return result


def split_passages(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[str]:
    """Group paragraphs into chunks of at most ``max_chars``; a longer paragraph is cut
    at sentence ends, and a longer sentence at ``max_chars``.

    >>> split_passages("aa\\n\\nbb\\n\\ncc", max_chars=6)
    ['aa\\n\\nbb', 'cc']
    """
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        if paragraph.strip():
            pieces += _cut_long(paragraph.strip("\n"), max_chars)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= max_chars:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return chunks


def _cut_long(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if len(current) + len(sentence) > max_chars:
            parts.append(current)
            current = ""
        current += sentence
    if current:
        parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]
