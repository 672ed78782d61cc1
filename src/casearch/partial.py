"""Partial matching: when every word together finds (almost) nothing, the passages that
match most of them, like Elasticsearch's ``minimum_should_match`` or Meilisearch's
matching strategy.

    querylang.parse(relaxed=True)  the query's required words cut into ``Piece``s: each
                                   word, and each content word of a compound (投資額 ->
                                   投資, 額), a piece also matching where the whole word
                                   or its characters stand (so the phrase ranks first)
    needed                         the strict search found nothing (fewer than
                                   ``PARTIAL_BELOW`` passages, in any language) and
                                   there are at least two pieces
    tiers                          passages matching all the strong pieces, then all but
                                   one, then any one; within a tier BM25 ranks (more words
                                   and rarer words weigh more), weak pieces (question words
                                   like いくら, 何, what) only add a little to the score and
                                   are never required

``search`` ranks each tier below the one before (``_rank``), after the strict tiers, so
the strict matches stay first and in their order, and the facets count the last tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from . import querytree as qt
from .analysis import Token

# Widen when the strict search finds fewer passages than this, in every language. One:
# only when it finds none, so that a strict match is never diluted (天然ガス with one
# passage side by side does not list 天然 and ガス apart, as the query syntax promises).
PARTIAL_BELOW = 1
MAX_PIECES = 8  # a longer query that finds nothing is not widened ("all but one" is an OR of n ANDs)
WEAK_SHARE = 0.2  # a weak piece's share of the score of a strong one

# Words that ask rather than say: a passage that answers the question rarely contains them.
QUESTION_WORDS = frozenset(
    "何 なに なん いくら 幾ら 幾つ いくつ どこ 何処 いつ 何時 誰 だれ どう どの どれ どんな なぜ 何故 どうして"
    " どのくらい どれくらい どちら 如何 いかが"
    " what who whom whose when where which why how much many does did do can".split()
)
# Parts of speech that carry little of what a passage is about (UniDic pos1).
WEAK_POS = frozenset({"代名詞", "副詞", "連体詞", "接続詞", "感動詞", "接頭辞"})


@dataclass(frozen=True)
class Piece:
    """One word the partial search counts: its query, and whether it weighs little."""

    label: str
    query: qt.Node
    weak: bool = False


def is_weak(token: Token) -> bool:
    """Question words and function-like parts of speech.

    >>> from casearch.analysis import analyze
    >>> [is_weak(t) for t in analyze("貿易額はいくら") if not t.stop]
    [False, False, True]
    """
    return token.term in QUESTION_WORDS or token.norm in QUESTION_WORDS or token.pos in WEAK_POS


def needed(strict_everywhere: int, pieces: int) -> bool:
    """Whether the strict result is thin enough, and the query divisible, to widen it.
    ``strict_everywhere``: strict matches in every language (so the decision is the same
    whatever the language filter, and the facets agree between views). A query of more
    than ``MAX_PIECES`` words is not widened: its tiers would cost more than they tell."""
    return strict_everywhere < PARTIAL_BELOW and 2 <= pieces <= MAX_PIECES


def tiers(pieces: list[Piece], negative: qt.Node | None) -> list[qt.Node]:
    """Growing sets of passages: every strong piece, all but one, then any one (within
    that last tier BM25's sum already ranks more and rarer words first). Weak pieces are
    never required; they add ``WEAK_SHARE`` of their score where they match."""
    strong = [p.query for p in pieces if not p.weak] or [p.query for p in pieces]
    weak = [qt.scaled(p.query, WEAK_SHARE) for p in pieces if p.weak] if len(strong) < len(pieces) else []
    out: list[qt.Node] = []
    for k in sorted({len(strong), len(strong) - 1, 1} - {0}, reverse=True):
        at_least = qt.any_of([qt.all_of(list(chosen)) for chosen in combinations(strong, k)])
        # Every() matches each passage alike, so the weak words only add to the score.
        tier = qt.And((at_least, qt.Or((qt.Every(), *weak)))) if weak else at_least
        out.append(qt.AndNot(tier, negative) if negative is not None else tier)
    return out
