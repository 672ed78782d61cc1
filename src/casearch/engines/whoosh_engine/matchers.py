"""Whoosh query nodes with our own matchers: a faster exact phrase, AND NOT that checks
its first candidate, and a best-of whose score is the current passage's.

    AdjacentPhrase(field, words)  ->  intersection of the words' postings (Whoosh)
                                  ->  per candidate passage: the start positions p with
                                      p + i among word i's positions, for every i
    Excluding(a, b)               ->  a's matches without b's, the first one included
    Requiring(a, b)               ->  a's matches that b matches too, scored by a
    KeyedWeights(field, weights)  ->  one sorted list of the passages named by their ids,
                                      each scored by its weight (joining translations)

Japanese queries are phrases almost always (天然ガス is 天然 + ガス, adjacent), and
Whoosh's ``Phrase`` checks adjacency through ``SpanNear2``: a ``Span`` object per
occurrence per word, character offsets decoded although only positions are compared,
and sorted span sets rebuilt word by word. The benchmark profile put a fifth of query
time there. ``AdjacentPhrase`` keeps Whoosh's intersection (so the candidate passages,
the scores and the skipping are Whoosh's own) and replaces only the per-passage check
with set arithmetic on positions. It matches exactly what ``Phrase`` with ``slop=1``
matches, with the same scores; a test compares the two on random phrases.

Whoosh's ``AndNotMatcher`` compares the first candidate of ``a`` with the current
posting of ``b`` without first moving ``b`` up to it: when ``b`` starts on an earlier
passage, the first passage of ``a`` in each segment is kept even if ``b`` excludes it
(鉄道 -エネルギー returned a passage holding both). ``Excluding`` starts by skipping.

Whoosh's ``DisjunctionMaxMatcher`` scores the larger of its two sides' current scores
without asking which passage each side is on: where one side already stands on a later
passage, that passage's score is given to this one; and its ``replace`` drops the whole
matcher once either side runs out. ``BestOf`` scores only the sides on the current
passage and keeps the side that is left.
"""

from __future__ import annotations

from itertools import accumulate
from pickle import loads

from whoosh import matching
from whoosh.matching.binary import AndNotMatcher, DisjunctionMaxMatcher
from whoosh import query as wq
from whoosh.formats import Characters
from whoosh.query.spans import Span, SpanNear2
from whoosh.system import _INT_SIZE


class AdjacentPhrase(wq.Phrase):
    """``Phrase`` with ``slop=1`` (words adjacent, in order) and a faster matcher."""

    def __init__(self, fieldname: str, words: list[str], boost: float = 1.0) -> None:
        super().__init__(fieldname, words, slop=1, boost=boost)

    def matcher(self, searcher, context=None):
        field = searcher.schema[self.fieldname] if self.fieldname in searcher.schema else None
        if field is None or not field.format or not field.format.supports("positions"):
            return super().matcher(searcher, context)
        reader = searcher.reader()
        terms = []
        for word in self.words:
            try:
                word = field.to_bytes(word)
            except ValueError:
                return matching.NullMatcher()
            if (self.fieldname, word) not in reader:
                return matching.NullMatcher()  # a word the field never holds
            terms.append(wq.Term(self.fieldname, word))
        found = _AdjacentMatcher([term.matcher(searcher, context) for term in terms], field.format)
        return matching.WrappingMatcher(found, boost=self.boost) if self.boost != 1.0 else found


def _positions_reader(matcher, format):
    """A function giving the current posting's positions, decoded without the
    character offsets when the field stores both (our text fields do)."""
    if isinstance(format, Characters):
        return lambda: list(accumulate(code[0] for code in loads(_terminated(matcher.value())[_INT_SIZE:])))
    return lambda: matcher.value_as("positions")


def _terminated(value: bytes) -> bytes:
    # Whoosh strips the pickle's final STOP byte when it stores a value.
    return value if value.endswith(b".") else value + b"."


class _AdjacentMatcher(SpanNear2.SpanNear2Matcher):
    """Whoosh's phrase matcher with the per-passage check done on position sets."""

    def __init__(self, ms, format) -> None:
        self._format = format
        self._readers = [_positions_reader(m, format) for m in ms]
        super().__init__(ms, slop=1, ordered=True, mindist=1)

    def copy(self):
        return self.__class__([m.copy() for m in self.ms], self._format)

    def _get_spans(self) -> list[Span]:
        readers = self._readers
        starts = set(readers[0]())
        for offset in range(1, len(readers)):
            starts &= {position - offset for position in readers[offset]()}
            if not starts:
                return []
        last = len(readers) - 1
        return [Span(start, start + last) for start in sorted(starts)]


