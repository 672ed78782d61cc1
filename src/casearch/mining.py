"""Mining: term pairs the corpus teaches itself at reindex time, each with a confidence.

    profile          a document's content terms per section (Japanese: base forms and
                     noun + noun compounds, and apart the English words it writes;
                     English: lower-case words), gathered passage by passage
                     (``ProfileBuilder``), kept in the index on the document's profile
                     record so that an incremental reindex can mine over every
                     document, not only the changed ones
    aligned_units    a document and its translation -> units of text that say the same
                     thing: section by section when both have as many sections, else the
                     two whole documents; English words the Japanese side writes too
                     (code: int, const, include) are left out: they are not translated
    associate        co-occurrence over the aligned units -> per (Japanese, English) pair
                     the Dice coefficient and the log-likelihood ratio G²; a pair is kept
                     when it is seen in several units, is far above chance (G²), and each
                     term is among the other's few best partners           (via "mined")
    transliterate    katakana words of the Japanese documents matched by sound to the
                     English documents' words (``transliteration``: ファイル ~ file,
                     ディレクトリ ~ directory; English words of four or more letters
                     with a vowel), then, where aligned units hold both words, a check
                     that they meet in a tenth of them (Dice); a pair no unit can check
                     must sound closer and is trusted half  (via "transliteration")

Everything here is pure Python over term sets; no I/O and no index access.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from . import transliteration
from .analysis import ENGLISH_STOP_WORDS, Token
from .textnorm import is_katakana

MIN_UNITS = 2  # a pair must co-occur in at least this many aligned units
MIN_ALIGNED = 30  # fewer aligned units than this are too few to tell association from chance
MIN_G2 = 10.83  # log-likelihood ratio at p < 0.001 (one degree of freedom)
MIN_DICE = 0.15
BEST_PARTNERS = 3  # a pair is kept only among the best few partners of both its terms
NEAR_BEST = 0.6  # ... and only when its Dice is at least this share of each term's best
MIN_TRANSLITERATION_DICE = 0.1  # where aligned units hold both words, they must meet this often
UNATTESTED = 0.5  # a transliteration no aligned unit can check is trusted this much less
UNATTESTED_SPELLING = 0.8  # ... and is kept only when it sounds this close
MAX_CELLS = 60_000  # units with more term combinations than this teach little and cost much

_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞"})
_JAPANESE = re.compile(r"[\u3041-\u309f\u30a1-\u30ff\u3400-\u4dbf\u4e00-\u9fff々]")
_DIGIT = re.compile(r"[0-9０-９]")


@dataclass(frozen=True)
class Mined:
    """One learned bridge: a Japanese term (or compound, space-separated terms), an
    English word, how it was found, and a confidence in 0..1."""

    ja: str
    en: str
    via: str
    confidence: float


# --- profiles ---------------------------------------------------------------------


def japanese_terms(tokens: Sequence[Token]) -> list[str]:
    """Content terms of Japanese text, and adjacent noun + noun compounds ("構造 体").

    >>> from casearch.analysis import analyze
    >>> japanese_terms(analyze("構造体の引数を作成する"))
    ['構造', '体', '構造 体', '引数', '作成']
    """
    terms: list[str] = []
    previous: Token | None = None
    for token in tokens:
        content = token.indexed and not token.stop and token.pos in _CONTENT_POS and bool(_JAPANESE.search(token.surface))
        if not content or _DIGIT.search(token.surface):
            previous = None
            continue
        terms.append(token.term)
        if previous is not None and previous.end == token.start and previous.pos == token.pos == "名詞":
            terms.append(f"{previous.term} {token.term}")
        previous = token
    return terms


def english_words(tokens: Sequence[Token]) -> list[str]:
    """Lower-case content words of English text (stop words and short words left out)."""
    return [t.norm for t in tokens
            if t.pos == "英単語" and not t.stop and len(t.norm) > 2 and t.norm.isalpha() and t.norm not in ENGLISH_STOP_WORDS]


def profile_terms(tokens: Sequence[Token], lang: str) -> list[str]:
    """The distinct terms of one section, as mining needs them for its language."""
    return sorted(set(japanese_terms(tokens) if lang == "ja" else english_words(tokens)))


def profile(lang: str, translations: Sequence[str], sections: Sequence[Sequence[Token]]) -> "Profile":
    """A document's profile from its tokens, section by section."""
    builder = ProfileBuilder(lang, translations)
    for number, tokens in enumerate(sections, start=1):
        builder.add(number, tokens)
    return builder.build()


