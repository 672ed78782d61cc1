"""English stemming: a lower-case English word -> the stem the index stores. No I/O.

Every English word is stemmed here, whether it stands in an English document, inside
Japanese text or in a query, and whatever stems it (the analyzer, the cross-lingual
bridge, the glossary, the mining of counterparts: they all go through ``analysis``):

    irregular   plurals that no suffix rule reaches, looked up first and stemmed as their
                singular (children -> child, analyses -> analysis, buses -> bus), and the
                few words the algorithm cuts into another word (important -/-> import)
    snowball    Snowball's English stemmer (Porter2) through PyStemmer, which is C:
                cooperating, cooperation and cooperate -> cooper; operating, operation
                -> oper; university -> universiti but universal -> universal; news stays
                news (Whoosh's old Porter stemmer made it new)

``tests/data/stem_pairs.tsv`` judges it on pairs that must and must not conflate;
``tests/test_stemming.py`` keeps it above a floor. A change of stemmer or of these tables
changes the indexed terms: bump ``analysis.ANALYSIS_VERSION``.
"""

from __future__ import annotations

import threading

import Stemmer

# Plural -> singular, for plurals Snowball leaves apart from their singular.
IRREGULAR_PLURALS = {
    "men": "man", "women": "woman", "children": "child", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "geese": "goose", "oxen": "ox", "analyses": "analysis", "crises": "crisis",
    "theses": "thesis", "hypotheses": "hypothesis", "diagnoses": "diagnosis", "syntheses": "synthesis",
    "emphases": "emphasis", "parentheses": "parenthesis", "criteria": "criterion",
    "phenomena": "phenomenon", "indices": "index", "matrices": "matrix", "vertices": "vertex",
    "appendices": "appendix", "nuclei": "nucleus", "stimuli": "stimulus", "radii": "radius",
    "fungi": "fungus", "cacti": "cactus", "curricula": "curriculum", "memoranda": "memorandum",
    "strata": "stratum", "wolves": "wolf", "knives": "knife", "halves": "half", "shelves": "shelf",
    "thieves": "thief", "wives": "wife", "loaves": "loaf", "calves": "calf",
    # -ses plurals of words that end in s (Snowball makes buses "buse", gases "gase")
    "buses": "bus", "gases": "gas", "campuses": "campus", "viruses": "virus", "bonuses": "bonus",
    "censuses": "census", "statuses": "status", "consensuses": "consensus", "atlases": "atlas",
    "canvases": "canvas", "aliases": "alias",
}

# Words Snowball stems into a different, common word (important -> import): their own stem.
KEPT_WHOLE = {
    "important": "important", "importance": "important", "importantly": "important",
}

_local = threading.local()


def _snowball() -> Stemmer.Stemmer:
    """This thread's stemmer (a PyStemmer instance must not be used by two threads)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def stem(word: str) -> str:
    """The stem of a lower-case English word.

    >>> [stem(w) for w in ("cooperating", "cooperation", "operate", "operating")]
    ['cooper', 'cooper', 'oper', 'oper']
    >>> stem("university") != stem("universal"), stem("children") == stem("child")
    (True, True)
    """
    kept = KEPT_WHOLE.get(word)
    if kept is not None:
        return kept
    return _snowball().stemWord(IRREGULAR_PLURALS.get(word, word))
