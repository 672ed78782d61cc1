"""Synonyms: words that should find each other, within a language or across both.

Two sources, both part of the expanded query (``cross=1``): their matches rank below
the words as typed, and a hit they find says ``via: synonym``.

    user     ``corpus/_synonyms.tsv``: one group a line, its words separated by tabs
             (``#`` starts a comment line). ``read_groups`` parses it at reindex time;
             the groups are stored in the index (a record of kind ``synonyms``), so a
             changed file is served with the next commit, like the glossary.
    bridge   Japanese -> English -> Japanese, built by ``querylang`` from the bridge: a
             Japanese word's English counterparts lead to the Japanese words of the index
             that share them (首脳会議 -> summit -> サミット).

A group member is matched by its content terms as the analysis indexes them (base forms,
English stems), so ``Summit`` and ``summits`` are the same member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from . import analysis

FILE_NAME = "_synonyms.tsv"
SYNONYMS_KIND = "synonyms"
SYNONYMS_PID = "synonyms"
MAX_GROUP = 20  # words of one group that a query word can bring in


@dataclass(frozen=True)
class Member:
    written: str
    terms: tuple[str, ...]  # searched as a phrase of base forms / stems


def terms_of(written: str) -> tuple[str, ...]:
    """A word's content terms as the index holds them.

    >>> terms_of("Summits"), terms_of("首脳会議")
    (('summit',), ('首脳', '会議'))
    """
    return tuple(t.term for t in analysis.analyze(written) if t.indexed and not t.stop)


def read_groups(text: str) -> tuple[list[list[str]], list[str]]:
    """The groups of ``_synonyms.tsv`` (two words or more each) and one message per bad
    line."""
    groups: list[list[str]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        words = list(dict.fromkeys(cell.strip() for cell in line.split("\t") if cell.strip()))
        searchable = [w for w in words if terms_of(w)]
        if len(searchable) < 2:
            problems.append(f"{FILE_NAME} line {number}: expected two or more words separated by tabs")
            continue
        groups.append(searchable)
    return groups, problems


class Synonyms:
    """The user's groups, looked up by a query word's content terms."""

    def __init__(self, groups: Iterable[Sequence[str]]) -> None:
        self._members: dict[tuple[str, ...], list[Member]] = {}
        for group in groups:
            members = [Member(word, terms_of(word)) for word in group]
            for member in members:
                others = self._members.setdefault(member.terms, [])
                others += [m for m in members if m.terms != member.terms and m not in others]

    def of(self, terms: tuple[str, ...]) -> list[Member]:
        """The other words of every group this word is in."""
        return self._members.get(terms, [])[:MAX_GROUP]

    def __len__(self) -> int:
        return len(self._members)
