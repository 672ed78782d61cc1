"""JMdict / JMnedict bridges (casearch.jmdict).

The normalization and decompression tests always run.  The dictionary tests need the
optional ``jamdict-data`` package and are skipped cleanly without it.
"""

from __future__ import annotations

import lzma
import sqlite3
from pathlib import Path

import pytest

from casearch import jmdict
from casearch.jmdict import Pair, gloss_head, lookup, normalize_gloss, priority_rank

# --------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("gloss", "normalized"),
    [
        ("railway", "railway"),
        ("trade (foreign)", "trade"),
        ("(esp.) railway", "railway"),
        ("to trade (with)", "trade"),
        ("Astana (Kazakhstan)", "astana"),
        ("(a long journey (flight, voyage)) to (from) a faraway place", "a faraway place"),
        ("Chūgoku region", "chugoku region"),
        ("  Natural   Gas. ", "natural gas"),
        ("(not) ever", ""),  # stripping the parenthetical would invert the meaning
        ("(not even) a word", ""),
        ("(no matter) who", ""),
    ],
)
def test_normalize_gloss(gloss: str, normalized: str) -> None:
    assert normalize_gloss(gloss) == normalized


@pytest.mark.parametrize(
    ("normalized", "head"),
    [
        ("political principle, policy or platform", "political principle"),
        ("the self-defense forces", "self-defense forces"),
        ("natural gas", "natural gas"),
    ],
)
def test_gloss_head(normalized: str, head: str) -> None:
    assert gloss_head(normalized) == head


def test_priority_rank_orders_common_words_first() -> None:
    common = priority_rank({"ichi1", "news1", "nf03"})
    less_common = priority_rank({"news1", "nf08"})
    tagged = priority_rank({"news2", "nf41"})
    untagged = priority_rank(())
    assert common < less_common < tagged < untagged


# ------------------------------------------------------------- locating the data


def _tiny_sqlite(path: Path) -> bytes:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    return path.read_bytes()


def test_compressed_database_is_decompressed_once(tmp_path: Path) -> None:
    package = tmp_path / "jamdict_data"
    package.mkdir()
    content = _tiny_sqlite(tmp_path / "source.db")
    (package / jmdict.XZ_NAME).write_bytes(lzma.compress(content))
    cache = tmp_path / "cache"

    first = jmdict.resolve_database(package, cache)
    assert first is not None and first.parent == cache
    assert first.read_bytes() == content
    stamp = first.stat().st_mtime_ns
    assert jmdict.resolve_database(package, cache) == first
    assert first.stat().st_mtime_ns == stamp  # reused, not decompressed again
    assert [p.name for p in cache.iterdir()] == [first.name]  # no temp file left


def test_shipped_database_is_used_in_place(tmp_path: Path) -> None:
    package = tmp_path / "jamdict_data"
    package.mkdir()
    _tiny_sqlite(package / jmdict.DB_NAME)
    cache = tmp_path / "cache"
    assert jmdict.resolve_database(package, cache) == package / jmdict.DB_NAME
    assert not cache.exists()


