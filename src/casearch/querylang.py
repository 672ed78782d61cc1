"""Query language: the contract's syntax -> an engine-neutral query tree plus what to highlight.

    NFKC -> lex (words, "phrases", ( ), OR, NOT, -w, field:, w*) -> parse (OR of ANDs)
         -> each word through the analyzer -> Term / Phrase per field -> ``querytree``

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
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Protocol

from . import analysis
from . import querytree as qt
from .partial import Piece, is_weak
from .bridge import MAX_COUNTERPARTS, Counterpart
from .errors import QueryError
from .textnorm import is_kana, long_vowels_marked, reading_key, rendaku_readings, romaji_to_katakana, to_katakana

if TYPE_CHECKING:
    from .bridge import Bridge
    from .synonyms import Synonyms

FIELDS = ("title", "section", "body")
MAX_PREFIX_TERMS = 200
EXPANSION_BOOST = 0.3  # cross-lingual terms weigh less than the words the user typed
INTO_BOOST = 2.0  # ... but more when results are asked in the other language (confidences are mostly < 1)
USER_SYNONYM_BOOST = 0.5  # a word of the user's synonym group (corpus/_synonyms.tsv)
MAX_SYNONYMS = 2  # Japanese words reached through a shared English counterpart
PART_SHARE = 0.5  # a counterpart's single word (summit of "summit meeting") says less than all of it
MIN_SYNONYM = 0.25  # below this a bridged synonym is more likely another sense
MAX_LEAVES = 64
MAX_BOOST = 100.0  # word^N: N is clamped to [MIN_BOOST, MAX_BOOST]
MIN_BOOST = 0.01
FUNCTION_POS = frozenset({"接続詞"})  # besides stop tokens: が, から alone are tagged conjunctions
# Particles and auxiliaries, which MeCab tags as something else when they stand alone
# (まで as an interjection and で, より as an adverb, や as 嫌): a query word that is one
# of them is a function word whatever the tagger says.
FUNCTION_WORDS = frozenset(
    "の は が を に へ と で から まで より や か も ね よ な ぞ わ さ って など だけ しか ばかり ほど"
    " くらい ぐらい こそ でも ても ので のに けど けれど けれども ば たら なら ながら つつ て だ です"
    " ます ない ぬ ん れる られる せる させる たい らしい でしょう だろう".split()
)

_LEXEME = re.compile(
    r"""(?P<ws>\s+)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<quote>(?:(?P<qfield>title|section|body):)?"(?P<qtext>[^"]*)"(?:\^(?P<qboost>[0-9]+(?:\.[0-9]+)?))?)
      | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_FIELD_PREFIX = re.compile(r"^(title|section|body):(?=.)")
_BOOSTED = re.compile(r"^(?P<word>.+?)\^(?P<boost>[0-9]+(?:\.[0-9]+)?)$")
_JAPANESE = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")


@dataclass(frozen=True)
class Alternative:
    """One way a query part can match: these terms, adjacent, in this field."""

    field: str
    terms: tuple[str, ...]
    via: str  # surface | base | reading | ... (the contract's "matched" vocabulary)
    boost: float = 1.0
    searched: bool = True  # False: only used to explain and highlight a match
    counterpart: int | None = None  # which of the word's counterparts (None: the word itself)

    def query(self) -> qt.Node:
        return qt.leaf(self.field, self.terms, self.boost)


@dataclass(frozen=True)
class Unit:
    """One part of the query as the user wrote it, and the ways it may match."""

    label: str
    alternatives: tuple[Alternative, ...]


EnglishCheck = Callable[[str, str], bool]  # (Latin word, its romaji katakana) -> an English word?


class Vocabulary(Protocol):
    """What the parser may ask of the index."""

    def expand_prefix(self, field: str, prefix: str) -> Iterable[str]: ...

    def has_term(self, field: str, term: str) -> bool: ...


@dataclass
class ParsedQuery:
    query: qt.Node | None  # None when nothing searchable is left
    units: list[Unit] = field(default_factory=list)
    stop_only: list[str] = field(default_factory=list)  # words made only of stop tokens
    dropped_terms: int = 0  # leaves left out past MAX_LEAVES
    negated: bool = False  # the query excludes something (NOT, -word)
    language: str = "en"  # ja when the query has Japanese characters
    pieces: list[Piece] = field(default_factory=list)  # relaxed parse: the words partial matching counts
    negative: qt.Node | None = None  # relaxed parse: what the query excludes
    alternation: bool = False  # the query has an OR
    lowercase_or: bool = False  # "or" typed in lower case (a word, ANDed like any other)

    def crosses_into(self, lang: str | None) -> bool:
        """The query is written in one language and asks for results in the other."""
        return _crosses(self.language, lang)


