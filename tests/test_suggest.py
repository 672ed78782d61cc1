"""Did-you-mean and prefix completions, from the index's unstemmed vocabulary."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from casearch.index import reindex
from casearch.stats import index_stats
from casearch.search import Engine, validate_request
from casearch.suggest import complete, did_you_mean, edit_distance, VOCABULARY_FIELD, with_suggestion

from conftest import write


def suggestion_for(engine: Engine, q: str, **params: str) -> str | None:
    request = validate_request({"q": q, **params})
    return with_suggestion(engine, request, engine.search(request)).suggestion


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("pipeline", "pipeline", 0), ("pipline", "pipeline", 1), ("teh", "the", 1), ("kazakstan", "kazakhstan", 1),
     ("natral", "natural", 1), ("abc", "xyz", 3), ("パイプレイン", "パイプライン", 1), ("", "ab", 2)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 5) == distance
    assert edit_distance(a, b, 0) == min(distance, 1)  # capped at limit + 1


def test_the_vocabulary_is_the_unstemmed_field(engine: Engine) -> None:
    with engine.reader() as reader:
        words = set(reader.expand_prefix(VOCABULARY_FIELD, "pipel"))
    assert "pipeline" in words and "pipelin" not in words  # surface forms, not Porter stems


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pipline", "pipeline"),  # lowercase stays lowercase
        ("PIPLINE", "PIPELINE"),  # the user's capitals are kept
        ("Kazakstan", "Kazakhstan"),
        ("kazakstan", "Kazakhstan"),  # a name keeps the capital the corpus always gives it
        ("natral gas", "natural gas"),  # only the misspelt word changes
        ("pipline OR railway", "pipeline OR railway"),  # operators are left alone
        ("パイプレイン", "パイプライン"),  # katakana, when nothing matched
        ("ｐｉｐｌｉｎｅ", "pipeline"),  # full-width letters are read as ASCII
    ],
)
def test_misspelt_words_get_a_suggestion_that_finds_passages(engine: Engine, query: str, expected: str) -> None:
    assert suggestion_for(engine, query) == expected
    assert engine.search(validate_request({"q": expected})).total > 0


@pytest.mark.parametrize(
    "query",
    ["pipeline", "鉄道", "パイプライン", "天然ガス", "Kazakhstan railway", "-pipline Kazakhstan", "pip*",
     "title:pipline", "zzzzqqqq", "の"],
)
def test_no_suggestion_when_nothing_better_exists(engine: Engine, query: str) -> None:
    # right words; an excluded word; a prefix; a correction that would still find nothing
    # (no title holds "pipeline"); nothing near; particles only
    assert suggestion_for(engine, query) is None


def test_suggestion_ignores_the_language_filter_when_counting(engine: Engine) -> None:
    # nothing English is in the Japanese filter, but the corrected query finds passages:
    # the page then offers the language that has them
    assert suggestion_for(engine, "pipline", lang="ja") == "pipeline"


@pytest.fixture(scope="module")
def typo_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """One note with the typo "pipline", twelve with "pipeline", one with "pipette"."""
    root = tmp_path_factory.mktemp("typos")
    write(root / "c/typo.md", "---\ntitle: Memo\nlang: en\n---\nThe pipline was inspected.\n")
    for n in range(12):
        write(root / f"c/good{n}.md", f"---\ntitle: Report {n}\nlang: en\n---\nThe pipeline number {n} runs east.\n")
    write(root / "c/lab.md", "---\ntitle: Lab\nlang: en\n---\nA pipette and a burette.\n")
    write(root / "c/ja.md", "---\ntitle: サーバーの話\nlang: ja\n---\nサーバーとサーバーの管理。パイプラインの保守。\n")
    reindex(root / "c", root / "ix")
    return Engine(root / "ix")


def test_a_rare_word_next_to_a_much_commoner_one_is_questioned(typo_engine: Engine) -> None:
    # cross=0: the typo is also transliterated to パイプライン; here only the English side counts
    request = validate_request({"q": "pipline", "cross": "0"})
    result = typo_engine.search(request)
    assert result.total == 1  # the typo itself is in the corpus
    assert with_suggestion(typo_engine, request, result).suggestion == "pipeline"


def test_a_rare_word_without_a_commoner_neighbour_is_left_alone(typo_engine: Engine) -> None:
    assert suggestion_for(typo_engine, "pipette") is None
    assert suggestion_for(typo_engine, "burette") is None


def test_did_you_mean_leaves_known_words(typo_engine: Engine) -> None:
    with typo_engine.reader() as reader:
        assert did_you_mean(reader, "pipeline east", total=12) is None
        assert did_you_mean(reader, "Report", total=12) is None  # a title word, not in bodies


# --- completions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("パイ", "パイプライン"),  # katakana
        ("ぱいぷ", "パイプライン"),  # hiragana typed before conversion finds katakana words
        ("中国の鉄", "中国の鉄道"),  # the word being typed starts after the particle
        ("天然 パイプ", "天然 パイプライン"),  # earlier words are kept
        ("Kaz", "Kazakhstan"),  # English, in the corpus's spelling
        ("pipel", "pipeline"),
        ("ｶｻﾞﾌ", "カザフスタン"),  # half-width katakana
    ],
)
def test_completions(engine: Engine, typed: str, expected: str) -> None:
    with engine.reader() as reader:
        assert expected in complete(reader, typed)


def test_completions_are_bounded_and_ranked_by_frequency(typo_engine: Engine) -> None:
    with typo_engine.reader() as reader:
        completions = complete(reader, "pip", limit=2)
        assert completions[0] == "pipeline"  # 12 passages before pipline and pipette (1 each)
        assert len(completions) == 2
        assert len(complete(reader, "p", limit=500)) <= 20


def test_completion_shows_the_written_form_not_the_folded_one(typo_engine: Engine) -> None:
    with typo_engine.reader() as reader:
        assert "サーバー" in complete(reader, "サー")  # indexed as サーバ (long vowel folded)


@pytest.mark.parametrize("typed", ["鉄道 ", "pipe*", "zzzzqqq", "(", '"パイ"'])
def test_nothing_to_complete(engine: Engine, typed: str) -> None:
    # a finished word (trailing space), a prefix query, an unknown beginning, syntax
    with engine.reader() as reader:
        assert complete(reader, typed) == []


def test_lone_particles_are_not_offered(engine: Engine) -> None:
    with engine.reader() as reader:
        assert "の" not in complete(reader, "の", limit=20)
        assert "the" not in complete(reader, "th", limit=20)


# --- Japanese: completions by reading, kanji mistypes ----------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("てつ", "鉄道"),  # kana typed before conversion: the word read テツ...
        ("せいゆ", "製油"),  # 製油所 (セイユ|ショ): the whole reading, not せい + ユ...
        ("中国のてつ", "中国の鉄道"),  # after a particle a new word begins
        ("てんねん", "天然"),
    ],
)
def test_completions_by_reading(engine: Engine, typed: str, expected: str) -> None:
    with engine.reader() as reader:
        assert expected in complete(reader, typed)


@pytest.mark.parametrize("typed", ["せいゆ", "せい", "てつ", "かざ", "ぱいぷ", "中国のてつ"])
def test_completions_never_convert_half_a_hiragana_word(engine: Engine, typed: str) -> None:
    # せいゆ once became せいユーラシア: the tail ゆ completed, the head せい left as typed
    with engine.reader() as reader:
        completions = complete(reader, typed, limit=20)
    assert completions
    for completion in completions:
        assert not re.search(r"[\u3041-\u309f][\u30a1-\u30fa\u4e00-\u9fff]", completion.replace("の", "")), completion


def test_reading_completions_keep_the_first_sound(engine: Engine) -> None:
    # reading keys ignore voicing (rendaku), a word's first sound does not: ぱい is not 入り
    with engine.reader() as reader:
        assert "入り" not in complete(reader, "ぱい", limit=20)
        assert "パイプライン" in complete(reader, "ぱい", limit=20)


def test_completions_by_reading_through_the_api(client) -> None:
    assert "鉄道" in client.get("/api/suggest?q=てつ").get_json()["completions"]
    assert "せいユーラシア" not in client.get("/api/suggest?q=せいゆ&limit=20").get_json()["completions"]


KANJI_MISTYPES = [("天燃ガス", "天然ガス"), ("習金平", "習近平"), ("鉄同", "鉄道")]


@pytest.mark.parametrize(("typed", "expected"), KANJI_MISTYPES)
def test_kanji_mistypes_get_a_suggestion_that_finds_passages(client, typed: str, expected: str) -> None:
    # same reading (天燃ガス, 鉄同: テンネンガス, テツドウ) or all characters but one (習金平)
    data = client.get(f"/api/search?q={typed}").get_json()
    # no passage has the word as typed (partial matches of its characters may be listed)
    assert (data["total"] == 0 or data["matching"] == "partial") and data["suggestion"] == expected
    assert client.get(f"/api/search?q={expected}").get_json()["total"] > 0
    page = client.get(f"/search?q={typed}&ui=ja").get_data(as_text=True)
    assert f"<strong>{expected}</strong>" in page and 'class="did-you-mean"' in page


def test_a_kanji_mistype_inside_a_longer_query_is_replaced_alone(engine: Engine) -> None:
    assert suggestion_for(engine, "天燃ガス パイプライン") == "天然ガス パイプライン"


@pytest.mark.parametrize("query", ["鉄道", "天然ガス", "習近平", "-鉄同 鉄道", "鉄道 zzzzqqqq"])
def test_no_kanji_suggestion_for_words_of_the_text(engine: Engine, query: str) -> None:
    # words the text holds; an excluded word; a query that found nothing for another reason
    assert suggestion_for(engine, query) is None


# --- deleted documents --------------------------------------------------------------------------


def test_deleted_documents_leave_completions_suggestions_and_stats(
    corpus_dir: Path, engine_name: str, tmp_path: Path
) -> None:
    corpus = tmp_path / "c"
    shutil.copytree(corpus_dir, corpus)
    write(corpus / "zoo.md", "---\ntitle: Zoo\nlang: en\n---\nThe zebracorn met a zephyrine.\n\n縞馬の絵。\n")
    index = tmp_path / "i"
    reindex(corpus, index, engine=engine_name)
    engine = Engine(index, engine_name)
    with engine.reader() as reader:
        assert complete(reader, "zebr") == ["zebracorn"] and "縞馬" in complete(reader, "しまう")
    assert suggestion_for(engine, "zebracorm") == "zebracorn"
    assert index_stats(index).deleted_records == 0

    (corpus / "zoo.md").unlink()
    report = reindex(corpus, index, engine=engine_name)
    assert (report.removed, report.full) == (1, False)  # incremental: the segments keep the records
    engine = Engine(index, engine_name)
    with engine.reader() as reader:
        assert reader.doc_frequency(VOCABULARY_FIELD, "zebracorn") > 0  # the lexicon still counts it
        assert complete(reader, "zebr") == [] and complete(reader, "zeph") == []
        assert "縞馬" not in complete(reader, "しまう")
    assert suggestion_for(engine, "zebracorm") is None
    stats = index_stats(index)
    assert stats.documents == 2 and stats.deleted_records > 0 and stats.stale_words >= 2
    reindex(corpus, tmp_path / "full", engine=engine_name)
    assert stats.vocabulary == index_stats(tmp_path / "full").vocabulary  # live words only
    assert index_stats(tmp_path / "full").stale_words == 0
