"""The analysis pipeline: golden tokens, offsets into the original text, Whoosh protocol."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casearch.analysis import CasearchTokenizer, analyze, normalize, split_lemma

GOLDEN = [
    # input, [(surface, term), ...] of the indexed tokens
    ("天然ガスパイプライン", [("天然", "天然"), ("ガス", "ガス"), ("パイプライン", "パイプライン")]),
    ("天然ｶﾞｽﾊﾟｲﾌﾟﾗｲﾝ", [("天然", "天然"), ("ｶﾞｽ", "ガス"), ("ﾊﾟｲﾌﾟﾗｲﾝ", "パイプライン")]),
    ("ＣＮＰＣ", [("ＣＮＰＣ", "cnpc")]),
    ("中国石油天然気集団(CNPC)", [("中国", "中国"), ("石油", "石油"), ("天然", "天然"), ("気", "気"), ("集団", "集団"), ("CNPC", "cnpc")]),
    ("エネルギーとサミット", [("エネルギー", "エネルギー"), ("と", "と"), ("サミット", "サミット")]),
    ("深めようとしています", [("深めよう", "深める"), ("と", "と"), ("し", "為る"), ("て", "て"), ("い", "居る"), ("ます", "ます")]),
    ("稼働する", [("稼働", "稼働"), ("する", "為る")]),
    ("Kazakhstan's pipelines", [("Kazakhstan", "kazakhstan"), ("pipelines", "pipelin")]),
    ("Kassym-Jomart Tokayev", [("Kassym", "kassym"), ("Jomart", "jomart"), ("Tokayev", "tokayev")]),
    ("相互支援(mutual assistance)", [("相互", "相互"), ("支援", "支援"), ("mutual", "mutual"), ("assistance", "assist")]),
    ("4300億立方メートル", [("4300", "4300"), ("億", "億"), ("立方", "立方"), ("メートル", "メートル")]),
    ("㍻", [("㍻", "平成")]),
    ("鉄道　と　道路", [("鉄道", "鉄道"), ("と", "と"), ("道路", "道路")]),
    ("「一帯一路」。", [("一帯", "一帯"), ("一路", "一路")]),
    ("RAILWAYS", [("RAILWAYS", "railwai")]),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_tokens(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(t.surface, t.term) for t in analyze(text) if t.indexed] == expected


def test_symbols_are_dropped_and_particles_are_stop_tokens() -> None:
    tokens = {t.surface: t for t in analyze("中国の鉄道、です。")}
    assert tokens["、"].indexed is False and tokens["。"].indexed is False
    assert tokens["の"].stop and tokens["の"].indexed
    assert tokens["です"].stop
    assert not tokens["中国"].stop and not tokens["鉄道"].stop


def test_full_width_space_is_not_a_token() -> None:
    assert [t.surface for t in analyze("天然\u3000ガス")] == ["天然", "ガス"]


def test_unknown_words_fall_back_to_surface() -> None:
    token = next(t for t in analyze("トカエフ大統領") if t.surface.startswith("トカエフ"))
    assert token.base == token.norm and token.term == "トカエフ".lower()


def test_gloss_is_stripped_from_base_and_kept_separately() -> None:
    token = analyze("エネルギー")[0]
    assert (token.base, token.gloss, token.reading) == ("エネルギー", "energy", "エネルギー")


@pytest.mark.parametrize(
    ("lemma", "expected"),
    [("サミット-summit", ("サミット", "summit")), ("タイヘイ-外国", ("タイヘイ", None)),
     ("鉄道", ("鉄道", None)), (None, (None, None)), ("*", (None, None))],
)
def test_split_lemma(lemma, expected) -> None:
    assert split_lemma(lemma) == expected


def test_positions_skip_symbols_so_phrases_stay_contiguous() -> None:
    tokens = [t for t in analyze("原油・天然ガス") if t.indexed]
    assert [t.position for t in tokens] == [0, 1, 2]


def test_normalization_map_handles_length_changes() -> None:
    n = normalize("ｶﾞ㍻A")
    assert n.text == "ガ平成A"
    assert [n.span(i, i + 1) for i in range(len(n.text))] == [(0, 2), (2, 3), (2, 3), (3, 4)]


def test_control_characters_do_not_break_tokenizing() -> None:
    text = "鉄道\x00路線\u200bです\ud800"
    tokens = analyze(text)
    assert [t.surface for t in tokens if t.indexed][:2] == ["鉄道", "路線"]


# Offsets are sacred: for any text, every token's offsets index the original text.
_PIECES = list("天然ガスパイプライン鉄道の中国がです。、！？「」ｶﾞｽﾊﾟｲﾌﾟ㍻㌔ＣＮＰＣａｂ１２ abcXYZ's-.\n\t\u3000") + [
    "\u3099", "\u309a", "\u0301", "\x00", "\u200b", "佐々木", "4300億", "Kazakhstan's", "ﾞﾞ", "\ud800",
]
mixed_text = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(mixed_text)
def test_offsets_index_the_original_text(text: str) -> None:
    previous_start = 0
    for token in analyze(text):
        assert 0 <= token.start < token.end <= len(text)
        assert text[token.start : token.end] == token.surface
        assert token.start >= previous_start
        previous_start = token.start
        assert token.surface.strip()


@settings(max_examples=100, deadline=None)
@given(mixed_text, mixed_text)
def test_repeated_text_gets_shifted_offsets(left: str, right: str) -> None:
    """The same words later in a text map to their own later characters."""
    text = left + "\n" + right + "\n" + right
    tokens = [t for t in analyze(text)]
    for token in tokens:
        assert text[token.start : token.end] == token.surface


def test_whoosh_tokenizer_honours_chars_positions_and_start_offsets() -> None:
    tokenizer = CasearchTokenizer()
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in tokenizer("ｶﾞｽの鉄道", positions=True, chars=True, start_pos=10, start_char=100)]
    assert tokens == [("ガス", 10, 100, 103), ("の", 11, 103, 104), ("鉄道", 12, 104, 106)]
    whole = list(tokenizer("天然ガス", tokenize=False, chars=True, positions=True))
    assert [(t.text, t.startchar, t.endchar) for t in whole] == [("天然ガス", 0, 4)]


def test_tokenizer_pickles_without_a_tagger() -> None:
    tokenizer = CasearchTokenizer()
    list(tokenizer("鉄道"))  # creates this thread's tagger
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone == tokenizer
    assert [t.text for t in clone("鉄道")] == ["鉄道"]