@dataclass(frozen=True)
class _Lex:
    kind: str  # word | phrase | lparen | rparen | or | not
    text: str = ""
    fields: tuple[str, ...] = FIELDS
    prefix: bool = False
    boost: float = 1.0  # word^N, "phrase"^N


_OPERATOR_WORDS = frozenset({"OR", "NOT", "-"})


class _SyntaxFallback(Exception):
    """The query is not well formed: search it as plain text."""


def language_of(text: str) -> str:
    """ja when the text has Japanese characters, else en."""
    return "ja" if _JAPANESE.search(text) else "en"


def _crosses(language: str, into: str | None) -> bool:
    return into in ("ja", "en") and into != language


def parse(
    text: str, vocabulary: Vocabulary | None = None, bridge: Bridge | None = None, into: str | None = None,
    synonyms: Synonyms | None = None, relaxed: bool = False, english: EnglishCheck | None = None,
) -> ParsedQuery:
    """Parse a user query; ``vocabulary`` (the index) expands ``w*`` and vets romaji;
    ``bridge`` (None: no cross-lingual expansion) adds the other language's terms and
    the Japanese words that share them; ``into`` names the language the results are
    asked in (None: any); ``synonyms``: the user's groups (only with a bridge);
    ``english`` tells an English word from romaji (kite is not キテ). ``relaxed``: also
    cut the required words into the pieces partial matching counts (``partial``), each
    content word of a compound its own, and record the units that mark them."""
    text = unicodedata.normalize("NFKC", text)
    language = language_of(text)
    # Results asked in the other language: the counterparts are what is searched for,
    # as much as the words typed; else they weigh less than the words typed.
    boost = INTO_BOOST if _crosses(language, into) else EXPANSION_BOOST
    user = synonyms if bridge is not None else None
    builder = _Builder(vocabulary, bridge, boost, user, relaxed, english)
    try:
        lexemes = _lex(text)
        result = _Parser(lexemes, builder).parse()
    except _SyntaxFallback:
        builder = _Builder(vocabulary, bridge, boost, user, relaxed, english)
        # Operators left dangling ("A NOT", "A OR") are dropped, not searched as words.
        lexemes = [_Lex("word", w) for w in text.split() if w not in _OPERATOR_WORDS]
        result = _Parser(lexemes, builder).parse()
    return ParsedQuery(
        result, builder.units, builder.stop_only, builder.dropped, builder.negations > 0, language,
        builder.pieces, qt.any_of(builder.negatives) if builder.negatives else None, builder.alternation,
        any(lex.kind == "word" and lex.text.lower() == "or" for lex in lexemes),
    )


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
            boost = _boost(match.group("qboost")) if match.group("qboost") else 1.0
            out.append(_Lex("phrase", match.group("qtext"), (qfield,) if qfield else FIELDS, boost=boost))
        else:
            out.append(_word_lexeme(match.group("word")))
    return out


def _boost(text: str) -> float:
    """A boost as typed after ``^``, clamped to what ranking can use."""
    return min(max(float(text), MIN_BOOST), MAX_BOOST)


