"""Suggestions from the index vocabulary: "did you mean" and prefix completions.

Both read the lexicon of unstemmed surface forms (``VOCABULARY_FIELD``), never the
stemmed main field, so a suggestion is a word as written ("pipeline", not "pipelin").

    did_you_mean   query -> words to check (Latin words; katakana runs and runs of
                   kanji when nothing matched) -> unknown or rare words -> nearest
                   vocabulary words by edit distance, ranked (distance, then most
                   passages); a kanji run no passage holds -> a word read the same or
                   one character off (``suggest_ja``) -> the query with those words
                   replaced; ``with_suggestion`` keeps it only if it finds passages, at
                   least as many as the query did
    complete       the last word being typed -> the longest tail of it that starts a
                   word (中国の鉄 -> 鉄 -> 鉄道; never inside hiragana: せい|ゆ) -> the
                   words with that prefix, and for kana the words read so (てつ -> 鉄道,
                   ``suggest_ja``) -> the ones most passages hold -> the query with the
                   tail completed

Words are shown in the spelling the corpus uses: the first occurrence's characters in
the stored text (the index folds サーバー to サーバ; a completion shows サーバー).
Every lookup is bounded (``MAX_SCAN`` vocabulary entries at most). Frequencies are
counted on live passages: an engine's lexicon keeps the words of deleted documents (and
counts them) until segments merge, so a word is only offered once a query finds it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import replace
from typing import Iterator

from . import analysis, suggest_ja
from . import querytree as qt
from .engines.base import Reader
from .errors import QueryError
from .search import Engine, SearchRequest, SearchResult, stored_offsets

VOCABULARY_FIELD = "body_surface"  # surface forms (NFKC, lower case)
TERM_FIELDS = ("title", "section", "body")
STORED_TEXT = "body"  # the stored text whose offsets the vocabulary field records

MAX_SCAN = 5000  # vocabulary entries looked at per prefix or per corrected word
MAX_COMPLETIONS = 20
MAX_CHECKED_WORDS = 8  # words of one query looked up for a correction
MAX_TAIL_STARTS = 8  # token starts tried for the word being completed
MAX_LIVE_CHECKS = 60  # completion candidates counted on live passages per request
RARE_DOCS = 2  # a known word this rare may still be a typo of a much commoner one
COMMONER = 10  # ... when the neighbour is in this many times more passages

_LATIN_WORD = re.compile(r"(?<![0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a'’])"
                         r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]{3,}"
                         r"(?![0-9A-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a'’*＊:：])")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc\uff66-\uff9f]{3,}(?![*＊:：])")
_OPERATORS = frozenset({"OR", "AND", "NOT"})
_WORD = re.compile(r"[^\W_]+")  # a single word: no space, operator, quote or field prefix
_FIELD_NAMES = frozenset(TERM_FIELDS)


def fold(text: str) -> str:
    """The form a word is looked up under: NFKC, lower case.

    >>> fold("ＰＩＰＥＬＩＮＥ"), fold("ﾊﾟｲﾌﾟ")
    ('pipeline', 'パイプ')
    """
    return unicodedata.normalize("NFKC", text).lower()


# --- did you mean ---------------------------------------------------------------------


def did_you_mean(reader: Reader, query: str, total: int) -> str | None:
    """A corrected query, or None when no word of ``query`` needs or has a correction."""
    pieces: list[str] = []
    cursor = 0
    changed = False
    for start, end in itertools.islice(_words_to_check(query, katakana=total == 0), MAX_CHECKED_WORDS):
        if start < cursor:
            continue  # inside a span already corrected
        word = query[start:end]
        correction = _correction(reader, word)
        if correction is None:
            continue
        pieces += [query[cursor:start], correction]
        cursor = end
        changed = True
    if not changed:
        return None
    return "".join(pieces) + query[cursor:]


def _correction(reader: Reader, word: str) -> str | None:
    """The word as it should be written: a kanji run by reading or characters, else the
    nearest vocabulary word."""
    if suggest_ja.has_kanji(word):
        return suggest_ja.correct_run(reader, word)
    correction = _correct(reader, VOCABULARY_FIELD, word)
    if correction is None:
        return None
    return _match_case(word, display_form(reader, VOCABULARY_FIELD, correction))


def _words_to_check(query: str, katakana: bool) -> Iterator[tuple[int, int]]:
    """Spans of the Latin words (and, when asked, katakana runs and kanji runs) worth
    checking, in the order they come."""
    spans: list[tuple[int, int]] = []
    for match in _LATIN_WORD.finditer(query):
        word = unicodedata.normalize("NFKC", match.group())
        if word in _OPERATORS or word.lower() in analysis.ENGLISH_STOP_WORDS:
            continue
        if match.start() > 0 and query[match.start() - 1] in "-":
            continue  # an excluded word: correcting it would not help find anything
        spans.append(match.span())
    if katakana:
        spans += [m.span() for m in _KATAKANA_RUN.finditer(query)]
        spans += suggest_ja.runs_to_check(query)
    yield from sorted(set(spans))


def _correct(reader: Reader, field: str, word: str) -> str | None:
    folded = fold(word)
    if not folded.isascii():
        folded = folded.rstrip("ー") or folded  # as the index folds katakana long vowels
    docs = max(live_frequency(reader, field, form) for form in {fold(word), folded})
    if docs == 0 and _known_elsewhere(reader, word):
        return None
    if docs > RARE_DOCS or (docs and len(folded) < 5):
        return None
    maxdist = 1 if len(folded) < 6 or not folded.isascii() else 2
    best: tuple[int, int, str] | None = None
    for candidate, distance in _neighbours(reader, field, folded, maxdist):
        if docs and distance > 1:
            continue
        candidate_docs = live_frequency(reader, field, candidate)
        if candidate_docs == 0 or (docs and candidate_docs < COMMONER * docs):
            continue
        key = (distance, -candidate_docs, candidate)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def live_frequency(reader: Reader, field: str, term: str) -> int:
    """Live passages holding ``term``; the lexicon's count first, as it is an upper
    bound (it also counts deleted records) and costs nothing when it is 0."""
    if reader.doc_frequency(field, term) == 0:
        return 0
    return suggest_ja.passages_holding(reader, qt.Term(field, term))


def _known_elsewhere(reader: Reader, word: str) -> bool:
    """Whether the word is indexed in a title, a heading or under its base form."""
    terms = [t.term for t in analysis.analyze(word) if t.indexed]
    if len(terms) != 1:
        return False
    return any(reader.doc_frequency(name, terms[0]) for name in TERM_FIELDS)


def _neighbours(reader: Reader, field: str, word: str, maxdist: int) -> Iterator[tuple[str, int]]:
    """Vocabulary words sharing the first character within ``maxdist`` edits."""
    for n, candidate in enumerate(reader.expand_prefix(field, word[0])):
        if n >= MAX_SCAN:
            return
        if candidate == word or abs(len(candidate) - len(word)) > maxdist or not is_word(candidate):
            continue
        distance = edit_distance(word, candidate, maxdist)
        if distance <= maxdist:
            yield candidate, distance


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), or limit+1.

    >>> edit_distance("pipline", "pipeline", 2), edit_distance("teh", "the", 2)
    (1, 1)
    >>> edit_distance("abc", "xyz", 1)
    2
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _match_case(typed: str, word: str) -> str:
    """Keep the user's capitalization: PIPLINE -> PIPELINE, Pipline -> Pipeline."""
    typed = unicodedata.normalize("NFKC", typed)
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    if typed[:1].isupper() and word[:1].islower():
        return word[:1].upper() + word[1:]
    if typed.islower() and word.isascii() and word[:1].isupper() and word[1:].islower():
        return word  # a proper name as the corpus writes it (Kazakhstan)
    return word


