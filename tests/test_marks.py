"""Honest marks (issue 15 items 2, 3, 7, 13; issue 16 item 9): every hit shows where it
matched, every mark lies on a word that matches, title and heading matches count once,
readings stay inside one word, snippets cut English at word boundaries, and the match
notes name the field and a counterpart's own word. Through the JSON API, both engines."""

from __future__ import annotations

import html
import importlib.util
import random
import re
import unicodedata
from pathlib import Path

import pytest

from casearch import analysis
from casearch.index import reindex
from casearch.search import Engine, validate_request
from casearch.snippets import _at_words
from casearch.textnorm import reading_key, to_katakana
from casearch.web import create_app

from conftest import REPO, write

needs_jmdict = pytest.mark.skipif(
    importlib.util.find_spec("jamdict_data") is None, reason="jamdict-data (the cross-lingual extra) is not installed"
)
JA, EN = "summit-2025/ja", "summit-2025/en"
MARK = re.compile(r"<mark>(.*?)</mark>")
ARTICLE_JA = (REPO / "corpus" / "summit-2025" / "ja.md").read_text(encoding="utf-8")
ARTICLE_EN = (REPO / "corpus" / "summit-2025" / "en.md").read_text(encoding="utf-8")


def api(client, q: str, **params: str) -> dict:
    response = client.get("/api/search", query_string={"q": q, "per_page": "50", **params})
    assert response.status_code == 200, (q, response.get_json())
    return response.get_json()


def marks(hit: dict) -> list[str]:
    html = hit["snippet"] + hit.get("title_html", "") + (hit.get("heading_html") or "")
    return [unicodedata.normalize("NFKC", m) for m in MARK.findall(html)]


def marked_words(html_text: str) -> list[tuple[str, set[str], str]]:
    """Each mark of a snippet (or title, heading) with the terms and the reading of the
    words it covers, analyzed in their sentence (いっ alone would be 行く, not 言う)."""
    plain, spans = "", []
    for piece in re.split(r"(<mark>.*?</mark>)", html_text):
        inner = MARK.fullmatch(piece)
        text = html.unescape(inner.group(1) if inner else piece)
        if inner:
            spans.append((len(plain), len(plain) + len(text)))
        plain += text
    tokens = [t for t in analysis.analyze(plain) if t.indexed]
    found = []
    for a, b in spans:
        inside = [t for t in tokens if t.start < b and t.end > a]
        reading = "".join(reading_key(t.reading or to_katakana(t.surface)) for t in inside)
        found.append((unicodedata.normalize("NFKC", plain[a:b]), {t.term for t in inside}, reading))
    return found


def folded(text: str) -> str:
    return to_katakana(unicodedata.normalize("NFKC", text).lower())


def terms(text: str) -> set[str]:
    return {t.term for t in analysis.analyze(text) if t.indexed}


def _sample(words: set[str], n: int, seed: int) -> list[str]:
    ordered = sorted(words)
    random.Random(seed).shuffle(ordered)
    return ordered[:n]


def article_words() -> list[str]:
    """Content words of both articles, as the reader would type them."""
    ja = {t.surface for t in analysis.analyze(ARTICLE_JA)
          if t.indexed and not t.stop and len(t.surface) >= 2 and t.pos in ("名詞", "動詞", "形状詞")}
    en = {t.surface for t in analysis.analyze(ARTICLE_EN) if t.indexed and not t.stop and t.surface.isalpha() and len(t.surface) > 3}
    return _sample(ja, 40, 1) + _sample(en, 20, 2)


def katakana_fragments() -> list[str]:
    """Three or four characters from inside the article's long katakana words."""
    words = sorted({t.surface for t in analysis.analyze(ARTICLE_JA) if re.fullmatch(r"[ァ-ヺー]{6,}", t.surface)})
    rng = random.Random(3)
    found = set()
    for word in words:
        size = rng.choice((3, 4))
        at = rng.randrange(1, len(word) - size)
        found.add(word[at : at + size])
    return sorted(found)[:15]