def _word_lexeme(word: str) -> _Lex:
    if word == "OR":
        return _Lex("or")
    if word == "NOT":
        return _Lex("not")
    if word.startswith("-") and len(word) > 1:
        return _Lex("not-word", word[1:])
    boosted = _BOOSTED.match(word)
    if boosted:
        inner = _word_lexeme(boosted.group("word"))
        if inner.kind == "word":
            return _Lex("word", inner.text, inner.fields, inner.prefix, _boost(boosted.group("boost")))
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

    def parse(self) -> qt.Node | None:
        if not self.lexemes:
            return None
        result = self._or()
        if self.at != len(self.lexemes):
            raise _SyntaxFallback  # a stray ")"
        return result

    def _peek(self) -> _Lex | None:
        return self.lexemes[self.at] if self.at < len(self.lexemes) else None

    def _or(self) -> qt.Node | None:
        parts = [self._and()]
        while (lex := self._peek()) is not None and lex.kind == "or":
            self.at += 1
            parts.append(self._and())
        kept = [p for p in parts if p is not None]
        if not kept:
            return None
        self.builder.alternation |= len(parts) > 1
        return qt.any_of(kept)

    def _and(self) -> qt.Node | None:
        positive: list[qt.Node] = []
        negative: list[qt.Node] = []
        seen_any = False
        while (lex := self._peek()) is not None and lex.kind not in ("or", "rparen"):
            seen_any = True
            phrase = self._english_phrase()
            if phrase is not None:
                positive.append(phrase)
                continue
            negate, query = self._unary()
            if query is not None:
                (negative if negate else positive).append(query)
        if not seen_any:
            raise _SyntaxFallback  # "A OR", "( )" or a leading OR
        if not positive and not negative:
            return None
        if not self.builder.in_negation:
            self.builder.negatives += negative
        base: qt.Node = qt.all_of(positive) if positive else qt.Every()
        for query in negative:
            base = qt.AndNot(base, query)
        return base

    def _english_phrase(self) -> qt.Node | None:
        """Three, then two, plain English words in a row that the bridge knows together."""
        if self.builder.bridge is None or self.builder.relaxed:
            return None  # relaxed, each word is a piece of its own
        for size in (3, 2):
            run = self.lexemes[self.at : self.at + size]
            if len(run) == size and all(_plain_english(lex) for lex in run):
                query = self.builder.english_phrase(run)
                if query is not None:
                    self.at += size
                    return query
        return None

    def _unary(self) -> tuple[bool, qt.Node | None]:
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
        before = len(self.builder.pieces)
        if self.builder.relaxed and lex.fields == FIELDS:
            # A partial match shows which words it has: in the body, where the snippet marks
            # them (a title word would list every passage of its document, unmarked).
            lex = replace(lex, fields=("body",))
        query = self.builder.phrase(lex) if lex.kind == "phrase" else self.builder.word(lex)
        return False, self.builder.weighed(lex, query, before)