class ProfileBuilder:
    """A profile gathered passage by passage: only term sets are kept between passages,
    never tokens, so a huge document costs its vocabulary, not its length.

    >>> from casearch.analysis import analyze
    >>> builder = ProfileBuilder("ja", ())
    >>> builder.add(1, analyze("引数を渡す"))
    >>> builder.add(1, analyze("引数の型"))
    >>> builder.build().sections
    (('型', '引数', '渡す'),)
    """

    def __init__(self, lang: str, translations: Sequence[str]) -> None:
        self.lang = lang
        self.translations = tuple(translations)
        self.terms: dict[int, set[str]] = defaultdict(set)
        self.shared: dict[int, set[str]] = defaultdict(set)
        self.names: set[str] = set()

    def add(self, section: int, tokens: Sequence[Token]) -> None:
        """One passage's tokens (a section may come in several passages)."""
        self.terms[section].update(japanese_terms(tokens) if self.lang == "ja" else english_words(tokens))
        if self.lang == "ja":
            self.shared[section].update(english_words(tokens))
            self.names.update(t.term for t in tokens if is_katakana(t.term) and not is_katakana(t.surface))

    def build(self) -> "Profile":
        numbers = sorted(self.terms)
        terms = tuple(tuple(sorted(self.terms[n])) for n in numbers)
        if self.lang != "ja":
            return Profile(self.lang, self.translations, terms)
        shared = tuple(tuple(sorted(self.shared[n])) for n in numbers)
        return Profile(self.lang, self.translations, terms, shared, tuple(sorted(self.names)))


# --- aligned units ------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    lang: str
    translations: tuple[str, ...]
    sections: tuple[tuple[str, ...], ...]
    # Japanese documents: the English words written in each section (code, option and
    # function names), which the translation carries over as they are: not translations.
    shared: tuple[tuple[str, ...], ...] = ()
    # Terms whose katakana lemma stands for a word written otherwise (西安 -> セイアン,
    # 北京 -> ペキン): names read the Japanese way, not loanwords to transliterate.
    not_loanwords: tuple[str, ...] = ()


def aligned_units(profiles: Mapping[str, Profile], stem: Callable[[str], str] = str) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(Japanese terms, English stems) of text that says the same in both languages."""
    units: list[tuple[frozenset[str], frozenset[str]]] = []
    for doc_id, profile in sorted(profiles.items()):
        if profile.lang != "ja":
            continue
        for other in profile.translations:
            english = profiles.get(other)
            if english is None or english.lang != "en":
                continue
            units += _units_of(profile, english, stem)
    return units


def _units_of(ja: Profile, en: Profile, stem: Callable[[str], str]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Section by section when the counts agree, else the whole documents; either way
    without the English words the Japanese side writes too (int, const, include)."""
    english = [frozenset(stem(w) for w in section) for section in en.sections]
    shared = [frozenset(stem(w) for w in section) for section in ja.shared]
    if len(ja.sections) == len(en.sections):
        if len(shared) != len(english):
            shared = [frozenset()] * len(english)
        pairs = [(frozenset(a), b - c) for a, b, c in zip(ja.sections, english, shared)]
        return [(a, b) for a, b in pairs if a and b]
    whole = (frozenset().union(*ja.sections), frozenset().union(*english) - frozenset().union(*shared))
    return [whole] if whole[0] and whole[1] else []


# --- association ------------------------------------------------------------------


