"""Snippets show the match: sentences cover the whole text, and a snippet around any
match holds that match, marked, whatever the punctuation around it (a full stop inside
a word, as in ``AR.ITC`` or ``2.5``, once left a stretch of text in no sentence, and the
snippet of a match there was the passage's first line, unmarked)."""

from __future__ import annotations

import html
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from casearch.snippets import make_snippet, sentences

PIECES = st.sampled_from([
    "プラットフォーム", "で", "。", "！", "？", ".", ". ", "AR.ITC", "2.5", "(", ")", "」", "\n", "\n\n", " ",
    "Linux", "CPU", "e.g.", "クロック", "多くの", "…", "abc", "?",
])
TEXTS = st.lists(PIECES, min_size=1, max_size=120).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_sentences_cover_the_text_without_gaps(text: str) -> None:
    spans = sentences(text)
    assert spans and spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a < b for a, b in spans)
    assert all(previous[1] == following[0] for previous, following in zip(spans, spans[1:]))


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.data())
def test_a_snippet_holds_its_match_marked(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 30)))
    matched = text[start:end]
    assume(matched.strip() == matched)
    snippet = make_snippet(text, [(start, end)])
    marks = re.findall(r"<mark>(.*?)</mark>", snippet, flags=re.S)
    assert [html.unescape(m) for m in marks] == [re.sub(r"\s*\n\s*", " ", matched)], snippet


def test_match_after_a_dotted_name_in_a_long_sentence() -> None:
    text = ("SMP システムに関する注意\n\nLinux が CLOCK_PROCESS_CPUTIME_ID と CLOCK_THREAD_CPUTIME_ID の"
            "クロックのカーネルによるサポートを追加する前は、"
            "glibc はこれらのクロックを多くのプラットフォームで CPU のタイマー (i386 上の TSC、Itanium 上の AR.ITC、"
            "その他のプロセッサーでは別のレジスター、たとえば AR.ITC に似たもの)"
            " を用いて実現していた。 これらのレジスターは CPU 間で異なる可能性があり、 プロセスが他の CPU に移動させられた場合、"
            " 結果としてこれらのクロックが偽の結果を返すかもしれない。")
    at = text.index("プラットフォーム")
    assert "<mark>プラットフォーム</mark>" in make_snippet(text, [(at, at + len("プラットフォーム"))])