class _Builder:
    """Turns analyzed words into query-tree leaves and records highlight units."""

    def __init__(
        self, vocabulary: "Vocabulary | None", bridge: "Bridge | None" = None, boost: float = EXPANSION_BOOST,
        synonyms: "Synonyms | None" = None, relaxed: bool = False, english: "EnglishCheck | None" = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.english = english
        self.relaxed = relaxed
        self.pieces: list[Piece] = []
        self.negatives: list[qt.Node] = []
        self.alternation = False
        self.bridge = bridge
        self.synonyms = synonyms
        self.expansion_boost = boost
        self.units: list[Unit] = []
        self.stop_only: list[str] = []
        self.dropped = 0
        self.leaves = 0
        self.negations = 0
        self._negated = 0

    @contextmanager
    def negated(self) -> Iterator[None]:
        self.negations += 1
        self._negated += 1
        try:
            yield
        finally:
            self._negated -= 1

    @property
    def in_negation(self) -> bool:
        return self._negated > 0

    def weighed(self, lex: _Lex, query: qt.Node | None, pieces_before: int) -> qt.Node | None:
        """A positive word's or phrase's query with its ``^N`` boost; relaxed, the word
        is one piece unless it was cut into several (a compound)."""
        if query is not None and self.relaxed and not self._negated and len(self.pieces) == pieces_before:
            self.pieces.append(Piece(lex.text, query, _all_weak(lex.text)))
        if lex.boost != 1.0 and query is not None:
            self.pieces[pieces_before:] = [Piece(p.label, qt.scaled(p.query, lex.boost), p.weak) for p in self.pieces[pieces_before:]]
            return qt.scaled(query, lex.boost)
        return query

    def word(self, lex: _Lex) -> qt.Node | None:
        everything = analysis.analyze(lex.text)
        tokens = [t for t in everything if t.indexed]
        if lex.prefix and len(tokens) == 1:
            return self._prefix(lex.fields, tokens[0].term)
        loanword = self._loanword(lex.text)
        if lex.text in FUNCTION_WORDS or tokens and not loanword and all(
            _function_word(t) for t in everything if t.indexed or is_kana(t.surface)
        ):
            # Particles, auxiliaries and conjunctions alone say nothing to search for
            # (が or から alone are tagged conjunctions; の, は particles): one rule for
            # all. Kana MeCab could not read (せい of せいゆじょ) may be a word: its reading is.
            self.stop_only.append(lex.text)
            return None
        # A run that starts with a particle or a symbol starts inside a word (ン鉄道 of
        # ウズベキスタン鉄道): only its characters are searched, never the words after it.
        fragment = _starts_inside_word(everything, lex.text)
        groups = [] if fragment else _content_groups(tokens)
        # The whole word is also looked up by its reading when it is kana (MeCab may take
        # a kana word for particles) and by its characters, which finds it where the
        # query and the text were segmented differently.
        function_words_only = not groups and all(t.stop for t in everything if is_kana(t.surface)) and not loanword
        reading = [] if function_words_only else self._reading_alternatives(lex.text, lex.fields, tokens)
        # Particles inside a quoted phrase are one character by nature, not a sign of a bad split.
        oddly = fragment or _oddly_split([t for t in everything if not t.stop])
        ngram = self._ngram_alternative(lex.text, lex.fields) if oddly else None
        whole = ([ngram] if ngram else []) + reading + self._loanword_alternatives(loanword, lex.fields)
        if not groups and not whole:
            if tokens:
                self.stop_only.append(lex.text)
            return None
        if self.leaves >= MAX_LEAVES:
            self.dropped += max(1, len(groups))
            return None
        if self.relaxed and not self._negated and sum(map(len, groups)) > 1:
            return self._pieces_of_compound(lex, groups, whole)
        if not groups:
            return self._record(lex.text, whole)
        if len(groups) == 1:
            return self._record(lex.text, self._morph_alternatives(groups[0], lex.fields) + whole)
        parts = [self._record(_label(lex.text, g), self._morph_alternatives(g, lex.fields)) for g in groups]
        if not whole:
            return qt.all_of(parts)
        return qt.Or((qt.all_of(parts), self._record(lex.text, whole)))

    def _pieces_of_compound(self, lex: _Lex, groups: list[list[analysis.Token]], whole: list[Alternative]) -> qt.Node:
        """Relaxed: each content word of a compound (投資額 -> 投資, 額) is a piece,
        which also matches where the whole phrase or the word's characters stand, so
        that those rank first when a partial search counts the pieces."""
        literal = self._ngram_alternative(lex.text, lex.fields)
        extra = whole + ([literal] if literal is not None and literal not in whole else [])
        around = [self._record(lex.text, extra)] if extra else []
        pieces: list[Piece] = []
        for group in groups:
            # The group side by side, unless the word's characters already say it (one group).
            adjacent = len(group) > 1 and (len(groups) > 1 or literal is None)
            phrase = [self._record(_label(lex.text, group), self._morph_alternatives(group, lex.fields))] if adjacent else []
            for token in group:
                # A part's own counterparts are too loose (額 -> frame -> 枠組み): the
                # compound's are in ``phrase`` and ``around``.
                own = self._record(_label(lex.text, [token]), self._morph_alternatives([token], lex.fields, expand=False))
                pieces.append(Piece(token.surface, qt.any_of([own, *phrase, *around]), is_weak(token)))
        self.pieces += pieces
        return qt.any_of([piece.query for piece in pieces])

    def _loanword(self, text: str) -> tuple[str, ...]:
        """The index terms of a loanword typed in hiragana (たいとる, つうる: タイトル,
        ツール), which MeCab would read as particles and auxiliaries (た, いる); empty
        when the text is not kana or its katakana form is not words of the index."""
        spoken = "".join(c for c in text if c not in "・=")
        if self.vocabulary is None or not is_kana(spoken) or spoken == to_katakana(spoken):
            return ()
        katakana = to_katakana(spoken)
        for written in dict.fromkeys((katakana, long_vowels_marked(katakana))):
            tokens = [t for t in analysis.analyze(written) if t.indexed]
            if tokens and all(not t.stop and self.vocabulary.has_term("body", t.term) for t in tokens):
                return tuple(t.term for t in tokens)
        return ()

    def _loanword_alternatives(self, terms: tuple[str, ...], fields: tuple[str, ...]) -> list[Alternative]:
        """A loanword typed in hiragana is searched as its katakana words too: in titles
        and headings (which have no reading field), and through the bridge."""
        if not terms:
            return []
        found = [Alternative(f, terms, "reading") for f in fields]
        return found + (self.expansions(terms) if "body" in fields else [])

    def phrase(self, lex: _Lex) -> qt.Node | None:
        tokens = [t for t in analysis.analyze(lex.text) if t.indexed]
        if not tokens:
            return None
        if self.leaves >= MAX_LEAVES:
            self.dropped += 1
            return None
        ngram = self._ngram_alternative(lex.text, lex.fields)
        return self._record(lex.text, self._morph_alternatives(tokens, lex.fields) + ([ngram] if ngram else []))

    def _morph_alternatives(
        self, group: list[analysis.Token], fields: tuple[str, ...], expand: bool = True
    ) -> list[Alternative]:
        """A phrase (or term) of analyzed tokens, as base forms and as surface forms, and
        (``expand``) their counterparts."""
        terms, norms = tuple(t.term for t in group), tuple(t.norm for t in group)
        alternatives = [Alternative(f, terms, "base") for f in fields]
        if "body" in fields:
            # Written forms rank an exact spelling first; where they equal the base forms
            # (most Japanese nouns) they would match the same passages, so they are not
            # searched. An English stem that is also a word (railway) gathers other
            # spellings (railways), so English words are always searched as written.
            english = any(t.pos == "英単語" for t in group)
            alternatives.append(Alternative("body_surface", norms, "surface", searched=norms != terms or english))
            alternatives += self.expansions(terms, "".join(t.surface for t in group), fields) if expand else []
        return alternatives

    def expansions(self, terms: tuple[str, ...], written: str = "", fields: tuple[str, ...] = FIELDS) -> list[Alternative]:
        """The other language's phrases for these terms, weighted below direct matches
        and each by the bridge's confidence in it (BM25's idf adds its rarity in the
        target language), so that a passage about the likeliest counterpart ranks first.
        A Japanese word the corpus's bridge does not know (``written``) is looked up in
        the dictionary. Then the word's synonyms (``_synonyms``)."""
        if self.bridge is None:
            return []
        counterparts = self.bridge.counterparts(terms)
        japanese = bool(written) and bool(_JAPANESE.search(written)) and "body" in fields
        shared = self._shared_counterparts(terms, written, counterparts, _meaning_words(counterparts)) if japanese else []
        if not counterparts and japanese:
            looked_up = self.bridge.looked_up(written)
            counterparts = [c for c in looked_up if self._in_index(c)][:MAX_COUNTERPARTS]
            shared = self._shared_counterparts(terms, written, looked_up, _meaning_words(looked_up))
            # A dictionary sense the index does not hold whole (summit meeting) is searched
            # as the word it shares with a Japanese word of the index (summit: サミット).
            for _, score, key in shared:
                if len(counterparts) < MAX_COUNTERPARTS and all(c.terms != key for c in counterparts):
                    counterparts.append(Counterpart("body", key, "dictionary", "", score))
        alternatives = self._counterpart_alternatives(counterparts)
        return alternatives + self._synonyms(terms, fields, [(j, score) for j, score, _ in shared], len(counterparts))

    def _counterpart_alternatives(self, counterparts: list[Counterpart]) -> list[Alternative]:
        alternatives: list[Alternative] = []
        for place, counterpart in enumerate(counterparts):
            boost = round(self.expansion_boost * counterpart.confidence, 4)
            alternatives.append(Alternative(counterpart.field, counterpart.terms, counterpart.via, boost, counterpart=place))
            if place == 0 and counterpart.field == "body":
                # A heading naming the likeliest counterpart says what the passage is
                # about; it weighs much (headings are short and count double), so doubt
                # counts twice.
                heading_boost = round(boost * counterpart.confidence, 4)
                alternatives.append(Alternative("section", counterpart.terms, counterpart.via, heading_boost, counterpart=place))
            spelled = counterpart.written.lower()
            if place == 0 and spelled.isascii() and spelled.isalpha():
                # The likeliest English word as written ranks its exact spelling first, as
                # typed words do (one more posting list, so for that one only).
                alternatives.append(Alternative("body_surface", (spelled,), counterpart.via, boost, counterpart=place))
        return alternatives

    def _synonyms(
        self, terms: tuple[str, ...], fields: tuple[str, ...], shared: list[tuple[Counterpart, float]], place: int
    ) -> list[Alternative]:
        """The user's synonyms of the word (in the fields it is searched in), and the
        Japanese words that share an English counterpart with it (``_shared_counterparts``).
        Each counts as one more counterpart of the word (``_record`` scores the best one)."""
        found: list[Alternative] = []
        for member in self.synonyms.of(terms) if self.synonyms is not None else []:
            found += [Alternative(f, member.terms, "synonym", USER_SYNONYM_BOOST, counterpart=place) for f in fields]
            place += 1
        for synonym, score in shared:
            found.append(Alternative(synonym.field, synonym.terms, "synonym", round(EXPANSION_BOOST * score, 4), counterpart=place))
            place += 1
        return found

    def _shared_counterparts(
        self, terms: tuple[str, ...], written: str, counterparts: list[Counterpart], parts: frozenset[str] = frozenset()
    ) -> list[tuple[Counterpart, float, tuple[str, ...]]]:
        """Japanese words of the index that share an English counterpart with a Japanese
        word, with how sure that is (both confidences); the best few, and the English
        terms they share. One word of a counterpart that may carry the meaning on its own
        (``parts``) is enough, at half the confidence: 首脳会議 -> summit meeting ->
        summit -> サミット."""
        assert self.bridge is not None
        scored: dict[tuple[str, tuple[str, ...]], tuple[float, Counterpart, tuple[str, ...]]] = {}
        for english in counterparts:
            if english.field != "body" or _JAPANESE.search("".join(english.terms)):
                continue
            keys = [english.terms] + ([(t,) for t in english.terms if t in parts] if len(english.terms) > 1 else [])
            for key in keys:
                share = 1.0 if key == english.terms else PART_SHARE
                for japanese in self.bridge.counterparts(key):
                    same = japanese.terms == terms or japanese.written == written
                    if same or not _JAPANESE.search(japanese.written or "".join(japanese.terms)):
                        continue
                    score = english.confidence * japanese.confidence * share
                    best = scored.get((japanese.field, japanese.terms))
                    if score >= MIN_SYNONYM and (best is None or score > best[0]) and self._in_index(japanese):
                        scored[(japanese.field, japanese.terms)] = (score, japanese, key)
        ranked = sorted(scored.values(), key=lambda found: -found[0])[:MAX_SYNONYMS]
        return [(japanese, score, key) for score, japanese, key in ranked]

    def _in_index(self, counterpart: Counterpart) -> bool:
        """Whether the index holds every term of a counterpart (its field's terms)."""
        if self.vocabulary is None:
            return True
        return all(self.vocabulary.has_term(counterpart.field, t) for t in counterpart.terms)

    def english_phrase(self, lexemes: list[_Lex]) -> qt.Node | None:
        """Several plain English words that the bridge knows as one phrase (natural gas):
        the words ANDed, or the phrase's counterparts."""
        text = " ".join(lex.text for lex in lexemes)
        terms = tuple(t.term for t in analysis.analyze(text) if t.indexed and not t.stop)
        expansions = self.expansions(terms)
        if not expansions:
            return None
        direct = [q for q in (self.word(lex) for lex in lexemes) if q is not None]
        if not direct:
            return None
        return qt.Or((qt.all_of(direct), self._record(text, expansions)))

    def _ngram_alternative(self, text: str, fields: tuple[str, ...]) -> Alternative | None:
        written = _only_japanese(unicodedata.normalize("NFKC", text))
        if "body" not in fields or len(written) < 2 or len(written) != len(text.strip()):
            return None
        return Alternative("body_ngram", tuple(analysis.query_grams(written)), "surface")

    def _reading_alternatives(
        self, text: str, fields: tuple[str, ...], tokens: list[analysis.Token]
    ) -> list[Alternative]:
        """Kana (or romaji) words are also looked up by reading: てつどう finds 鉄道, and
        ぐろーばるさうす (or ぐろおばる・さうす) finds グローバル・サウス; a long one also
        with a voiced mora read as rendaku (``rendaku_readings``)."""
        key = self._reading_key(text, fields, tokens)
        if key is None:
            return []
        return [Alternative("body_reading", tuple(analysis.query_grams(form)), "reading") for form in rendaku_readings(key)]

    def _reading_key(self, text: str, fields: tuple[str, ...], tokens: list[analysis.Token]) -> str | None:
        if "body" not in fields or len(text) < 2:
            return None
        spoken = "".join(c for c in text if c not in "・=")  # a compound's dot is not read
        if is_kana(spoken) and len(spoken) >= 2:
            return reading_key(to_katakana(spoken))
        if text.isascii() and text.isalpha() and len(text) >= 4 and len(tokens) == 1:
            if self.vocabulary is not None and self.vocabulary.has_term("body", tokens[0].term):
                return None  # an English word the corpus knows: not romaji
            katakana = romaji_to_katakana(text)
            if katakana and self.english is not None and self.english(text.lower(), katakana):
                return None  # an English word of the dictionary (kite): not romaji
            if katakana and len(katakana) >= 2:
                return reading_key(katakana)
        return None

    def _record(self, label: str, alternatives: list[Alternative]) -> qt.Node:
        """The unit's query: the word's own alternatives summed (fields add up, as in
        BM25F), and its counterparts as one: each counterpart's alternatives summed, the
        best counterpart counted (a passage naming two translations of the word is not
        twice about it: 一帯一路 -> Belt and Road Initiative, BRI)."""
        self.leaves += 1
        if not self._negated:
            self.units.append(Unit(label, tuple(alternatives)))
        searched = [a for a in alternatives if a.searched]
        queries = [a.query() for a in searched if a.counterpart is None]
        groups: dict[int, list[qt.Node]] = {}
        for a in searched:
            if a.counterpart is not None:
                groups.setdefault(a.counterpart, []).append(a.query())
        if len(groups) > 1:
            queries.append(qt.Best(tuple(qt.any_of(group) for group in groups.values())))
        elif groups:
            queries.append(qt.any_of(next(iter(groups.values()))))
        return qt.any_of(queries)

    def _prefix(self, fields: tuple[str, ...], prefix: str) -> qt.Node | None:
        alternatives: list[Alternative] = []
        for f in fields:
            terms = list(islice(self.vocabulary.expand_prefix(f, prefix), MAX_PREFIX_TERMS + 1)) if self.vocabulary else []
            if len(terms) > MAX_PREFIX_TERMS:
                raise QueryError(
                    f"'{prefix}*' matches more than {MAX_PREFIX_TERMS} words; make the prefix longer",
                    param="q", code="query_too_complex",
                )
            alternatives += [Alternative(f, (t,), "base") for t in terms]
        if not alternatives:
            return qt.Nothing()
        return self._record(prefix + "*", alternatives)


def _meaning_words(senses: list[Counterpart]) -> frozenset[str]:
    """The words of a word's English senses that may carry its meaning on their own.
    Where the senses agree on a word, that word is what it means and the others only
    qualify it (駅: railway station, train station -> station, not railway); where they
    share none, any word may (首脳会議: summit meeting, top-level conference)."""
    words = [set(c.terms) for c in senses if c.field == "body"]
    if not words:
        return frozenset()
    common = set.intersection(*words) if len(words) > 1 else set()
    return frozenset(common or set().union(*words))


def _oddly_split(tokens: list[analysis.Token]) -> bool:
    """Whether MeCab's split of a query word looks unreliable (unknown words, one-character
    pieces, symbols), so that the word is also searched by its characters. A word split
    into known words is split the same way in the text, and character bigram phrases are
    the costliest queries Whoosh runs, so they are kept for the words that need them."""
    japanese = [t for t in tokens if _JAPANESE.search(t.surface)]
    return any(len(t.surface) == 1 or not t.indexed or t.unknown or t.reading is None for t in japanese)


def _function_word(token: analysis.Token) -> bool:
    """A particle, auxiliary, dependent verb or conjunction (never searched alone)."""
    return token.stop or token.pos in FUNCTION_POS


def _starts_inside_word(tokens: list[analysis.Token], text: str) -> bool:
    """Whether a run with kanji or katakana begins with a particle or an auxiliary before
    its content: MeCab read the start of a cut word (ン of タン) as one. Runs of hiragana
    are left to the reading paths; a first piece MeCab calls a symbol (テツ of an unknown
    テツロン) may start a real word, and is searched as before (content words, and the
    characters since the split is odd)."""
    if not tokens or all("\u3041" <= c <= "\u309f" for c in text):
        return False
    first = tokens[0]
    if not _JAPANESE.search(first.surface) or not first.indexed or not _function_word(first):
        return False
    return any(t.indexed and not _function_word(t) for t in tokens[1:])


def _all_weak(text: str) -> bool:
    tokens = [t for t in analysis.analyze(text) if t.indexed and not t.stop]
    return bool(tokens) and all(is_weak(t) for t in tokens)


def _plain_english(lex: _Lex) -> bool:
    return lex.kind == "word" and lex.fields == FIELDS and not lex.prefix and lex.text.isascii()


def _label(text: str, group: list[analysis.Token]) -> str:
    return text[group[0].start : group[-1].end]


def _only_japanese(text: str) -> str:
    return "".join(_JAPANESE.findall(text))


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
