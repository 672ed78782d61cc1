"""Query language: the contract's syntax -> a Whoosh query plus what to highlight.

    NFKC -> lex (words, "phrases", ( ), OR, NOT, -w, field:, w*) -> parse (OR of ANDs)
         -> each word through the analyzer -> Term / Phrase per field -> Whoosh query

A run of text without spaces goes through the same analyzer as the documents, so the
query and the index agree on tokens. Inside a run, adjacent content tokens form a phrase
and particles or auxiliaries split it into parts that are ANDed (天然ガス is one phrase,
中国の鉄道 is 中国 AND 鉄道). A quoted phrase keeps its particles, in order. Syntax
errors (unbalanced quotes or brackets, a lone operator) make the whole query plain text.

Every positive leaf is also recorded as a ``Unit`` (field, terms) so that snippets can
mark exactly the phrases that matched, not stray occurrences of their parts.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from whoosh import query as wq

from . import analysis
from .errors import QueryError

FIELDS = ("title", "section", "body")
MAX_PREFIX_TERMS = 200
MAX_LEAVES = 64

_LEXEME = re.compile(
    r"""(?P<ws>\s+)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<quote>(?:(?P<qfield>title|section|body):)?"(?P<qtext>[^"]*)")
      | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_FIELD_PREFIX = re.compile(r"^(title|section|body):(?=.)")


@dataclass(frozen=True)
class Unit:
    """One thing to highlight: a term (1 item) or a phrase, in some fields."""

    fields: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass
class ParsedQuery:
    query: wq.Query | None  # None when nothing searchable is left
    units: list[Unit] = field(default_factory=list)
    stop_only: list[str] = field(default_factory=list)  # words made only of stop tokens
    dropped_terms: int = 0  # leaves left out past MAX_LEAVES


@dataclass(frozen=True)
class _Lex:
    kind: str  # word | phrase | lparen | rparen | or | not
    text: str = ""
    fields: tuple[str, ...] = FIELDS
    prefix: bool = False


class _SyntaxFallback(Exception):
    """The query is not well formed: search it as plain text."""


def parse(text: str, expand_prefix=None) -> ParsedQuery:
    """Parse a user query. ``expand_prefix(field, prefix) -> list[str]`` expands ``w*``."""
    text = unicodedata.normalize("NFKC", text)
    builder = _Builder(expand_prefix)
    try:
        lexemes = _lex(text)
        result = _Parser(lexemes, builder).parse()
    except _SyntaxFallback:
        builder = _Builder(expand_prefix)
        lexemes = [_Lex("word", w) for w in text.split()]
        result = _Parser(lexemes, builder).parse()
    return ParsedQuery(result, builder.units, builder.stop_only, builder.dropped)


def _lex(text: str) -> list[_Lex]:
    if text.count('"') % 2:
        raise _SyntaxFallback
    out: list[_Lex] = []
    for match in _LEXEME.finditer(text):
        kind = match.lastgroup
        if kind == "ws":
            continue
        if kind in ("lparen", "rparen"):
            out.append(_Lex(kind))
        elif match.group("quote"):
            qfield = match.group("qfield")
            out.append(_Lex("phrase", match.group("qtext"), (qfield,) if qfield else FIELDS))
        else:
            out.append(_word_lexeme(match.group("word")))
    return out


