"""Character-level normalization used by the analyzer; pure functions, no MeCab.

    normalize          NFKC per character cluster + kanji variants, with an offset map
    fold_term          the form a token is indexed under: iteration marks expanded
                       (人々 -> 人人), katakana long-vowel stemmed (サーバー -> サーバ)
    numeral_value      四千三百 / 350万 / 三百五十万 / 3.5万 -> 4300 / 3500000 / 3500000 / 35000
    to_katakana        hiragana -> katakana (readings are compared in katakana)
    romaji_to_katakana tetsudou -> テツドウ (Hepburn and Kunrei spellings)
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from dataclasses import dataclass
from typing import Iterator

# Kanji spelled differently in names and older text; each maps one character to one.
KANJI_VARIANTS = str.maketrans({
    "髙": "高", "﨑": "崎", "德": "徳", "邊": "辺", "邉": "辺", "濵": "浜", "濱": "浜",
    "齋": "斎", "齊": "斉", "嶋": "島", "槇": "槙", "櫻": "桜", "澤": "沢", "廣": "広",
    "瀨": "瀬", "眞": "真", "國": "国", "實": "実", "髮": "髪", "蘆": "芦",
})
_CONTINUATION = frozenset("\uff9e\uff9f\u3099\u309a")
_SEPARATOR_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class Normalized:
    """Normalized text plus, per normalized character, the original span it came from."""

    text: str
    starts: tuple[int, ...] | None  # None: same length and offsets as the original
    ends: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of the normalized span [start, end)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    """NFKC and kanji variants with an offset map; control characters become spaces.

    >>> n = normalize("天然ｶﾞｽ")
    >>> n.text, n.span(2, 3)
    ('天然ガス', (2, 4))
    """
    if _is_plain(text):
        return Normalized(text.translate(KANJI_VARIANTS), None, None)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for begin, end in _clusters(text):
        piece = _normalize_cluster(text[begin:end])
        pieces.append(piece)
        starts += [begin] * len(piece)
        ends += [end] * len(piece)
    return Normalized("".join(pieces), tuple(starts), tuple(ends))


def _is_plain(text: str) -> bool:
    """Already NFKC with no control characters: only 1:1 replacements are needed."""
    return unicodedata.is_normalized("NFKC", text) and not any(
        unicodedata.category(c) in _SEPARATOR_CATEGORIES and c != "\n" for c in text
    )


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Spans of a base character plus the marks that compose with it."""
    begin = 0
    for i in range(1, len(text) + 1):
        if i < len(text) and (unicodedata.combining(text[i]) or text[i] in _CONTINUATION):
            continue
        yield begin, i
        begin = i


def _normalize_cluster(cluster: str) -> str:
    if cluster == "\n":
        return cluster
    if unicodedata.category(cluster[0]) in _SEPARATOR_CATEGORIES:
        return " " * len(cluster)
    return unicodedata.normalize("NFKC", cluster).translate(KANJI_VARIANTS)


def is_katakana(text: str) -> bool:
    return bool(text) and all("\u30a1" <= c <= "\u30fa" or c in "ーヽヾ・" for c in text)


def is_kana(text: str) -> bool:
    return bool(text) and all("\u3041" <= c <= "\u309f" or "\u30a1" <= c <= "\u30fa" or c == "ー" for c in text)


def to_katakana(text: str) -> str:
    """Hiragana -> katakana; everything else unchanged.

    >>> to_katakana("てつどう")
    'テツドウ'
    """
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def reading_key(katakana: str, before: str = "") -> str:
    """A reading as it is compared: small kana written large, and the long-vowel mark
    written as the vowel it lengthens, so that a loanword typed with its vowel spelled
    out (ぐろおばる) reads as written with ー (グローバル). Voicing is kept (ガス is not
    カス; ``rendaku_readings`` has the exception). ``before``: the key of the reading
    just before, when this one continues it. One character per character of the reading.

    >>> reading_key("セイユジョ"), reading_key("パイプ"), reading_key("グローバル"), reading_key("グロオバル")
    ('セイユジヨ', 'パイプ', 'グロオバル', 'グロオバル')
    """
    folded = katakana.translate(_SMALL_KANA)
    if "ー" not in folded:
        return folded
    out: list[str] = []
    previous = before[-1:] if before else ""
    for c in folded:
        if c == "ー":
            c = _VOWEL.get(devoiced(previous), c)
        out.append(c)
        previous = c
    return "".join(out)


