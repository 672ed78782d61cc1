"""A Japanese file saved as Shift_JIS or EUC-JP is skipped with a reason that names the
encoding and the conversion; other bytes that are not UTF-8 are not given a guess."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from casearch.charsets import legacy_japanese
from casearch.cli import main

from conftest import write

TEXT = ("---\ntitle: 北海道の鉄道ノート\nlang: ja\n---\n"
        "北海道の鉄道は札幌と函館を結ぶ路線が中心です。\n\n## 貨物\n貨物列車が港と工場を結びます。\n")


@pytest.mark.parametrize(("codec", "name"), [("cp932", "Shift_JIS"), ("shift_jis", "Shift_JIS"), ("euc_jp", "EUC-JP")])
def test_japanese_in_a_legacy_encoding_is_named(codec: str, name: str) -> None:
    assert legacy_japanese(TEXT.encode(codec)) == name


def test_windows_symbols_read_as_shift_jis() -> None:
    assert legacy_japanese("①会議は㈱東京で開催".encode("cp932")) == "Shift_JIS"


def test_a_long_file_is_judged_on_whole_characters() -> None:
    raw = ("鉄道の話。" * 20_000 + "\n").encode("cp932")  # the 64 KiB sample ends mid-line
    assert legacy_japanese(raw) == "Shift_JIS"


@pytest.mark.parametrize("raw", [
    b"\xff\xfe\x00", "caf\u00e9 cr\u00e8me".encode("latin-1"), bytes(range(128, 256)) * 3, b"\x80" * 50,
])
def test_bytes_that_are_not_japanese_get_no_guess(raw: bytes) -> None:
    assert legacy_japanese(raw) is None


def test_random_bytes_are_rarely_taken_for_japanese() -> None:
    rng = random.Random(5)
    guesses = sum(legacy_japanese(bytes(rng.randrange(256) for _ in range(400))) is not None for _ in range(200))
    assert guesses == 0


def test_reindex_names_the_encoding_of_a_skipped_japanese_file(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    write(corpus / "ok.md", "# ok\n\nfine\n")
    (corpus / "sjis.md").write_bytes(TEXT.encode("cp932"))
    (corpus / "euc.txt").write_bytes(TEXT.encode("euc_jp"))
    (corpus / "latin.txt").write_bytes("caf\u00e9\n".encode("latin-1"))
    result = CliRunner().invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1
    lines = {line.split(":")[0]: line for line in result.stderr.splitlines() if line.startswith("skipped ")}
    assert "not valid UTF-8" in lines["skipped sjis.md"]
    assert "it looks like Shift_JIS: save it as UTF-8 (iconv -f CP932 -t UTF-8)" in lines["skipped sjis.md"]
    assert "it looks like EUC-JP: save it as UTF-8 (iconv -f EUC-JP -t UTF-8)" in lines["skipped euc.txt"]
    assert "not valid UTF-8" in lines["skipped latin.txt"] and "looks like" not in lines["skipped latin.txt"]


def test_utf8_with_a_few_broken_bytes_is_not_taken_for_shift_jis() -> None:
    """Read as cp932, UTF-8 Japanese turns into plausible kanji: damaged UTF-8 gets no guess."""
    assert legacy_japanese("---\ntitle: x\n---\n正しい\n".encode() + b"\n\xe3\x81 broken\n") is None
    assert legacy_japanese(TEXT.encode() + b"\xff") is None