def kanji_readings() -> list[tuple[str, str]]:
    """Hiragana readings of the article's kanji nouns (the query, the noun)."""
    nouns = {f"{t.surface}\t{t.reading}" for t in analysis.analyze(ARTICLE_JA)
             if t.pos == "名詞" and t.reading and re.fullmatch(r"[一-龥]{2,}", t.surface) and len(t.reading) >= 3}
    pairs = [tuple(found.split("\t")) for found in _sample(nouns, 16, 4)]
    spoken = [("".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in reading), surface) for surface, reading in pairs]
    # Kana that MeCab takes for function words only (しょうむ: しょう + む) is another issue's.
    return [(q, noun) for q, noun in spoken if any(not t.stop for t in analysis.analyze(q))][:12]


# --- every hit marked, every mark on a matching word ----------------------------------


def test_every_hit_of_the_articles_words_has_a_mark_on_a_matching_word(client) -> None:
    """Words as typed (cross=0): each hit shows a mark, in its snippet, title or heading,
    and each mark is the query's characters or a word with the query's terms."""
    for q in article_words():
        wanted = terms(q)
        for hit in api(client, q, cross="0")["hits"]:
            found = marks(hit)
            assert found, (q, hit["url"], hit["matched"])
            for field in (hit["snippet"], hit["title_html"], hit["heading_html"] or ""):
                for mark, covered, _ in marked_words(field):
                    assert folded(mark) == folded(q) or covered <= wanted, (q, mark, hit["url"])


def test_a_substring_marks_exactly_the_characters_it_matched(client) -> None:
    fragments = katakana_fragments()
    assert len(fragments) >= 8
    for q in fragments:
        hits = api(client, q, cross="0", lang="ja")["hits"]
        assert hits, q
        for hit in hits:
            assert marks(hit) and set(marks(hit)) == {q}, (q, marks(hit), hit["url"])


def test_a_reading_marks_whole_words_read_that_way(client) -> None:
    for q, noun in kanji_readings():
        hits = api(client, q, cross="0", lang="ja")["hits"]
        assert hits, (q, noun)
        key = reading_key(to_katakana(q))
        for hit in hits:
            found = marks(hit)
            assert found, (q, hit["url"])
            for mark, _, read in marked_words(hit["snippet"]):
                assert key in read or folded(mark) == folded(q), (q, mark, read)


def test_every_hit_is_marked_with_expansion_too(client) -> None:
    """With cross-lingual expansion, every hit is marked: where it matches a query word
    or one of its counterparts, or, for a passage that joined only as the translation of
    a matching passage, in that passage's snippet (``translation_snippet``)."""
    translated = 0
    for q in article_words()[::3]:
        for hit in api(client, q)["hits"]:
            notes = hit["matched"]
            if notes and notes[0]["via"] == "translation" and not marks(hit):
                translated += 1
                assert hit["counterpart"] is not None, (q, hit["url"])
                assert MARK.search(hit["translation_snippet"] or ""), (q, hit["url"])
                continue
            assert marks(hit), (q, hit["url"], notes)
            assert hit["translation_snippet"] is None  # only where the passage has no mark of its own
    assert translated > 0  # the case is real: translations join unmarked


def test_a_translation_shows_the_marked_passage_it_translates(tmp_path: Path) -> None:
    """zorblat has no counterpart: its Japanese translations join through the aligned
    English passage, whose sentence is shown marked on the page, in JSON and in the CLI."""
    corpus = tmp_path / "c"
    write(corpus / "en.md", "---\ntranslation_of: ja\n---\n# Note\n\nA zorblat crossed the bridge.\n")
    write(corpus / "ja.md", "# 記録\n\n謎の生き物が橋を渡った。\n")
    reindex(corpus, tmp_path / "i")
    client = create_app({"INDEX_DIR": str(tmp_path / "i"), "CORPUS_DIR": str(corpus), "TESTING": True}).test_client()
    [hit] = api(client, "zorblat", lang="ja")["hits"]
    assert hit["doc_id"] == "ja" and "<mark>" not in hit["snippet"]
    assert hit["translation_snippet"] == "A <mark>zorblat</mark> crossed the bridge."
    page = client.get("/search", query_string={"q": "zorblat", "lang": "ja", "ui": "en"}).get_data(as_text=True)
    assert 'class="snippet translated-from"' in page and "Translation of:" in page and "<mark>zorblat</mark>" in page
    assert api(client, "zorblat", lang="en")["hits"][0]["translation_snippet"] is None


