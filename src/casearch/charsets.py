"""Naming the encoding of a Japanese file that is not UTF-8, for the skip message.

Corpus files must be UTF-8; older Japanese text is often Shift_JIS (Windows' cp932) or
EUC-JP. When a file fails to decode as UTF-8, ``legacy_japanese`` tries those strictly and
names the one under which the bytes read as Japanese text, so the message can say what to
convert from. Only a guess for the message: nothing is ever decoded this way for indexing.

No guess for UTF-8 with a few broken bytes: when the characters that do decode as UTF-8
are at least as many as the broken sequences, the file is damaged UTF-8 (read as cp932,
UTF-8 Japanese turns into plausible kanji). Otherwise a decoding counts when it succeeds
without error and at least half of its non-ASCII characters are kana, kanji or Japanese
punctuation (random bytes decode as cp932 often, but into half-width katakana and rare
symbols). Of two that count, the one with more such characters wins.
"""

from __future__ import annotations

import re

CANDIDATES = (("cp932", "Shift_JIS"), ("euc_jp", "EUC-JP"))
ICONV_NAMES = {"Shift_JIS": "CP932", "EUC-JP": "EUC-JP"}  # CP932: Windows' Shift_JIS, NEC symbols included
_JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]")
_SAMPLE_BYTES = 64 * 1024


def legacy_japanese(raw: bytes) -> str | None:
    """"Shift_JIS" or "EUC-JP" when the bytes read as Japanese text in it, else None.

    >>> legacy_japanese("鉄道とエネルギーで深まる協力".encode("cp932"))
    'Shift_JIS'
    >>> legacy_japanese("鉄道とエネルギーで深まる協力".encode("euc_jp"))
    'EUC-JP'
    >>> legacy_japanese(b"plain \\xff\\xfe bytes") is None
    True
    """
    sample = _whole_characters(raw[:_SAMPLE_BYTES], len(raw) > _SAMPLE_BYTES)
    if _mostly_utf8(sample):
        return None
    best: tuple[int, str] | None = None
    for codec, name in CANDIDATES:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        foreign = sum(1 for char in text if ord(char) > 0x7F)
        japanese = len(_JAPANESE.findall(text))
        if foreign and japanese * 2 >= foreign and (best is None or japanese > best[0]):
            best = (japanese, name)
    return best[1] if best else None


def _mostly_utf8(sample: bytes) -> bool:
    """At least as many non-ASCII characters decode as UTF-8 as there are broken sequences.

    >>> _mostly_utf8("正しい".encode() + b"\\xe3\\x81"), _mostly_utf8("正しい".encode("cp932"))
    (True, False)
    """
    text = sample.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    decoded = sum(1 for char in text if ord(char) > 0x7F) - broken
    return decoded >= broken


def _whole_characters(sample: bytes, cut: bool) -> bytes:
    """A cut sample without its last line, so that no two-byte character is split."""
    if not cut:
        return sample
    end = sample.rfind(b"\n")
    return sample[:end] if end > 0 else sample