def devoiced(kana: str) -> str:
    """A kana without its voicing mark.

    >>> devoiced("ガ"), devoiced("パ"), devoiced("カ")
    ('カ', 'ハ', 'カ')
    """
    stripped = unicodedata.normalize("NFD", kana).replace("\u3099", "").replace("\u309a", "")
    return unicodedata.normalize("NFC", stripped)


RENDAKU_MIN = 4  # reading characters a query needs before voicing may be read as rendaku


def rendaku_readings(key: str) -> list[str]:
    """A query's reading key, and for a long one (RENDAKU_MIN) each form with one voiced
    mora after the first read unvoiced: rendaku voices the first mora of a compound's
    later member (製油所 is said セイユジョ), while the dictionary reads each member on
    its own (所: ショ). A short query keeps its voicing (ジェン is not 支援, シエン).

    >>> rendaku_readings("セイユジヨ"), rendaku_readings("ジエン"), rendaku_readings("パイプ")
    (['セイユジヨ', 'セイユシヨ'], ['ジエン'], ['パイプ'])
    """
    forms = [key]
    if len(key) < RENDAKU_MIN:
        return forms
    for at in range(1, len(key)):
        plain = devoiced(key[at])
        if plain != key[at] and "\u3099" in unicodedata.normalize("NFD", key[at]) and key[at] != "ヴ":
            forms.append(key[:at] + plain + key[at + 1 :])
    return forms


def long_vowels_marked(katakana: str) -> str:
    """A vowel written out after a kana of that vowel, written ー instead, as loanwords
    are spelled (the reverse of what ``reading_key`` does with ー).

    >>> long_vowels_marked("ツウル"), long_vowels_marked("ショオケエス"), long_vowels_marked("カイ")
    ('ツール', 'ショーケース', 'カイ')
    """
    out: list[str] = []
    for c in katakana:
        if out and c in "アイウエオ" and _VOWEL.get(devoiced(reading_key(out[-1]))) == c:
            c = "ー"
        out.append(c)
    return "".join(out)


_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
# The vowel of each (voiceless, large) katakana, which a following ー lengthens.
_VOWEL = {c: vowel for vowel, row in (
    ("ア", "アカサタナハマヤラワ"), ("イ", "イキシチニヒミリヰ"), ("ウ", "ウクスツヌフムユル"),
    ("エ", "エケセテネヘメレヱ"), ("オ", "オコソトノホモヨロヲ"),
) for c in row}


def fold_term(term: str) -> str:
    """Iteration marks expanded, katakana long vowel stemmed (4+ characters, like kuromoji).

    >>> fold_term("人々"), fold_term("サーバー"), fold_term("コピー"), fold_term("エネルギー")
    ('人人', 'サーバ', 'コピー', 'エネルギ')
    """
    if "々" in term:
        term = re.sub(r"(.)々", r"\1\1", term)
    if len(term) >= 4 and term.endswith("ー") and is_katakana(term):
        term = term.rstrip("ー") or term
    return term


_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
NUMERAL_UNITS = "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)
NUMERAL_CHARS = frozenset(_KANJI_DIGITS) | frozenset(NUMERAL_UNITS)
# A number's parts: Arabic digits (1,500 or 3.5), a run of kanji digits (二〇二五), a unit.
_NUMERAL_PART = re.compile(rf"[0-9][0-9,]*(?:\.[0-9]+)?|[{''.join(_KANJI_DIGITS)}]+|[{NUMERAL_UNITS}]")