def _g2(both: int, ja_only: int, en_only: int, neither: int) -> float:
    """Dunning's log-likelihood ratio of a 2x2 contingency table."""

    def entropy_sum(*counts: int) -> float:
        total = sum(counts)
        return sum(c * math.log(c / total) for c in counts if c)

    rows = entropy_sum(both + ja_only, en_only + neither)
    cols = entropy_sum(both + en_only, ja_only + neither)
    cells = entropy_sum(both, ja_only, en_only, neither)
    return 2 * (cells - rows - cols)


def _frequencies(units: Sequence[tuple[frozenset[str], frozenset[str]]]) -> tuple[Counter, Counter]:
    ja_df: Counter = Counter()
    en_df: Counter = Counter()
    for ja, en in units:
        ja_df.update(ja)
        en_df.update(en)
    return ja_df, en_df


def cooccurrences(units: Sequence[tuple[frozenset[str], frozenset[str]]]) -> tuple[Counter, Counter, Counter]:
    """Unit frequencies of each side's terms, and of each (ja, en) combination. Terms
    seen in one unit only cannot reach MIN_UNITS and are left out before counting."""
    ja_df, en_df = _frequencies(units)
    pairs: Counter = Counter()
    for ja, en in units:
        ja_kept = [t for t in ja if ja_df[t] >= MIN_UNITS]
        en_kept = [w for w in en if en_df[w] >= MIN_UNITS]
        if len(ja_kept) * len(en_kept) > MAX_CELLS:
            continue
        for term in ja_kept:
            pairs.update((term, word) for word in en_kept)
    return ja_df, en_df, pairs


def associate(units: Sequence[tuple[frozenset[str], frozenset[str]]]) -> list[Mined]:
    """Pairs far more frequent together than apart, best partners of each other. The
    confidence is the Dice coefficient, discounted when few units attest it
    (n / (n + 2) for n units together)."""
    total = len(units)
    if total < MIN_ALIGNED:
        return []
    ja_df, en_df, together = cooccurrences(units)
    scored: dict[tuple[str, str], float] = {}
    for (term, word), both in together.items():
        if both < MIN_UNITS:
            continue
        ja_only, en_only = ja_df[term] - both, en_df[word] - both
        dice = 2 * both / (ja_df[term] + en_df[word])
        if dice < MIN_DICE or both * total <= ja_df[term] * en_df[word]:  # at or below chance
            continue
        if _g2(both, ja_only, en_only, total - both - ja_only - en_only) >= MIN_G2:
            scored[(term, word)] = dice
    kept = _best_of_both(scored)
    return [Mined(term, word, "mined", round(dice * together[(term, word)] / (together[(term, word)] + 2), 3))
            for (term, word), dice in sorted(kept.items())]


