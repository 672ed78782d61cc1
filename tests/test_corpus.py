"""Corpus reading: front matter, sections, passages, ids, conflicts, and the article itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from casearch.corpus import (
    CorpusFile, detect_lang, discover, passages, read_document, split_passages,
)
from casearch.errors import CorpusError, CorpusMissing

from conftest import REPO, SEED, write


def load(path: Path, root: Path):
    rel = path.relative_to(root).as_posix()
    return read_document(CorpusFile(rel.rsplit(".", 1)[0], path, rel), path.read_bytes())


def test_markdown_front_matter_and_sections(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "a/b.md", "---\ntitle: T\nlang: en\nsource: s\ndate: 2025-06-17\n"
                     "translations: [x/ja, y/ja]\nunknown: ignored\n---\nlead text\n\n## One\nbody one\n## Two\n"), tmp_path)
    assert (doc.doc_id, doc.title, doc.lang, doc.source, doc.date) == ("a/b", "T", "en", "s", "2025-06-17")
    assert doc.translations == ("x/ja", "y/ja")
    assert [(s.number, s.heading, s.text) for s in doc.sections] == [
        (1, None, "lead text"), (2, "One", "body one"), (3, "Two", "")]


def test_title_falls_back_to_h1_then_file_name(tmp_path: Path) -> None:
    assert load(write(tmp_path / "h.md", "# Heading title\n\ntext\n"), tmp_path).title == "Heading title"
    assert load(write(tmp_path / "name.md", "just text\n"), tmp_path).title == "name"


def test_lead_section_exists_even_when_empty(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "x.md", "## First\ntext\n"), tmp_path)
    assert [(s.number, s.heading) for s in doc.sections] == [(1, None), (2, "First")]


def test_txt_first_line_is_title_and_language_is_detected(tmp_path: Path) -> None:
    ja = load(write(tmp_path / "j.txt", "\n\nタイトル\n本文です。\n"), tmp_path)
    en = load(write(tmp_path / "e.txt", "Title\nBody text.\n"), tmp_path)
    assert (ja.title, ja.lang, ja.sections[0].text) == ("タイトル", "ja", "本文です。")
    assert (en.title, en.lang) == ("Title", "en")


@pytest.mark.parametrize(("text", "lang"), [("Astana", "en"), ("アスタナ", "ja"), ("北京 summit", "ja"), ("ﾃｽﾄ", "ja")])
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "w.md"
    path.write_bytes("\ufeff---\r\ntitle: W\r\n---\r\n本文\r\n".encode("utf-8"))
    doc = load(path, tmp_path)
    assert (doc.title, doc.sections[0].text) == ("W", "本文")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\xff\xfe bad", "not valid UTF-8"), (b"   \n", "empty file"),
     (b"---\ntitle: x\n", "never closed"), (b"---\nlang: fr\n---\ntext", "lang must be"),
     (b"---\ndate: June\n---\ntext", "ISO 8601"), (b"---\njust words\n---\ntext", "key: value")],
)
def test_bad_files_raise_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=reason):
        load(path, tmp_path)


def test_discover_ids_conflicts_and_ignored_files(tmp_path: Path) -> None:
    for name in ["a.md", "a.txt", "sub/b.md", "c.txt", ".hidden.md", ".git/x.md", "_glossary.tsv",
                 "_userdict.csv", "notes.pdf"]:
        write(tmp_path / name, "x\ny\n")
    files, skipped = discover(tmp_path)
    assert [f.doc_id for f in files] == ["c", "sub/b"]
    assert sorted(s.path for s in skipped) == ["a.md", "a.txt"]
    assert all("conflict" in s.reason for s in skipped)


def test_missing_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusMissing):
        discover(tmp_path / "nope")


def test_long_sections_split_at_paragraphs_into_bounded_passages(tmp_path: Path) -> None:
    paragraphs = [f"段落{i}。" + "あ" * 300 for i in range(20)]
    doc = load(write(tmp_path / "long.md", "## 長い節\n" + "\n\n".join(paragraphs) + "\n"), tmp_path)
    parts = [p for p in passages(doc) if p.section == 2]
    assert len(parts) > 1
    assert all(len(p.text) <= 2000 and p.heading == "長い節" for p in parts)
    assert [p.part for p in parts] == list(range(1, len(parts) + 1))
    assert "".join(p.text.replace("\n\n", "") for p in parts) == "".join(paragraphs)


def test_one_huge_paragraph_is_cut_at_sentences_then_hard() -> None:
    text = "文。" * 1500 + "x" * 4500
    chunks = split_passages(text)
    assert all(len(c) <= 2000 for c in chunks)
    assert "".join(chunks) == text


def test_article_keeps_every_sentence_of_the_seed() -> None:
    if not SEED.exists():
        pytest.skip("shared/seed/article-ja.txt is not beside the repository")
    article = (REPO / "corpus/summit-2025/ja.md").read_text(encoding="utf-8")
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    reference = lines.index("Reference(s):")
    assert f"title: {lines[0]}" in article
    for line in lines[1:reference]:
        assert line in article.splitlines() or f"## {line}" in article.splitlines(), line
    assert f"source_title: {lines[reference + 1]}" in article
    assert f"source: {lines[reference + 2]}" in article


def test_article_and_companion_name_each_other() -> None:
    files, skipped = discover(REPO / "corpus")
    docs = {f.doc_id: read_document(f, f.path.read_bytes()) for f in files}
    ja, en = docs["summit-2025/ja"], docs["summit-2025/en"]
    assert (ja.lang, en.lang) == ("ja", "en") and not skipped
    assert ja.translations == ("summit-2025/en",) and en.translations == ("summit-2025/ja",)
    assert len(ja.sections) == len(en.sections) == 8
    assert ja.sections[4].heading == "エネルギー・インフラで結びつく6カ国"
    assert ja.date is None and "our own english rendering" in en.meta["note"].lower()
