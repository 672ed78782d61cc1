"""Loanwords typed in hiragana: every katakana word or compound of a text, typed in
hiragana (with ー, or with the lengthened vowel written out, with or without a
compound's middle dot), finds a passage holding it and marks it there.

The katakana terms are taken from the text itself: the article, and a sample of the
man pages (``bench/make_corpus.py``, skipped with the reason where it cannot be had).
"""

from __future__ import annotations

import html
import random
import re
import unicodedata
from pathlib import Path

import pytest

from casearch.index import reindex
from casearch.search import Engine, validate_request
from test_engine_parity import build_sample

KATAKANA_RUN = re.compile(r"[ァ-ヶー・]+")
MARK = re.compile(r"<mark>(.*?)</mark>")
MAN_PAGE_TERMS = 80  # katakana terms drawn from the sample, each typed two to four ways


def katakana_terms(text: str) -> list[str]:
    """Each distinct maximal run of katakana (ー and ・ inside) of two kana or more."""
    terms = (run.strip("・ー") for run in KATAKANA_RUN.findall(unicodedata.normalize("NFKC", text)))
    return sorted({t for t in terms if len(t.replace("・", "")) >= 2 and not t.startswith("ー")})


def hiragana(katakana: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in katakana)


def vowel_spelled(kana: str) -> str:
    """ー written as the vowel it lengthens, told by the kana's Unicode name (ろ is
    HIRAGANA LETTER RO: お)."""
    vowels = {"A": "あ", "I": "い", "U": "う", "E": "え", "O": "お"}
    out: list[str] = []
    for c in kana:
        if c == "ー" and out:
            c = vowels.get(unicodedata.name(out[-1], " ")[-1], c)
        out.append(c)
    return "".join(out)


def typings(term: str) -> list[str]:
    typed = hiragana(term)
    forms = [typed, vowel_spelled(typed)]
    if "・" in typed:
        forms += [f.replace("・", "") for f in forms]
    return list(dict.fromkeys(forms))


def marks_hold(html_text: str | None, wanted: str) -> bool:
    marks = MARK.findall(html_text or "")
    return any(wanted in unicodedata.normalize("NFKC", html.unescape(m)).replace("・", "") for m in marks)


def marked(engine: Engine, query: str, term: str) -> bool:
    """Whether a hit marks the term: in its snippet, or, for a term of a heading or
    title (which the snippet does not show), in the document view's heading or title.
    A mark may be wider than the term: a whole token."""
    wanted = term.replace("・", "")
    result = engine.search(validate_request({"q": query, "lang": "ja", "per_page": "50"}))
    for hit in result.hits:
        if marks_hold(hit.snippet, wanted):
            return True
        if wanted in (hit.section or "").replace("・", "") or wanted in hit.title.replace("・", ""):
            view = engine.document(hit.doc_id, query)
            headings = [view.title_html] + [s.heading_html for s in view.sections if s.number == hit.section_no]
            if any(marks_hold(h, wanted) for h in headings):
                return True
    return False


def misses(engine: Engine, terms: list[str]) -> list[tuple[str, str]]:
    return [(term, typed) for term in terms for typed in typings(term) if not marked(engine, typed, term)]


def test_typings_cover_the_forms_users_type() -> None:
    assert typings("グローバル・サウス") == ["ぐろーばる・さうす", "ぐろおばる・さうす", "ぐろーばるさうす", "ぐろおばるさうす"]
    assert typings("ショーケース") == ["しょーけーす", "しょおけえす"]


@pytest.mark.slow
def test_every_katakana_term_of_the_article_typed_in_hiragana(engine: Engine, corpus_dir: Path) -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(corpus_dir.rglob("*.md")))
    terms = katakana_terms(text)
    assert "グローバル・サウス" in terms and len(terms) >= 30
    missed = misses(engine, terms)
    assert missed == [], missed


@pytest.fixture(scope="module")
def man_pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[str]]:
    folder = tmp_path_factory.mktemp("kana")
    corpus = build_sample(folder)
    for page in corpus.rglob("*.md"):  # the Japanese pages are the ones typed at
        if "lang: ja" not in page.read_text(encoding="utf-8")[:200]:
            page.unlink()
    terms = katakana_terms("\n".join(p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*.md"))))
    sample = sorted(random.Random(13).sample(terms, min(MAN_PAGE_TERMS, len(terms))))
    reindex(corpus, folder / "index", engine="whoosh")
    return Engine(folder / "index", "whoosh"), sample


@pytest.mark.slow
def test_katakana_terms_of_the_man_pages_typed_in_hiragana(man_pages: tuple[Engine, list[str]]) -> None:
    engine, terms = man_pages
    assert len(terms) == MAN_PAGE_TERMS
    missed = misses(engine, terms)
    assert missed == [], missed