def with_suggestion(engine: Engine, request: SearchRequest, result: SearchResult) -> SearchResult:
    """``result`` with ``suggestion`` filled in when a corrected query finds passages.

    HTML, JSON and CLI all call this after ``Engine.search``, so they show the same.
    """
    strict = _strict_total(result)
    if result.suggestion is not None or not any(_words_to_check(request.q, katakana=strict == 0)):
        return result  # nothing to check: no need to open a reader
    with engine.reader() as reader:
        corrected = did_you_mean(reader, request.q, strict)
    if corrected is None or corrected == request.q:
        return result
    if _everywhere(result) == 0 and _WORD.fullmatch(corrected) and not suggest_ja.has_kanji(corrected):
        # one vocabulary word, counted on live passages: it finds something; no need to
        # pay for a second search (a kanji run is searched as the analyzer splits it)
        result.suggestion = corrected
        return result
    try:
        found = engine.search(replace(request, q=corrected, page=1, per_page=1))
    except QueryError:
        return result
    # a correction that finds nothing is no help; one that finds fewer changed the meaning
    if _everywhere(found) > 0 and _everywhere(found) >= _everywhere(result):
        result.suggestion = corrected
    return result


def _everywhere(result: SearchResult) -> int:
    """Passages matching the whole query in any language (the facets ignore the language
    filter); none when the hits are partial matches (``matching``)."""
    return 0 if result.matching == "partial" else (result.facets or {}).get("all", result.total)


def _strict_total(result: SearchResult) -> int:
    """The result's total of passages matching the whole query."""
    return 0 if result.matching == "partial" else result.total


# --- completions ----------------------------------------------------------------------


