"""Mining and transliteration: sounds, association over aligned units, and the learned pairs
reaching search through a reindex of a small generated corpus (never the man pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from casearch import mining, transliteration
from casearch.analysis import analyze
from casearch.bridge import DOUBTED, MINED_SCALE, Bridge, Pair
from casearch.index import reindex
from casearch.querylang import EXPANSION_BOOST, INTO_BOOST, parse
from casearch.search import Engine, validate_request

from conftest import write

# Concepts no dictionary pairs this way (struct is no JMdict gloss), each written in the
# Japanese page and in its English translation.
CONCEPTS = [("構造体", "struct"), ("引数", "argument"), ("端末", "terminal"), ("権限", "permission"),
            ("時刻", "timestamp"), ("削除", "removal"), ("接続", "connection"), ("暗号", "cipher")]


def search(engine: Engine, q: str, **params: str):
    return engine.search(validate_request({"q": q, **params}))


@pytest.mark.parametrize(("katakana", "romaji", "frame"), [
    ("ディレクトリ", "direkutori", "drktr"), ("ファイル", "fairu", "fr"), ("コマンド", "komando", "kmnd"),
    ("シェル", "sheru", "sr"), ("ユーザー", "yuza", "s"), ("ヴァリュー", "varyu", "br"),
])
def test_romaji_and_frames(katakana: str, romaji: str, frame: str) -> None:
    assert transliteration.romaji(katakana) == romaji
    assert transliteration.romaji_frame(katakana) == frame


@pytest.mark.parametrize(("word", "frame"), [
    ("directory", "drktr"), ("file", "fr"), ("command", "kmnd"), ("process", "prs"), ("server", "sb"),
    ("option", "psn"), ("thread", "srd"),
])
def test_english_frames_sound_like_their_loanwords(word: str, frame: str) -> None:
    assert transliteration.english_frame(word) == frame


def test_transliterations_match_by_sound_and_check_precision() -> None:
    english = {"directory", "director", "process", "file", "fail", "june", "socket"}
    found = {(m.ja, m.en) for m in mining.transliterations(
        {"ディレクトリ", "プロセス", "ソケット", "ジェン", "ファイル"}, english)}
    assert {("ディレクトリ", "directory"), ("プロセス", "process"), ("ソケット", "socket")} <= found
    assert ("ジェン", "june") not in found  # two consonants need a near spelling
    # ファイル sounds like file and fail; aligned units where ファイル meets file decide.
    units = [(frozenset({"ファイル"}), frozenset({"file", "fail"}))] + \
            [(frozenset({"ファイル"}), frozenset({"file"}))] * 3 + [(frozenset({"失敗"}), frozenset({"fail"}))] * 3
    assert {(m.ja, m.en) for m in mining.transliterations({"ファイル"}, {"file", "fail"}, units)} == {("ファイル", "file")}
    assert all(0 < m.confidence <= 1 and m.via == "transliteration" for m in mining.transliterations({"ファイル"}, english))


def test_a_transliteration_whose_words_never_meet_is_rejected() -> None:
    units = [(frozenset({"ソケット"}), frozenset({"plug"})), (frozenset({"差込"}), frozenset({"socket"}))]
    assert mining.transliterations({"ソケット"}, {"socket"}, units) == []


def _units(n: int) -> list[tuple[frozenset[str], frozenset[str]]]:
    units = []
    for i in range(n):
        a, b = CONCEPTS[i % 8], CONCEPTS[(i + 3) % 8]
        units.append((frozenset({a[0], b[0], "説明"}), frozenset({a[1], b[1], "explain", "page"})))
    return units


def test_association_finds_translations_not_neighbours() -> None:
    mined = {(m.ja, m.en): m.confidence for m in mining.associate(_units(40))}
    for ja, en in CONCEPTS:
        assert (ja, en) in mined and 0.5 < mined[(ja, en)] <= 1
    # 構造体 shares five pages with 権限's word: far below its own translation, dropped.
    assert ("構造体", "permission") not in mined and ("構造体", "page") not in mined


def test_too_few_aligned_units_teach_nothing() -> None:
    assert mining.associate(_units(mining.MIN_ALIGNED - 1)) == []


def test_aligned_units_follow_sections_when_they_match() -> None:
    profiles = {
        "ja/a": mining.Profile("ja", ("en/a",), (("名前",), ("引数", "構造 体"))),
        "en/a": mining.Profile("en", ("ja/a",), (("name",), ("arguments", "struct"))),
        "ja/b": mining.Profile("ja", ("en/b",), (("名前",),)),
        "en/b": mining.Profile("en", ("ja/b",), (("name",), ("other",))),
    }
    units = mining.aligned_units(profiles, lambda w: w.rstrip("s"))
    assert units == [(frozenset({"名前"}), frozenset({"name"})),
                     (frozenset({"引数", "構造 体"}), frozenset({"argument", "struct"})),
                     (frozenset({"名前"}), frozenset({"name", "other"}))]  # b: whole documents


def test_old_stored_pairs_read_as_fully_confident() -> None:
    old = ["鉄道", "railway", "dictionary", ["鉄道"], ["railwai"]]
    assert Pair.from_stored(old).confidence == 1.0
    pair = Pair("引数", "argument", "mined", ("引数",), ("argument",), 0.42)
    assert Pair.from_stored(pair.stored()) == pair


def test_expansion_weighs_counterparts_by_confidence() -> None:
    # Dice scaled to the dictionary's scale (x MINED_SCALE); a dictionary sense that mining
    # did not teach, for a word it taught another counterpart of, is doubted.
    bridge = Bridge([Pair("引数", "argument", "mined", ("引数",), ("argument",), 0.2),
                     Pair("議論", "argument", "dictionary", ("議論",), ("argument",), 0.8)])
    alternatives = [a for unit in parse("argument", bridge=bridge).units for a in unit.alternatives
                    if a.via in ("mined", "dictionary") and a.field == "body"]
    assert [(a.terms, a.boost) for a in alternatives] == [
        (("引数",), round(EXPANSION_BOOST * 0.2 * MINED_SCALE, 4)), (("議論",), round(EXPANSION_BOOST * 0.8 * DOUBTED, 4))]


def test_a_dictionary_sense_stands_where_mining_taught_nothing() -> None:
    bridge = Bridge([Pair("議論", "argument", "dictionary", ("議論",), ("argument",), 0.8)])
    assert [c.confidence for c in bridge.counterparts(("argument",))] == [0.8]


def test_results_asked_in_the_other_language_weigh_counterparts_more() -> None:
    bridge = Bridge([Pair("引数", "argument", "dictionary", ("引数",), ("argument",), 0.5)])

    def boost(into: str | None) -> float:
        return next(a.boost for unit in parse("argument", bridge=bridge, into=into).units
                    for a in unit.alternatives if a.terms == ("引数",) and a.field == "body")

    assert boost(None) == boost("en") == round(EXPANSION_BOOST * 0.5, 4)
    assert boost("ja") == round(INTO_BOOST * 0.5, 4) > boost(None)


def _aligned_corpus(root: Path, pairs: int = 40) -> None:
    for i in range(pairs):
        a, b = CONCEPTS[i % 8], CONCEPTS[(i + 3) % 8]
        write(root / f"ja/p{i}.md", f"---\nlang: ja\ntranslations: en/p{i}\n---\n{a[0]}と{b[0]}について説明する。\n")
        write(root / f"en/p{i}.md", f"---\nlang: en\ntranslation_of: ja/p{i}\n---\nThis page explains {a[1]} and {b[1]}.\n")
    # Documents without a translation: only the learned pairs can bridge them.
    write(root / "ja/solo.md", "---\nlang: ja\n---\n## 使い方\n\n構造体を初期化してから使う。\n")
    write(root / "en/solo.md", "---\nlang: en\n---\n## Usage\n\nThe zorbax daemon runs once.\n")
    write(root / "ja/zorbax.md", "---\nlang: ja\n---\nゾルバックスを起動する。\n")


def test_learned_pairs_bridge_documents_without_translation(tmp_path: Path) -> None:
    _aligned_corpus(tmp_path / "c")
    reindex(tmp_path / "c", tmp_path / "ix")
    engine = Engine(tmp_path / "ix")
    found = search(engine, "struct", lang="ja", per_page="50")
    solo = next(h for h in found.hits if h.doc_id == "ja/solo")
    assert {"term": "struct", "via": "mined", "field": "body", "word": "構造"} in solo.matched and "<mark>構造</mark><mark>体</mark>" in solo.snippet
    assert search(engine, "struct", lang="ja", cross="0").total == 0
    back = search(engine, "ゾルバックス", lang="en").hits
    assert back and back[0].doc_id == "en/solo" and back[0].matched == [{"term": "ゾルバックス", "via": "transliteration", "field": "body", "word": "zorbax"}]


def test_incremental_reindex_keeps_one_table_of_learned_pairs(tmp_path: Path) -> None:
    corpus, ix = tmp_path / "c", tmp_path / "ix"
    _aligned_corpus(corpus)
    reindex(corpus, ix)
    write(corpus / "ja/solo.md", "---\nlang: ja\n---\n## 使い方\n\n引数を渡す。\n")
    report = reindex(corpus, ix)
    assert report.updated == 1
    engine = Engine(ix)
    with engine.reader() as reader:
        learned = [p for p in engine.bridge(reader).pairs if p.source == "mined"]
    assert ("構造体", "struct") in {(p.ja, p.en) for p in learned}  # mined from the untouched pages
    assert len(learned) == len({(p.ja_terms, p.en_terms) for p in learned})
    assert [h.doc_id for h in search(engine, "argument", lang="ja", per_page="50").hits if h.doc_id == "ja/solo"]


def test_incremental_runs_mine_again_only_after_enough_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from casearch import mining as mining_mod
    from casearch.records import MINED_PID, REMINE_SHARE

    corpus, ix = tmp_path / "c", tmp_path / "ix"
    _aligned_corpus(corpus)  # 83 documents
    reindex(corpus, ix)
    runs: list[int] = []
    real_mine = mining_mod.mine
    monkeypatch.setattr(mining_mod, "mine", lambda profiles, *rest: runs.append(len(profiles)) or real_mine(profiles, *rest))
    write(corpus / "ja/solo.md", "---\nlang: ja\n---\n## 使い方\n\n引数を渡す。\n")
    reindex(corpus, ix)
    assert runs == []  # one change of 83: the learned pairs stay, the change is counted
    engine = Engine(ix)
    with engine.reader() as reader:
        assert reader.find_pid(MINED_PID)["meta"]["changes"] == 1
    assert ("構造体", "struct") in {(p.ja, p.en) for p in _learned(engine)}
    needed = int(REMINE_SHARE * 83) + 1
    for i in range(needed):
        write(corpus / f"en/p{i}.md", (corpus / f"en/p{i}.md").read_text(encoding="utf-8") + "\nMore.\n")
    reindex(corpus, ix)
    assert runs == [83]  # enough changes: mined again over every document
    with Engine(ix).reader() as reader:
        assert reader.find_pid(MINED_PID)["meta"]["changes"] == 0


def _learned(engine: Engine) -> list:
    with engine.reader() as reader:
        return [p for p in engine.bridge(reader).pairs if p.source == "mined"]


def test_a_transliteration_is_trusted_by_what_the_aligned_units_say() -> None:
    spelling = transliteration.similarity("ソケット", "socket")
    # No unit holds both words: the sound alone, at half the trust.
    alone = mining.transliterations({"ソケット"}, {"socket"})
    assert [(m.en, m.confidence) for m in alone] == [("socket", round(spelling * mining.UNATTESTED, 3))]
    # Units hold both but they meet once in twenty: chance, not a translation.
    units = [(frozenset({"ソケット"}), frozenset({"socket"}))] + \
        [(frozenset({"ソケット"}), frozenset({"plug"}))] * 19 + [(frozenset({"差込"}), frozenset({"socket"}))] * 19
    assert mining.transliterations({"ソケット"}, {"socket"}, units) == []
    # They meet in most units: the spelling score, in full.
    units = [(frozenset({"ソケット"}), frozenset({"socket"}))] * 5
    assert [m.confidence for m in mining.transliterations({"ソケット"}, {"socket"}, units)] == [round(spelling, 3)]


def test_a_transliteration_needs_an_english_word_not_an_abbreviation() -> None:
    assert mining.transliterations({"スキット"}, {"skt", "skit"}) and \
        all(m.en == "skit" for m in mining.transliterations({"スキット"}, {"skt", "skit"}))
    assert mining.transliterations({"ソケット"}, {"sckt"}) == []


def test_english_the_japanese_side_writes_too_is_not_a_translation() -> None:
    # "int" stands in both pages (code); 引数 and argument say the same thing.
    ja = mining.profile("ja", ["en/a"], [analyze("引数は int 型である。")])
    en = mining.profile("en", ["ja/a"], [analyze("The argument is an int.")])
    assert ja.shared == (("int",),) and en.shared == ()
    units = mining.aligned_units({"ja/a": ja, "en/a": en})
    assert units == [(frozenset({"引数", "型"}), frozenset({"argument"}))]


def test_a_name_read_in_katakana_is_not_a_loanword() -> None:
    # UniDic's lemma of 西安 is セイアン: sounded out, it would be "asian".
    ja = mining.profile("ja", [], [analyze("西安とアスタナのサミット。")])
    assert "セイアン" in ja.sections[0] and ja.not_loanwords == ("セイアン",)
    assert mining.katakana_terms([ja]) == {"アスタナ", "サミット"}