def _best_of_both(scored: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    """Keep a pair only when it is among the best partners of its Japanese term and of
    its English word: one of the BEST_PARTNERS first, and near the best (a frequent word
    co-occurs with everything but is nobody's best; a word that merely shares pages with
    a term's translation scores well below it)."""
    by_ja: dict[str, list[tuple[float, str]]] = defaultdict(list)
    by_en: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (term, word), dice in scored.items():
        by_ja[term].append((dice, word))
        by_en[word].append((dice, term))
    top_ja = {term: _near_best(partners) for term, partners in by_ja.items()}
    top_en = {word: _near_best(partners) for word, partners in by_en.items()}
    return {(t, w): d for (t, w), d in scored.items() if w in top_ja[t] and t in top_en[w]}


def _near_best(partners: list[tuple[float, str]]) -> set[str]:
    ranked = sorted(partners, reverse=True)[:BEST_PARTNERS]
    return {name for dice, name in ranked if dice >= NEAR_BEST * ranked[0][0]}


# --- transliteration ----------------------------------------------------------------


def transliterations(
    katakana: Iterable[str], english: Iterable[str] | Mapping[str, int],
    units: Sequence[tuple[frozenset[str], frozenset[str]]] = (), stem: Callable[[str], str] = str,
) -> list[Mined]:
    """Katakana words matched to English words of the corpus by sound (``transliteration``),
    then checked against the aligned units: where they hold both words, the words must
    occur together; among several candidates the one that co-occurs most wins
    (ファイル sounds like both file and fail; the aligned pages say file)."""
    evidence = Cooccurrence(units).dice
    used = english if isinstance(english, Mapping) else dict.fromkeys(english, 1)
    found: list[Mined] = []
    for term, near in transliteration.candidates(katakana, used).items():
        scored = []
        for spelling, word in near:
            if not _word_like(word):
                continue
            dice = evidence(term, stem(word))
            if dice is None:  # no aligned unit holds both: the sound alone, if close, trusted less
                if spelling >= UNATTESTED_SPELLING:
                    scored.append((spelling * UNATTESTED, spelling * UNATTESTED, word))
            elif dice >= MIN_TRANSLITERATION_DICE:
                scored.append((spelling + dice, spelling, word))
        if scored:
            spelling, word = _likeliest(scored, used)
            found.append(Mined(term, word, "transliteration", round(spelling, 3)))
    return found


def _word_like(word: str) -> bool:
    """An English word a loanword can come from: letters only, a vowel, four or more
    letters (sch, stmt and ksyms share frames with katakana words by accident)."""
    return len(word) >= 4 and word.isalpha() and any(v in word for v in "aeiouy")


def _likeliest(scored: list[tuple[float, float, str]], used: Mapping[str, int]) -> tuple[float, str]:
    """The best-scored candidate; among those close to it, the word more documents use
    (pipline in one note, pipeline in twelve: パイプライン is pipeline)."""
    best = max(score for score, _, _ in scored)
    close = [(used.get(word, 0), spelling, word) for score, spelling, word in scored if score >= best - 0.1]
    _, spelling, word = max(close)
    return spelling, word


class Cooccurrence:
    """Which aligned units hold each term, to ask how often two terms meet."""

    def __init__(self, units: Sequence[tuple[frozenset[str], frozenset[str]]]) -> None:
        self.ja: dict[str, set[int]] = defaultdict(set)
        self.en: dict[str, set[int]] = defaultdict(set)
        for n, (ja, en) in enumerate(units):
            for term in ja:
                self.ja[term].add(n)
            for word in en:
                self.en[word].add(n)

    def dice(self, term: str, stem: str) -> float | None:
        """Dice of a Japanese term ("構造 体" for a compound) and an English stem over the
        aligned units; None when the units do not hold both (no evidence either way)."""
        a, b = self.ja.get(term), self.en.get(stem)
        if not a or not b:
            return None
        return 2 * len(a & b) / (len(a) + len(b))


def katakana_terms(profiles: Iterable[Profile]) -> set[str]:
    """Katakana words of the Japanese profiles (3+ characters), with the katakana
    compounds MeCab split ("ゾル バックス"): a loanword it does not know comes apart.
    Names written in kanji whose lemma is their katakana reading are not loanwords."""
    return {term for p in profiles if p.lang == "ja" for section in p.sections for term in section
            if len(term) >= 3 and is_katakana(term.replace(" ", "")) and term not in p.not_loanwords}


def english_vocabulary(profiles: Iterable[Profile]) -> Counter:
    """English words of the English profiles and how many documents use each."""
    used: Counter = Counter()
    for profile in profiles:
        if profile.lang == "en":
            used.update({word for section in profile.sections for word in section})
    return used


def mine(
    profiles: Mapping[str, Profile], stem: Callable[[str], str] = str,
    units: Sequence[tuple[frozenset[str], frozenset[str]]] | None = None,
) -> list[Mined]:
    """Every mined pair of a corpus: associations over its aligned documents (English
    by stem, shown as the shortest word of the stem) and transliterations over its whole
    vocabulary (English words as written)."""
    vocabulary = english_vocabulary(profiles.values())
    shown: dict[str, str] = {}
    for word in sorted(vocabulary, key=lambda w: (len(w), w)):
        shown.setdefault(stem(word), word)
    units = aligned_units(profiles, stem) if units is None else units
    associated = [Mined(m.ja, shown.get(m.en, m.en), m.via, m.confidence) for m in associate(units)]
    return associated + transliterations(katakana_terms(profiles.values()), vocabulary, units, stem)