# --- the cases a reader hit -------------------------------------------------------------


@pytest.mark.parametrize(("q", "marked"), [("ガス", {"ガス"}), ("ガスパイ", {"ガスパイ"})])
def test_a_katakana_word_marks_only_itself(client, q: str, marked: set[str]) -> None:
    """ガス marked 「化する」 and 「が進ん」 (a reading across words, voicing ignored);
    ガスパイ marked the whole ガスパイプライン."""
    hits = api(client, q, lang="ja")["hits"]
    assert hits
    assert {m for hit in hits for m in MARK.findall(hit["snippet"])} == marked


def test_a_short_reading_keeps_its_voicing(client) -> None:
    """ジェン marked 支援 (シエン) when readings ignored voicing."""
    hits = api(client, "ジェン", lang="ja")["hits"]
    assert [MARK.findall(h["snippet"]) for h in hits] == [["ジェン"]]


def test_a_long_reading_still_reads_rendaku(client) -> None:
    hit = api(client, "せいゆじょ", lang="ja")["hits"][0]
    assert "<mark>製油所</mark>" in hit["snippet"]


@needs_jmdict
def test_an_english_word_is_not_read_as_romaji(client) -> None:
    """kite marked 地域で and 招きで (キテ across a word and its particle)."""
    assert api(client, "kite", lang="ja")["total"] == 0
    assert any("<mark>鉄道</mark>" in h["snippet"] for h in api(client, "tetsudou", lang="ja")["hits"])


@needs_jmdict
def test_a_translation_marks_the_dictionary_counterpart_it_writes(client) -> None:
    """refinery with lang=ja gave the translation of the English passage, unmarked: the
    dictionary's refinery is 精製所, the article writes 製油所 (oil refinery)."""
    hit = api(client, "refinery", lang="ja")["hits"][0]
    assert hit["url"] == f"/doc/{JA}#s5" and "<mark>製油所</mark>" in hit["snippet"]
    assert hit["matched"] == [{"term": "refinery", "via": "translation", "field": "body", "word": "製油所"}]


@pytest.mark.parametrize("q", ["鉄道", "深まる"])
def test_a_title_word_does_not_list_every_passage(client, q: str) -> None:
    """Both are in the Japanese title: all 8 passages came back, 7 without a mark."""
    result = api(client, q, lang="ja", cross="0")
    assert 1 <= result["total"] <= 4 and result["total"] == len(result["hits"]) == result["facets"]["ja"]
    for hit in result["hits"]:
        assert f"<mark>{q[:2]}" in hit["title_html"]
    # The lead is listed for the title when its text does not hold the word, last.
    unmarked = [h["url"] for h in result["hits"] if not MARK.search(h["snippet"])]
    assert unmarked in ([], [f"/doc/{JA}#s1"]) and result["hits"][0]["url"] not in unmarked


def test_a_title_match_names_its_field(client) -> None:
    result = api(client, "title:鉄道", lang="ja")
    assert result["total"] == 1
    hit = result["hits"][0]
    assert hit["url"] == f"/doc/{JA}#s1" and "<mark>鉄道</mark>" in hit["title_html"]
    assert hit["matched"] == [{"term": "鉄道", "via": "surface", "field": "title"}]


def test_a_heading_match_marks_the_heading(client) -> None:
    hit = api(client, "section:貿易", lang="ja")["hits"][0]
    assert hit["heading_html"] == "数字で見る<mark>貿易</mark>と投資"
    assert hit["matched"][0]["field"] == "heading"


@needs_jmdict
def test_a_counterpart_note_names_the_passage_word_and_its_source(client) -> None:
    hit = api(client, "pipeline", lang="ja")["hits"][0]
    assert hit["matched"] == [{"term": "pipeline", "via": "dictionary", "field": "body", "word": "パイプライン"}]
    page = client.get("/search", query_string={"q": "pipeline", "lang": "ja", "ui": "en"}).get_data(as_text=True)
    assert "パイプライン</span> ← <span lang=\"en\">pipeline</span> (dictionary, in the text)" in page


