"""Transliteration: katakana loanwords matched to English words by how they sound.

    romaji         katakana -> Hepburn-like romaji (long vowels and ッ dropped)
    frames         romaji and English words -> consonant frames, folded so that a word
                   and its borrowing agree (ディレクトリ direkutori -> drktr <- directory;
                   c/k, l/r, v/b, th/s; an r after a vowel may be silent: server サーバー)
    similarity     spelling similarity of the folded forms (difflib ratio), the check
                   that two words sharing a frame really are the same word
    candidates     for each katakana word, the English words of the same frame whose
                   spelling is near enough, scored

No I/O and no corpus knowledge: ``mining`` adds the aligned documents' evidence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from difflib import SequenceMatcher
from typing import Iterable

MIN_FRAME = 2  # consonants a transliteration's frame needs to be trusted
MIN_SPELLING = 0.75  # romaji vs English spelling similarity (difflib ratio)
MIN_SPELLING_SHORT = 0.8  # the same for a frame of only MIN_FRAME consonants (more words share it)

_DIGRAPHS = {
    "キャ": "kya", "キュ": "kyu", "キョ": "kyo", "シャ": "sha", "シュ": "shu", "ショ": "sho", "シェ": "she",
    "チャ": "cha", "チュ": "chu", "チョ": "cho", "チェ": "che", "ニャ": "nya", "ニュ": "nyu", "ニョ": "nyo",
    "ヒャ": "hya", "ヒュ": "hyu", "ヒョ": "hyo", "ミャ": "mya", "ミュ": "myu", "ミョ": "myo",
    "リャ": "rya", "リュ": "ryu", "リョ": "ryo", "ギャ": "gya", "ギュ": "gyu", "ギョ": "gyo",
    "ジャ": "ja", "ジュ": "ju", "ジョ": "jo", "ジェ": "je", "ビャ": "bya", "ビュ": "byu", "ビョ": "byo",
    "ピャ": "pya", "ピュ": "pyu", "ピョ": "pyo", "ティ": "ti", "ディ": "di", "トゥ": "tu", "ドゥ": "du",
    "ファ": "fa", "フィ": "fi", "フェ": "fe", "フォ": "fo", "フュ": "fyu", "ウィ": "wi", "ウェ": "we",
    "ウォ": "wo", "ヴァ": "va", "ヴィ": "vi", "ヴェ": "ve", "ヴォ": "vo", "ツァ": "tsa", "テュ": "tyu",
    "デュ": "dyu", "イェ": "ye", "クァ": "kwa", "クォ": "kwo", "グァ": "gwa",
}
_ROWS = {
    "": "アイウエオ", "k": "カキクケコ", "g": "ガギグゲゴ", "s": "サシスセソ", "z": "ザジズゼゾ",
    "t": "タチツテト", "d": "ダヂヅデド", "n": "ナニヌネノ", "h": "ハヒフヘホ", "b": "バビブベボ",
    "p": "パピプペポ", "m": "マミムメモ", "r": "ラリルレロ",
}
_IRREGULAR = {"シ": "shi", "チ": "chi", "ツ": "tsu", "フ": "fu", "ジ": "ji", "ヂ": "ji", "ヅ": "zu",
              "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "ワ": "wa", "ヲ": "o", "ン": "n", "ヴ": "vu",
              "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o", "ャ": "ya", "ュ": "yu", "ョ": "yo"}
_SYLLABLES = {kana: consonant + vowel for consonant, row in _ROWS.items() for kana, vowel in zip(row, "aiueo")}
_SYLLABLES.update(_IRREGULAR)


def romaji(katakana: str) -> str:
    """Hepburn-like romaji of a katakana word; long vowels and ッ are dropped.

    >>> romaji("ディレクトリ"), romaji("ファイル"), romaji("コマンド")
    ('direkutori', 'fairu', 'komando')
    """
    out: list[str] = []
    i = 0
    while i < len(katakana):
        pair = katakana[i : i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_SYLLABLES.get(katakana[i], ""))
        i += 1
    return "".join(out)


_ROMAJI_FOLDS = (("tsu", "t"), ("shi", "s"), ("chi", "t"), ("sh", "s"), ("ch", "t"), ("ts", "t"), ("j", "s"),
                 ("z", "s"), ("v", "b"))
_ENGLISH_FOLDS = (("tion", "sion"), ("ph", "f"), ("th", "s"), ("sh", "s"), ("ch", "t"), ("ck", "k"), ("qu", "k"),
                  ("x", "ks"), ("gh", ""), ("wh", "w"), ("j", "s"), ("z", "s"), ("v", "b"), ("l", "r"), ("q", "k"),
                  ("c", "k"))
_SOFT_C = re.compile(r"c(?=[eiy])")
_SOFT_G = re.compile(r"g(?=[ei])")
_R_BEFORE_CONSONANT = re.compile(r"(?<=[aeiou])r(?![aeiouy])")
_VOWELISH = re.compile(r"[aeiouyw]")
_EPENTHETIC = re.compile(r"(?<=[^aeiou])[uo](?=[^aeiou]|$)")


def _frame(word: str) -> str:
    """Consonants with repeats collapsed: the part of a word that survives borrowing."""
    consonants = _VOWELISH.sub("", word)
    return re.sub(r"(.)\1+", r"\1", consonants)


def _spoken_romaji(katakana: str) -> str:
    word = romaji(katakana)
    for old, new in _ROMAJI_FOLDS:
        word = word.replace(old, new)
    return word


def _spoken_english(word: str, drop_r: bool = True) -> str:
    word = _SOFT_G.sub("j", _SOFT_C.sub("s", word.lower()))
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]  # silent e: file, ware
    if drop_r:
        word = _R_BEFORE_CONSONANT.sub("", word)  # server -> seve, user -> use (ユーザー)
    for old, new in _ENGLISH_FOLDS:
        word = word.replace(old, new)
    return word


def romaji_frame(katakana: str) -> str:
    """The consonant frame of a katakana word.

    >>> romaji_frame("ディレクトリ"), romaji_frame("サーバー")
    ('drktr', 'sb')
    """
    return _frame(_spoken_romaji(katakana))


def english_frame(word: str, drop_r: bool = True) -> str:
    """The consonant frame of an English word, as a borrowing would sound; an r after
    a vowel is usually silent in Japanese (server サーバー) but not always (curl カール,
    form フォルム), hence ``drop_r``.

    >>> english_frame("directory"), english_frame("server"), english_frame("process")
    ('drktr', 'sb', 'prs')
    """
    return _frame(_spoken_english(word, drop_r))


def similarity(katakana: str, word: str) -> float:
    """Spelling similarity of the folded romaji (vowels a loanword adds after its
    consonants dropped) and the folded English word.

    >>> round(similarity("ディレクトリ", "directory"), 2), round(similarity("ディレクトリ", "director"), 2)
    (0.95, 0.89)
    """
    spoken = _spoken_romaji(katakana)
    drop_r = english_frame(word) == romaji_frame(katakana) or english_frame(word, drop_r=False) != romaji_frame(katakana)
    written = re.sub(r"y$", "i", _spoken_english(word, drop_r))  # directory ~ direkutori
    return max(SequenceMatcher(None, form, written).ratio() for form in (spoken, _EPENTHETIC.sub("", spoken)))


def candidates(katakana: Iterable[str], english: Iterable[str]) -> dict[str, list[tuple[float, str]]]:
    """Per katakana word (compounds space-separated: "ゾル バックス"), the English words
    that share its frame and are spelled near enough, with their similarity."""
    by_frame: dict[str, set[str]] = defaultdict(set)
    for word in sorted(set(english)):
        for frame in {english_frame(word), english_frame(word, drop_r=False)}:
            if len(frame) >= MIN_FRAME:
                by_frame[frame].add(word)
    found: dict[str, list[tuple[float, str]]] = {}
    for term in sorted(set(katakana)):
        written = term.replace(" ", "")  # a compound MeCab split
        frame = romaji_frame(written)
        if len(frame) < MIN_FRAME:
            continue
        needed = MIN_SPELLING_SHORT if len(frame) == MIN_FRAME else MIN_SPELLING
        near = [(similarity(written, word), word) for word in sorted(by_frame.get(frame, ()))]
        near = [(score, word) for score, word in near if score >= needed]
        if near:
            found[term] = near
    return found
