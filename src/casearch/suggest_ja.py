"""Japanese suggestions the spelling lexicon cannot make: completions by reading and
corrections of mistyped kanji. ``suggest`` calls these; both read only what the index
holds for live passages, so a deleted document never comes back as a suggestion.

    by_reading     kana being typed (てつ) -> its reading key as a phrase of reading
                   bigrams (``body_reading``) -> the passages that read it -> in each, the
                   whole words whose reading starts with it at a word's start (the stored
                   reading chains, ``Offsets.reading_words``) -> those words as the text
                   writes them (鉄道), ranked by the passages that hold them
    correct_run    a run of kanji (and katakana) that no passage holds (天燃ガス, 鉄同,
                   習金平) -> the words of the index read exactly as it reads (テンネンガス
                   -> 天然ガス) -> else the same characters but one, found through the
                   character-bigram lexicon (習 + 近 + 平: 習近 and 近平 are both bigrams
                   of the index) -> the candidate held by the most passages, as written

Every lookup is bounded: a few hundred passages read, a few thousand lexicon entries.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from itertools import islice

from . import analysis
from . import querytree as qt
from .engines.base import Reader
from .errors import QueryError
from .search import stored_offsets
from .textnorm import is_kana, reading_key, to_katakana

READING_FIELD = "body_reading"
NGRAM_FIELD = "body_ngram"
STORED_TEXT = "body"
MAX_READING_PASSAGES = 200  # passages read for the words behind one reading
MAX_BIGRAMS = 2000  # character bigrams looked at per replaced position
MAX_CANDIDATES = 12  # one-character replacements counted per run

KANJI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々\u30a1-\u30fa\u30fc]{2,}")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def has_kanji(text: str) -> bool:
    return bool(_KANJI.search(text))


def passages_holding(reader: Reader, node: qt.Node) -> int:
    """Live passages matching ``node`` (an engine's document frequencies still count the
    records of deleted documents until a merge; a query never sees them)."""
    try:
        return sum(reader.count(node).values())
    except QueryError:  # the time cap
        return 0


# --- completions by reading --------------------------------------------------------


def by_reading(reader: Reader, typed: str) -> list[tuple[str, int]]:
    """Words of the index whose reading starts with the kana ``typed``, as written, with
    the number of passages (among those read) holding each; most first.

    Only for two kana or more, some of them hiragana (katakana is typed for katakana
    words, which the vocabulary has as written); a single kana starts too many words.
    Reading keys ignore voicing (rendaku), but a word's first sound must be as typed:
    ぱい is not 入り (ハイリ).
    """
    spoken = to_katakana(unicodedata.normalize("NFKC", typed))
    if len(spoken) < 2 or not is_kana(typed) or not _HIRAGANA.search(typed):
        return []
    counts = _words_read_as(reader, reading_key(spoken), whole=False)
    return [(word, n) for word, n in counts.most_common() if _first_sound(word) == spoken[0] and _worth_offering(word)]


def _first_sound(word: str) -> str:
    tokens = [t for t in analysis.analyze(word) if t.indexed]
    return tokens[0].reading[:1] if tokens and tokens[0].reading else ""


def _words_read_as(reader: Reader, key: str, whole: bool) -> Counter[str]:
    """Written forms of the word runs read ``key`` (or starting with it), per passage."""
    counts: Counter[str] = Counter()
    if len(key) < 2:
        return counts
    try:
        found, _ = reader.rank(qt.leaf(READING_FIELD, tuple(analysis.query_grams(key))), MAX_READING_PASSAGES, None)
    except QueryError:
        return counts
    for _, passage in found:
        fields = reader.stored(passage)
        text = fields.get(STORED_TEXT) or ""
        spans = stored_offsets(fields, STORED_TEXT).reading_words(key, whole=whole)
        counts.update({unicodedata.normalize("NFKC", text[start:end]) for start, end in spans})
    return counts


def _worth_offering(word: str) -> bool:
    """A word that starts with a content word (not a particle or an ending) and is not a
    lone kana."""
    tokens = [t for t in analysis.analyze(word) if t.indexed]
    if not tokens or tokens[0].stop:
        return False
    return not (len(word) == 1 and is_kana(word))


def may_start_word(tokens: list[analysis.Token], text: str, start: int) -> bool:
    """Whether the word being typed may begin at ``start`` of ``text``: at its beginning,
    after anything but hiragana, or after a particle (中国の|てつ). Never inside a run
    of hiragana (せい|ゆ): completing its end would offer a half-converted せいユーラシア.

    >>> text = "中国のてつ"
    >>> may_start_word(analysis.analyze(text), text, 3)
    True
    """
    if start == 0 or not ("\u3041" <= text[start - 1] <= "\u309f"):
        return True
    before = [t for t in tokens if t.end == start]
    return bool(before) and before[-1].pos == "助詞"


# --- corrections of mistyped kanji ----------------------------------------------------


def runs_to_check(query: str) -> list[tuple[int, int]]:
    """Spans of the query's runs of kanji (with katakana) worth correcting: two
    characters or more, at least one kanji, not excluded (-w)."""
    spans = []
    for match in KANJI_RUN.finditer(query):
        if not _KANJI.search(match.group()):
            continue
        if match.start() > 0 and query[match.start() - 1] == "-":
            continue
        spans.append(match.span())
    return spans


def correct_run(reader: Reader, run: str) -> str | None:
    """The run as the index writes it when no passage holds it as typed (see module
    doc), or None."""
    written = to_katakana(unicodedata.normalize("NFKC", run))
    if passages_holding(reader, qt.leaf(NGRAM_FIELD, tuple(analysis.query_grams(written)))) > 0:
        return None  # in the text: not a typo (the query found nothing for another reason)
    same_reading = _read_alike(reader, run)
    if same_reading is not None:
        return same_reading
    return _one_character_off(reader, written)


def _read_alike(reader: Reader, run: str) -> str | None:
    """The commonest written form of the words read as ``run`` reads, other than it."""
    tokens = [t for t in analysis.analyze(run) if t.indexed]
    if not tokens or any(t.reading is None for t in tokens):
        return None  # a word the dictionary does not know has no reading to go by
    chains = list(analysis.reading_chains(tokens))
    if len(chains) != 1:
        return None
    key = "".join(k for _, k in chains[0])
    typed = unicodedata.normalize("NFKC", run)
    for word, _ in _words_read_as(reader, key, whole=True).most_common():
        if word != typed and _KANJI.search(word):
            return word
    return None


def _one_character_off(reader: Reader, written: str) -> str | None:
    """The commonest string of the text that differs from ``written`` (katakana-folded)
    in one character after the first, shown as the text writes it."""
    candidates: set[str] = set()
    for i in range(1, len(written)):
        following = written[i + 1] if i + 1 < len(written) else ""
        for bigram in islice(reader.expand_prefix(NGRAM_FIELD, written[i - 1]), MAX_BIGRAMS):
            if len(bigram) != 2 or bigram[1] == written[i]:
                continue
            if following and not reader.has_term(NGRAM_FIELD, bigram[1] + following):
                continue
            candidates.add(written[:i] + bigram[1] + written[i + 1 :])
            if len(candidates) >= MAX_CANDIDATES * 4:
                break
    scored = []
    for candidate in sorted(candidates, key=lambda c: -_bigram_frequency(reader, c))[:MAX_CANDIDATES]:
        passages = passages_holding(reader, qt.leaf(NGRAM_FIELD, tuple(analysis.query_grams(candidate))))
        if passages:
            scored.append((-passages, candidate))
    for _, candidate in sorted(scored):
        shown = _as_written(reader, candidate)
        if shown is not None:
            return shown
    return None


def _bigram_frequency(reader: Reader, candidate: str) -> int:
    """The rarest of the candidate's bigrams' document frequencies (an upper bound of
    the passages that hold it; cheap, so used to pick which candidates to count)."""
    return min(reader.doc_frequency(NGRAM_FIELD, g) for g in analysis.query_grams(candidate))


def _as_written(reader: Reader, folded: str) -> str | None:
    """The characters of a passage that hold ``folded`` (hiragana folded to katakana)."""
    try:
        found, _ = reader.rank(qt.leaf(NGRAM_FIELD, tuple(analysis.query_grams(folded))), 3, None)
    except QueryError:
        return None
    for _, passage in found:
        fields = reader.stored(passage)
        text = fields.get(STORED_TEXT) or ""
        for start, end in stored_offsets(fields, STORED_TEXT).character_spans(folded):
            return unicodedata.normalize("NFKC", text[start:end])
    return None