def numeral_value(text: str) -> str | None:
    """The value of a number written in Arabic digits, kanji numerals or both, with the
    units 十 百 千 万 億 兆, as plain decimal digits (what the index stores for any of its
    spellings); None when the text is not such a number. A unit of 万 and above needs a
    number before it (数万 and 億万 are words), and units must descend.

    >>> numeral_value("350万"), numeral_value("三百五十万"), numeral_value("3.5万"), numeral_value("1億2千万")
    ('3500000', '3500000', '35000', '120000000')
    >>> numeral_value("四千三百"), numeral_value("二〇二五"), numeral_value("1,500"), numeral_value("億万")
    ('4300', '2025', '1500', None)
    """
    parts = _NUMERAL_PART.findall(text)
    if not parts or "".join(parts) != text:
        return None
    total, section = Decimal(0), Decimal(0)
    current: Decimal | None = None
    big_limit, small_limit = 10**13, 10**4  # the next unit must be below these
    for part in parts:
        if part in _BIG_UNITS:
            unit = _BIG_UNITS[part]
            if unit >= big_limit or (current is None and not section):
                return None
            total += (section + (current or 0)) * unit
            section, current, big_limit, small_limit = Decimal(0), None, unit, 10**4
        elif part in _SMALL_UNITS:
            unit = _SMALL_UNITS[part]
            if unit >= small_limit:
                return None
            section += (1 if current is None else current) * unit
            current, small_limit = None, unit
        elif current is not None:
            return None  # two numbers in a row
        else:
            current = _part_value(part)
    return _plain(total + section + (current or 0))


def _part_value(part: str) -> Decimal:
    if part[0].isdigit():
        return Decimal(part.replace(",", ""))
    return Decimal("".join(str(_KANJI_DIGITS[c]) for c in part))


def _plain(value: Decimal) -> str:
    """3500000, 12345.6: no exponent, no trailing zeros after the point."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


_ROMAJI = {
    **dict(zip("a i u e o".split(), "アイウエオ")),
    **{k + v: kana for k, row in {
        "k": "カキクケコ", "g": "ガギグゲゴ", "s": "サシスセソ", "z": "ザジズゼゾ", "t": "タチツテト",
        "d": "ダヂヅデド", "n": "ナニヌネノ", "h": "ハヒフヘホ", "b": "バビブベボ", "p": "パピプペポ",
        "m": "マミムメモ", "r": "ラリルレロ",
    }.items() for v, kana in zip("aiueo", row)},
    "ya": "ヤ", "yu": "ユ", "yo": "ヨ", "wa": "ワ", "wo": "ヲ", "shi": "シ", "chi": "チ", "tsu": "ツ",
    "fu": "フ", "ji": "ジ", "si": "シ", "ti": "チ", "tu": "ツ", "hu": "フ", "zi": "ジ", "di": "ヂ", "du": "ヅ",
    "sha": "シャ", "shu": "シュ", "sho": "ショ", "cha": "チャ", "chu": "チュ", "cho": "チョ",
    "ja": "ジャ", "ju": "ジュ", "jo": "ジョ", "je": "ジェ", "she": "シェ", "che": "チェ",
    "fa": "ファ", "fi": "フィ", "fe": "フェ", "fo": "フォ", "ti-": "ティ", "di-": "ディ", "va": "ヴァ",
    "vi": "ヴィ", "vu": "ヴ", "ve": "ヴェ", "vo": "ヴォ",
}
for _c, _row in {"k": "キ", "g": "ギ", "s": "シ", "z": "ジ", "t": "チ", "n": "ニ", "h": "ヒ", "b": "ビ",
                 "p": "ピ", "m": "ミ", "r": "リ"}.items():
    _ROMAJI.update({_c + "ya": _row + "ャ", _c + "yu": _row + "ュ", _c + "yo": _row + "ョ"})
_ROMAJI_KEYS = sorted(_ROMAJI, key=len, reverse=True)


def romaji_to_katakana(text: str) -> str | None:
    """Katakana for a romaji word, or None when it is not romaji.

    >>> romaji_to_katakana("tetsudou"), romaji_to_katakana("chuuou"), romaji_to_katakana("pipeline")
    ('テツドウ', 'チュウオウ', None)
    """
    word = text.lower()
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] == "n" and (i + 1 == len(word) or word[i + 1] not in "aiueoy"):
            out.append("ン")
            i += 1
            continue
        if i + 1 < len(word) and word[i] == word[i + 1] and word[i] in "kgsztdhbpmrcjf":
            out.append("ッ")
            i += 1
            continue
        key = next((k for k in _ROMAJI_KEYS if word.startswith(k, i) and not k.endswith("-")), None)
        if key is None:
            return None
        out.append(_ROMAJI[key])
        i += len(key)
    return "".join(out) or None