def complete(reader: Reader, text: str, limit: int = 8) -> list[str]:
    """Queries completing the last word of ``text``, most frequent first."""
    limit = max(1, min(limit, MAX_COMPLETIONS))
    if not text or text[-1].isspace():
        return []
    cut = max(text.rfind(" "), text.rfind("\u3000"), text.rfind("\t")) + 1
    head, last = text[:cut], text[cut:]
    if last.endswith(("*", "＊", '"', ")")):
        return []
    for start in _tail_starts(last):
        typed = last[start:]
        words = _completions(reader, typed, limit)
        if words:
            return [head + last[:start] + word for word in words]
    return []


def _tail_starts(word: str) -> list[int]:
    """Where the part being typed may begin: the word's start, then each token start
    where a word may begin (``suggest_ja.may_start_word``: never inside hiragana).

    >>> _tail_starts("中国の鉄"), _tail_starts("せいゆ")
    ([0, 2, 3], [0])
    """
    tokens = analysis.analyze(word)
    starts = sorted({t.start for t in tokens if t.start > 0 and suggest_ja.may_start_word(tokens, word, t.start)})
    return [0] + starts[-MAX_TAIL_STARTS:]


def _completions(reader: Reader, typed: str, limit: int) -> list[str]:
    """Words completing ``typed`` as the corpus writes them: vocabulary words with that
    prefix and, for kana, words read so; the ones most live passages hold first."""
    field = VOCABULARY_FIELD
    ranked: dict[str, tuple[int, str]] = {}  # folded -> (passages, as shown)
    for word, passages in _words_with_prefix(reader, field, typed, limit):
        shown = _match_case(typed, display_form(reader, field, word))
        ranked[fold(shown)] = (passages, shown)
    for shown, passages in suggest_ja.by_reading(reader, typed)[: limit * 2]:
        if fold(shown) not in ranked:
            ranked[fold(shown)] = (passages, shown)
    best = sorted(ranked.values(), key=lambda item: (-item[0], len(item[1]), item[1]))
    return [shown for _, shown in best[:limit]]


def _lookup_forms(prefix: str) -> list[str]:
    """The prefix as the vocabulary may hold it: folded, hiragana as katakana, without
    a trailing long-vowel mark (the index stems サーバー to サーバ)."""
    folded = fold(prefix).strip()
    forms = [folded, _hiragana_to_katakana(folded), folded.rstrip("ー")]
    return [f for i, f in enumerate(forms) if f and f not in forms[:i]]


def _hiragana_to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def _words_with_prefix(reader: Reader, field: str, prefix: str, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` words with this prefix that most live passages hold, with that
    number. Candidates are taken in order of the lexicon's count, an upper bound of the
    live one: once it falls below the ``limit``-th live count found, nothing can rank
    higher (so an index without deletions counts only about ``limit`` words)."""
    lexicon: dict[str, int] = {}
    for form in _lookup_forms(prefix):
        for n, word in enumerate(reader.expand_prefix(field, form)):
            if n >= MAX_SCAN:
                break
            if word not in lexicon and is_word(word):
                lexicon[word] = reader.doc_frequency(field, word)
    candidates = sorted(lexicon.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
    live: list[tuple[int, int, str]] = []
    for checked, (word, bound) in enumerate(candidates):
        if checked >= MAX_LIVE_CHECKS or bound == 0 or (len(live) >= limit and bound < -live[limit - 1][0]):
            break
        passages = suggest_ja.passages_holding(reader, qt.Term(field, word))
        if passages:
            live.append((-passages, len(word), word))
            live.sort()
    return [(word, -negative) for negative, _, word in live[:limit]]


def is_word(term: str) -> bool:
    """Worth offering: not a lone letter or kana (a lone kanji is a word), a number or an
    English stop word."""
    if term.isdigit() or term in analysis.ENGLISH_STOP_WORDS:
        return False
    if len(term) == 1 and not ("\u3400" <= term <= "\u9fff" or "\uf900" <= term <= "\ufaff"):
        return False
    return any(c.isalpha() for c in term)


def display_form(reader: Reader, field: str, term: str, samples: int = 5) -> str:
    """The word as the corpus writes it, read from the stored text of a few passages
    that hold it (their stored offsets say where); a Latin word keeps a capital only
    where every sample has one."""
    written: list[str] = []
    try:
        found, _ = reader.rank(qt.Term(field, term), samples, None)
        for _, key in found:
            fields = reader.stored(key)
            text = fields.get(STORED_TEXT) or ""
            for _, start, end in stored_offsets(fields, STORED_TEXT).norms(term)[:samples]:
                written.append(unicodedata.normalize("NFKC", text[start:end]))
    except QueryError:  # the time cap: show the word as indexed
        return term
    written = [w for w in written if fold(w) == term or fold(w).rstrip("ー") == term.rstrip("ー")]
    if not written:
        return term
    if term.isascii():
        capitalized = all(w[:1].isupper() for w in written)
        return term[:1].upper() + term[1:] if capitalized else term
    return written[0]