def test_broken_archive_leaves_no_half_file(tmp_path: Path) -> None:
    package = tmp_path / "jamdict_data"
    package.mkdir()
    good = lzma.compress(_tiny_sqlite(tmp_path / "source.db") * 50)
    (package / jmdict.XZ_NAME).write_bytes(good[: len(good) // 2])
    cache = tmp_path / "cache"
    with pytest.raises((lzma.LZMAError, EOFError)):
        jmdict.resolve_database(package, cache)
    assert list(cache.iterdir()) == []


def test_missing_package_gives_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jmdict.importlib.util, "find_spec", lambda name: None)
    assert jmdict.database_path(tmp_path) is None


def test_package_without_data_gives_none(tmp_path: Path) -> None:
    (tmp_path / "jamdict_data").mkdir()
    assert jmdict.resolve_database(tmp_path / "jamdict_data", tmp_path / "cache") is None


# ------------------------------------------------------ lookups in the real data

JA_TERMS = [
    *("鉄道", "パイプライン", "天然ガス", "貿易", "アスタナ", "カザフスタン"),
    *("ナザルバエフ", "習近平", "トカエフ", "はし", "ジェン", "ツイ", "ほげほげぴよ"),
]
EN_TERMS = [
    *("railway", "pipeline", "natural gas", "trade", "Astana", "china", "gas"),
    *("Nazarbayev", "sato", "the", "xyzzyplugh"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = jmdict.database_path(tmp_path_factory.mktemp("jmdict-cache"))
    if path is None:
        pytest.skip("jamdict-data is not installed (optional feature)")
    return path


@pytest.fixture(scope="module")
def by_ja(db: Path) -> dict[str, list[Pair]]:
    """Japanese -> English, looked up alone so no English-side pair hides one."""
    return _group(lookup(db, JA_TERMS, []), lambda p: p.ja)


@pytest.fixture(scope="module")
def by_en(db: Path) -> dict[str, list[Pair]]:
    return _group(lookup(db, [], EN_TERMS), lambda p: p.en)


def _group(pairs: list[Pair], key) -> dict[str, list[Pair]]:
    grouped: dict[str, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(key(pair), []).append(pair)
    return grouped


def _en(pairs: list[Pair]) -> list[str]:
    return [p.en for p in pairs]


def _ja(pairs: list[Pair]) -> list[str]:
    return [p.ja for p in pairs]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("鉄道", {"railway", "railroad"}),
        ("パイプライン", {"pipeline"}),
        ("天然ガス", {"natural gas"}),
        ("貿易", {"trade"}),
        ("アスタナ", {"astana"}),
        ("カザフスタン", {"kazakhstan"}),
    ],
)
def test_japanese_term_gives_its_glosses(by_ja, term: str, expected: set[str]) -> None:
    pairs = by_ja[term]
    assert expected <= set(_en(pairs))
    assert {p.source for p in pairs} == {"dictionary"}


def test_glosses_are_normalized(by_ja) -> None:
    assert _en(by_ja["貿易"]) == ["trade"]  # stored as "trade (foreign)"
    assert _en(by_ja["鉄道"])[:2] == ["railroad", "railway"]  # JMdict's order


@pytest.mark.parametrize(
    ("term", "gloss"), [("ナザルバエフ", "nazarbayev"), ("習近平", "xi jinping")]
)
def test_names_come_from_jmnedict(by_ja, term: str, gloss: str) -> None:
    assert [(p.en, p.source) for p in by_ja[term]] == [(gloss, "names")]


def test_tokayev_is_not_in_jamdict_data_1_5(by_ja) -> None:
    # JMnedict of 2020-05-29 predates Tokayev's presidency: トカエフ needs the corpus
    # glossary (corpus/_glossary.tsv).  A newer data release may add it.
    pairs = by_ja.get("トカエフ", [])
    if pairs:
        pytest.xfail("this jamdict-data knows トカエフ; update this test")
    assert pairs == []


@pytest.mark.parametrize(
    ("word", "form"),
    [
        ("railway", "鉄道"),
        ("pipeline", "パイプライン"),
        ("natural gas", "天然ガス"),
        ("trade", "貿易"),
        ("Astana", "アスタナ"),  # the pair keeps the caller's spelling
        ("china", "中国"),
    ],
)
def test_english_word_gives_written_forms(by_en, word: str, form: str) -> None:
    assert form in _ja(by_en[word])


def test_english_side_keeps_the_callers_spelling(by_en) -> None:
    assert "Astana" in by_en and "Nazarbayev" in by_en
    assert [(p.ja, p.source) for p in by_en["Nazarbayev"]] == [("ナザルバエフ", "names")]


def test_most_common_word_comes_first(by_en) -> None:
    assert _ja(by_en["trade"])[0] == "貿易"
    assert _ja(by_en["china"])[0] == "中国"


def test_english_word_does_not_match_glosses_that_merely_contain_it(by_en) -> None:
    # 鉄道網 "railway network", 鉄道員 "railway worker", 天然ガス for "gas" ...
    assert "鉄道網" not in _ja(by_en["railway"])
    assert "天然ガス" not in _ja(by_en["gas"])


def test_capitalized_homonyms_are_kept_apart(by_en) -> None:
    # "China" (中国) is not "china" (陶器, 磁器: porcelain).
    assert not {"陶器", "磁器", "陶磁器"} & set(_ja(by_en["china"]))


def test_kana_reading_of_common_kanji_words_is_not_trusted(by_ja) -> None:
    assert "はし" not in by_ja  # 橋, 箸, 端 ... which one?


def test_short_katakana_fragment_is_not_a_name(by_ja) -> None:
    # JMnedict has ジェン "Gen" and ツイ "Tsui", but in a text they are mostly pieces of
    # longer words cut by the tokenizer.
    assert "ジェン" not in by_ja and "ツイ" not in by_ja


def test_ambiguous_romanized_surname_gives_nothing(by_en) -> None:
    assert "sato" not in by_en  # 佐藤, 里, 佐東 ... dozens of spellings


def test_stop_words_and_nonsense_give_nothing(by_ja, by_en) -> None:
    assert "ほげほげぴよ" not in by_ja
    assert "xyzzyplugh" not in by_en
    assert "the" not in by_en


def test_cap_per_term(db: Path) -> None:
    many = lookup(db, ["取る", "時"], [])
    assert 1 < len([p for p in many if p.ja == "取る"]) <= jmdict.PER_TERM
    two = lookup(db, ["取る", "時"], ["trade", "energy"], per_term=2)
    for term in ("取る", "時"):
        assert len([p for p in two if p.ja == term]) <= 2
    assert len(two) <= 2 * 4


def test_unknown_terms_only_give_an_empty_list(db: Path) -> None:
    assert lookup(db, ["ほげほげぴよ", " "], ["", "xyzzyplugh"]) == []
    assert lookup(db, [], []) == []


def test_pairs_are_frozen_and_unique(db: Path) -> None:
    pairs = lookup(db, ["鉄道", "鉄道"], ["railway"])
    assert len(pairs) == len(set(pairs))
    with pytest.raises(AttributeError):
        pairs[0].ja = "x"  # type: ignore[misc]