def _word_lexeme(word: str) -> _Lex:
    if word == "OR":
        return _Lex("or")
    if word == "NOT":
        return _Lex("not")
    if word.startswith("-") and len(word) > 1:
        return _Lex("not-word", word[1:])
    fields = FIELDS
    prefixed = _FIELD_PREFIX.match(word)
    if prefixed:
        fields = (prefixed.group(1),)
        word = word[prefixed.end() :]
    is_prefix = word.endswith("*") and len(word.rstrip("*")) > 0
    return _Lex("word", word.rstrip("*") if is_prefix else word, fields, is_prefix)


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary+."""

    def __init__(self, lexemes: list[_Lex], builder: "_Builder") -> None:
        self.lexemes = lexemes
        self.at = 0
        self.builder = builder

    def parse(self) -> wq.Query | None:
        if not self.lexemes:
            return None
        result = self._or()
        if self.at != len(self.lexemes):
            raise _SyntaxFallback  # a stray ")"
        return result

    def _peek(self) -> _Lex | None:
        return self.lexemes[self.at] if self.at < len(self.lexemes) else None

    def _or(self) -> wq.Query | None:
        parts = [self._and()]
        while (lex := self._peek()) is not None and lex.kind == "or":
            self.at += 1
            parts.append(self._and())
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else wq.Or(kept)

    def _and(self) -> wq.Query | None:
        positive: list[wq.Query] = []
        negative: list[wq.Query] = []
        seen_any = False
        while (lex := self._peek()) is not None and lex.kind not in ("or", "rparen"):
            seen_any = True
            negate, query = self._unary()
            if query is not None:
                (negative if negate else positive).append(query)
        if not seen_any:
            raise _SyntaxFallback  # "A OR", "( )" or a leading OR
        if not positive and not negative:
            return None
        base: wq.Query = wq.And(positive) if len(positive) > 1 else (positive[0] if positive else wq.Every())
        for query in negative:
            base = wq.AndNot(base, query)
        return base

    def _unary(self) -> tuple[bool, wq.Query | None]:
        lex = self.lexemes[self.at]
        self.at += 1
        if lex.kind == "not":
            if self._peek() is None or self._peek().kind in ("or", "rparen", "not"):
                raise _SyntaxFallback
            with self.builder.negated():
                _, query = self._unary()
            return True, query
        if lex.kind == "not-word":
            with self.builder.negated():
                return True, self.builder.word(_word_lexeme(lex.text))
        if lex.kind == "lparen":
            query = self._or()
            if self._peek() is None or self._peek().kind != "rparen":
                raise _SyntaxFallback
            self.at += 1
            return False, query
        if lex.kind == "rparen":
            raise _SyntaxFallback
        if lex.kind == "phrase":
            return False, self.builder.phrase(lex)
        return False, self.builder.word(lex)


class _Builder:
    """Turns analyzed words into Whoosh leaves and records highlight units."""

    def __init__(self, expand_prefix) -> None:
        self.expand_prefix = expand_prefix
        self.units: list[Unit] = []
        self.stop_only: list[str] = []
        self.dropped = 0
        self.leaves = 0
        self._negated = 0

    class _Negation:
        def __init__(self, builder: "_Builder") -> None:
            self.builder = builder

        def __enter__(self) -> None:
            self.builder._negated += 1

        def __exit__(self, *exc: object) -> None:
            self.builder._negated -= 1

    def negated(self) -> "_Builder._Negation":
        return _Builder._Negation(self)

    def word(self, lex: _Lex) -> wq.Query | None:
        tokens = [t for t in analysis.analyze(lex.text) if t.indexed]
        if lex.prefix and len(tokens) == 1:
            return self._prefix(lex.fields, tokens[0].term)
        groups = _content_groups(tokens)
        if not groups:
            if tokens:
                self.stop_only.append(lex.text)
            return None
        leaves = [self._leaf(lex.fields, tuple(t.term for t in group)) for group in groups]
        kept = [leaf for leaf in leaves if leaf is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else wq.And(kept)

    def phrase(self, lex: _Lex) -> wq.Query | None:
        tokens = [t for t in analysis.analyze(lex.text) if t.indexed]
        if not tokens:
            return None
        return self._leaf(lex.fields, tuple(t.term for t in tokens))

    def _leaf(self, fields: tuple[str, ...], terms: tuple[str, ...]) -> wq.Query | None:
        if self.leaves >= MAX_LEAVES:
            self.dropped += 1
            return None
        self.leaves += 1
        if not self._negated:
            self.units.append(Unit(fields, terms))
        if len(terms) == 1:
            per_field = [wq.Term(f, terms[0]) for f in fields]
        else:
            per_field = [wq.Phrase(f, list(terms)) for f in fields]
        return per_field[0] if len(per_field) == 1 else wq.Or(per_field)

    def _prefix(self, fields: tuple[str, ...], prefix: str) -> wq.Query | None:
        expanded: list[tuple[str, str]] = []
        for f in fields:
            terms = self.expand_prefix(f, prefix) if self.expand_prefix else []
            if len(terms) > MAX_PREFIX_TERMS:
                raise QueryError(
                    f"'{prefix}*' matches more than {MAX_PREFIX_TERMS} words; make the prefix longer",
                    param="q", code="query_too_complex",
                )
            expanded += [(f, t) for t in terms]
        if not expanded:
            return wq.NullQuery
        if not self._negated:
            for f, t in expanded:
                self.units.append(Unit((f,), (t,)))
        self.leaves += 1
        return wq.Or([wq.Term(f, t) for f, t in expanded])


def _content_groups(tokens: list[analysis.Token]) -> list[list[analysis.Token]]:
    """Split a run at stop tokens and at gaps in position; each group is a phrase."""
    groups: list[list[analysis.Token]] = []
    current: list[analysis.Token] = []
    for token in tokens:
        if token.stop:
            if current:
                groups.append(current)
            current = []
        else:
            current.append(token)
    if current:
        groups.append(current)
    return groups