def test_the_page_marks_titles_and_headings(client) -> None:
    page = client.get("/search", query_string={"q": "貿易", "lang": "ja", "ui": "en"}).get_data(as_text=True)
    assert "数字で見る<mark>貿易</mark>と投資" in page


# --- title and heading matches counted once (a corpus made for it) -------------------


@pytest.fixture(scope="module", params=["whoosh", "tantivy"])
def framed(request, tmp_path_factory: pytest.TempPathFactory):
    """A document whose title word appears nowhere else, with a heading word that only
    the heading holds, over a section long enough for two passages."""
    root = tmp_path_factory.mktemp(f"framed-{request.param}")
    long = "\n\n".join(f"段落{i}では倉庫の在庫を数える。" + "記録を続ける。" * 60 for i in range(6))
    write(root / "c" / "doc.md", f"---\ntitle: 灯台の記録\n---\n前書きの文。\n\n## 潮位の表\n\n{long}\n\n## 港の話\n\n船が港に入る。\n")
    reindex(root / "c", root / "ix", engine=request.param)
    app = create_app({"INDEX_DIR": str(root / "ix"), "CORPUS_DIR": str(root / "c"), "ENGINE": request.param, "TESTING": True})
    return app.test_client()


def test_a_title_only_word_lists_the_first_passage_once(framed) -> None:
    result = api(framed, "灯台")
    assert result["total"] == 1 and result["facets"]["all"] == 1
    hit = result["hits"][0]
    assert hit["url"] == "/doc/doc#s1" and "<mark>灯台</mark>" in hit["title_html"]
    assert hit["matched"][0]["field"] == "title"


def test_a_heading_only_word_lists_the_sections_first_passage_once(framed) -> None:
    result = api(framed, "潮位")
    assert result["total"] == 1
    assert result["hits"][0]["heading_html"] == "<mark>潮位</mark>の表"


def test_a_title_word_still_narrows_a_body_match(framed) -> None:
    """The title says what every passage is about: 灯台 船 finds the passage on ships."""
    result = api(framed, "灯台 船")
    assert [h["url"] for h in result["hits"]] == ["/doc/doc#s3"]
    assert "<mark>船</mark>" in result["hits"][0]["snippet"]


def test_body_matches_rank_before_a_title_only_first_passage(framed) -> None:
    result = api(framed, "灯台 OR 在庫")
    urls = [h["url"] for h in result["hits"]]
    assert urls[-1] == "/doc/doc#s1" and len(urls) == result["total"] >= 3
    assert all("<mark>在庫</mark>" in h["snippet"] for h in result["hits"][:-1])


# --- English snippets at word boundaries -----------------------------------------------


def test_english_snippets_start_and_end_on_whole_words(engine: Engine) -> None:
    """"…rs announced", "mutu…": a long sentence is cut between words."""
    checked = 0
    with engine.reader() as reader:
        for q in ["announced", "mutual", "Kazakhstan", "cooperation", "Xi", "infrastructure", "pipelines", "summit"]:
            for hit in engine.search(validate_request({"q": q, "lang": "en", "per_page": "50"})).hits:
                body = re.sub(r"\s+", " ", reader.find_pid(f"{hit.doc_id}#s{hit.section_no}p1")["body"])
                shown = MARK.sub(r"\1", hit.snippet)
                words = re.findall(r"[A-Za-z0-9'-]+", shown)
                if shown.startswith("…"):  # the first word shown starts a word of the text
                    assert re.search(rf"(?<![A-Za-z0-9]){re.escape(words[0])}", body), (q, shown)
                    checked += 1
                if shown.endswith("…"):  # the last word shown ends a word of the text
                    assert re.search(rf"{re.escape(words[-1])}(?![A-Za-z0-9])", body), (q, shown)
                    checked += 1
    assert checked >= 3  # the case is real: some snippets were cut


def test_a_cut_moves_to_the_nearest_word_boundary() -> None:
    text = "China's Ministry of Foreign Affairs announced that"
    start, end = _at_words(text, (10, 40))
    assert text[start:end] == "of Foreign Affairs"
    assert _at_words("中国外交部は発表した", (2, 6)) == (2, 6)  # no spaces in Japanese: any cut will do
