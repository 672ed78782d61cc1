"""The engine-neutral query: a small tree of our own that every engine compiles.

    querylang.parse  ->  Term / Phrase leaves (field, analyzed terms, boost)
                     ->  And / Or / Best / AndNot / Require / Every / Nothing
    search           ->  Keyed (translations joining the query: passage ids, weights)
                     ->  engines.<name>.compile -> the engine's own query objects

Leaves hold terms exactly as the analysis wrote them into the index, so an engine never
analyzes a query again. ``Phrase`` means the terms at consecutive positions, in order.
Nodes are frozen dataclasses: equal trees compare equal, which the search uses to tell
whether cross-lingual expansion changed anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    field: str
    terms: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class And:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Best:
    """Matches what any child matches, scored as its best child: children that mean the
    same thing (the counterparts of one word) count once."""

    children: tuple["Node", ...]


@dataclass(frozen=True)
class AndNot:
    """Matches of ``positive`` that ``negative`` does not match, scored as ``positive``."""

    positive: "Node"
    negative: "Node"


@dataclass(frozen=True)
class Require:
    """Matches of ``scored`` that ``required`` matches too, scored as ``scored`` alone:
    a filter (a title match counts on the document's first passage only)."""

    scored: "Node"
    required: "Node"


@dataclass(frozen=True)
class Keyed:
    """The passages whose keyword field (``pid``) holds one of these values, each scored
    by its weight: the aligned translations that join a query. One node instead of an Or
    of a term per passage, which Whoosh would rebuild as a tree of matchers per pass."""

    field: str
    weights: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Every:
    """Every passage (a query made only of exclusions starts from it)."""


@dataclass(frozen=True)
class Nothing:
    """Matches no passage (a prefix that expands to no word)."""


Node = Term | Phrase | And | Or | Best | AndNot | Require | Keyed | Every | Nothing


def leaf(field: str, terms: tuple[str, ...], boost: float = 1.0) -> Node:
    """A term, or a phrase when there are several.

    >>> leaf("body", ("天然", "ガス"))
    Phrase(field='body', terms=('天然', 'ガス'), boost=1.0)
    >>> leaf("body_reading", ())
    Nothing()
    """
    if not terms:  # a word that analyzes to nothing (combining marks alone) matches nothing
        return Nothing()
    if len(terms) == 1:
        return Term(field, terms[0], boost)
    return Phrase(field, tuple(terms), boost)


def any_of(children: list[Node]) -> Node:
    return children[0] if len(children) == 1 else Or(tuple(children))


def all_of(children: list[Node]) -> Node:
    return children[0] if len(children) == 1 else And(tuple(children))


def scaled(node: Node, factor: float) -> Node:
    """The same query with every leaf's boost (and every keyed weight) times ``factor``;
    what a negated part excludes is unchanged.

    >>> scaled(Or((Term("body", "a"), Term("body", "b", 2.0))), 0.5)
    Or(children=(Term(field='body', text='a', boost=0.5), Term(field='body', text='b', boost=1.0)))
    """
    if isinstance(node, (Term, Phrase)):
        return replace(node, boost=round(node.boost * factor, 4))
    if isinstance(node, (And, Or, Best)):
        return type(node)(tuple(scaled(child, factor) for child in node.children))
    if isinstance(node, AndNot):
        return AndNot(scaled(node.positive, factor), node.negative)
    if isinstance(node, Keyed):
        return Keyed(node.field, tuple((key, round(weight * factor, 4)) for key, weight in node.weights))
    return node