class Excluding(wq.AndNot):
    """``a ANDNOT b`` whose matcher checks the first candidate too."""

    def matcher(self, searcher, context=None):
        return _ExcludingMatcher(self.a.matcher(searcher, context), self.b.matcher(searcher, searcher.boolean_context()))


class _ExcludingMatcher(AndNotMatcher):
    def _find_first(self) -> None:
        if self.a.is_active():
            self._find_next()  # moves b up to a's first candidate before comparing


class Requiring(wq.Require):
    """``a`` where ``b`` matches too, scored by ``a`` alone (a filter)."""

    def matcher(self, searcher, context=None):
        return _RequiringMatcher(self.a.matcher(searcher, context), self.b.matcher(searcher, searcher.boolean_context()))


class _RequiringMatcher(matching.Matcher):
    """Whoosh's ``RequireMatcher`` is an intersection whose quality skipping trips on
    its own assertion when both sides stand on one passage; this one moves the two
    sides to a common passage after every step and never skips by quality."""

    def __init__(self, a, b) -> None:
        self.a, self.b = a, b
        self._agree()

    def _agree(self) -> None:
        a, b = self.a, self.b
        while a.is_active() and b.is_active() and a.id() != b.id():
            if a.id() < b.id():
                a.skip_to(b.id())
            else:
                b.skip_to(a.id())

    def is_active(self) -> bool:
        return self.a.is_active() and self.b.is_active()

    def id(self):
        return self.a.id()

    def next(self) -> None:
        self.a.next()
        self._agree()

    def skip_to(self, id) -> None:
        if self.a.id() < id:
            self.a.skip_to(id)
        self._agree()

    def score(self) -> float:
        return self.a.score()

    def weight(self) -> float:
        return self.a.weight()

    def value(self):
        return self.a.value()

    def supports(self, astype) -> bool:
        return self.a.supports(astype)

    def value_as(self, astype):
        return self.a.value_as(astype)

    def spans(self):
        return self.a.spans()

    def copy(self) -> "_RequiringMatcher":
        return self.__class__(self.a.copy(), self.b.copy())

    def children(self) -> list:
        return [self.a, self.b]

    def supports_block_quality(self) -> bool:
        return False

    def max_quality(self) -> float:
        return self.a.max_quality()

    def replace(self, minquality: float = 0):
        return self if self.is_active() else matching.NullMatcher()


class BestOf(wq.DisjunctionMax):
    """Any of the subqueries, scored by the best of those matching the passage."""

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        return self._tree_matcher(subs, _BestMatcher, searcher, context, lambda q: q.estimate_size(reader))


class _BestMatcher(DisjunctionMaxMatcher):
    def replace(self, minquality: float = 0):
        """Whoosh's gives up the whole matcher when either side runs out; here the other
        side carries on (the best of one is that one)."""
        a, b = self.a, self.b
        if minquality and a.is_active() and b.is_active() and max(a.max_quality(), b.max_quality()) < minquality:
            return matching.NullMatcher()
        a, b = a.replace(minquality), b.replace(minquality)
        if not a.is_active():
            return b
        if not b.is_active():
            return a
        return self.__class__(a, b) if a is not self.a or b is not self.b else self

    def score(self) -> float:
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        if a.id() != b.id():
            return a.score() if a.id() < b.id() else b.score()
        return max(a.score(), b.score())


class KeyedWeights(wq.Query):
    """Passages named by a keyword field's values, each scoring its weight (as a term of
    an unscored field, boosted, would). Built per segment as one sorted list: an Or of a
    term per passage made Whoosh size and sort every term on every pass."""

    def __init__(self, fieldname: str, weights: tuple[tuple[str, float], ...]) -> None:
        self.fieldname = fieldname
        self.weights = tuple(weights)
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyedWeights) and (other.fieldname, other.weights) == (self.fieldname, self.weights)

    def __hash__(self) -> int:
        return hash((self.fieldname, self.weights))

    def __repr__(self) -> str:
        return f"KeyedWeights({self.fieldname!r}, {len(self.weights)} values)"

    def is_leaf(self) -> bool:
        return True

    def normalize(self) -> "KeyedWeights":
        return self

    def estimate_size(self, ixreader) -> int:
        return len(self.weights)  # a passage id names one passage

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        found: dict[int, float] = {}
        for text, weight in self.weights:
            if (self.fieldname, text) in reader:
                for docnum in searcher.postings(self.fieldname, text).all_ids():  # deleted ones left out
                    found[docnum] = max(found.get(docnum, 0.0), weight)
        if not found:
            return matching.NullMatcher()
        ids = sorted(found)
        return matching.ListMatcher(ids, weights=[found[i] for i in ids])
