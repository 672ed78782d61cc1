"""Records: a ``Document`` -> the engine records that represent it in the index.

    passage_records     one record per passage (kind "passage"): the searchable text and
                        its token offsets (``offsets``), stored for marks and snippets, and
                        its Markdown structure (``layout``), stored for the page and snippets
    DocumentRecords     adds the passages through a writer one at a time, gathers the
                        document's bridge pairs from the tokens the indexer just produced
                        (analysis results are cached, so nothing is analyzed twice; only
                        pairs and term sets outlive a passage, never its tokens: memory
                        follows the passage, not the file; a file of many passages says
                        how far it is, ``passage_progress``), looks up dictionary
                        pairs for all documents of the run in one batch (building the
                        dictionary's look-up index first, aloud, if it is missing), and
                        writes two records per document: kind "doc" (path, digest:
                        small, read by every reindex) and kind "pairs" (its bridge pairs);
                        a third, kind "profile", holds its content terms per section for
                        mining (for Japanese, also the English words each section writes),
                        a fourth, kind "outline", each passage's place and length and the
                        headings (the document page cuts a long document into pages
                        from it, ``docpages``)
    mine (in finish)    the profiles of every document (this run's, and the index's for
                        the rest) -> mining.mine -> one "pairs" record of learned pairs
                        (associations over aligned documents, transliterations)
    glossary_record     the glossary's pairs (kind "glossary")
    synonyms_record     the user's synonym groups (kind "synonyms")

Keeping digests and pairs in the index itself means they commit atomically with the
postings they describe.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import analysis, bridge, layout, mining, offsets
from .corpus import Document, passages
from .synonyms import SYNONYMS_KIND, SYNONYMS_PID

DOC_KIND, PASSAGE_KIND, PAIRS_KIND, GLOSSARY_KIND = "doc", "passage", "pairs", "glossary"
PROFILE_KIND = "profile"
OUTLINE_KIND = "outline"
LEAD_DOC, LEAD_SECTION = "doc", "section"  # the ``lead`` keyword of a passage
GLOSSARY_PID = "glossary"
MINED_ID = "@mined"  # the doc_id of the learned pairs' record: no document has it
MINED_PID = f"pairs:{MINED_ID}"


def passage_records(document: Document) -> Iterator[dict]:
    """The records of a document's passages."""
    meta = {
        "title": document.title, "source": document.source, "url": document.url,
        "translations": list(document.translations),
        "source_title": document.meta.get("source_title"),
    }
    title = offsets.encode(document.title)  # the same on every passage: encoded once
    for passage in passages(document):
        yield {
            "pid": f"{document.doc_id}#s{passage.section}p{passage.part}",
            "kind": PASSAGE_KIND,
            "doc_id": document.doc_id,
            "lang": document.lang,
            "title": document.title,
            "section": passage.heading or "",
            "body": passage.text,
            "section_no": passage.section,
            "part": passage.part,
            "lead": _lead(passage.section, passage.part),
            "date": document.date or "",
            "meta": meta,
            "layout": layout.encode(passage.layout),
            "offsets": {
                "title": title, "section": offsets.encode(passage.heading or ""),
                "body": offsets.encode(passage.text),
            },
        }


def _lead(section: int, part: int) -> str:
    """What a passage opens: ``doc`` (the document's first passage, where a match in the
    title is listed), ``section`` (a section's first, for a match in the heading), or
    nothing."""
    if part != 1:
        return ""
    return LEAD_DOC if section == 1 else LEAD_SECTION


@dataclass
class _Pending:
    document: Document  # without its sections: only what the per-document records need
    pairs: list[bridge.Pair]
    profile: mining.Profile
    state: tuple[int, int] | None  # the file's size and mtime when read
    japanese: set[str] = field(default_factory=set)
    english: set[str] = field(default_factory=set)
    outline: dict = field(default_factory=dict)  # the document page's outline (``outline_record``)


PROGRESS_MIN_PASSAGES = 20  # a file of fewer passages takes about a second: no progress within it
PROGRESS_LINES = 100  # at most this many progress messages per file


def passage_progress(path: str, done: int, total: int) -> str | None:
    """The progress message after ``done`` of a file's ``total`` passages, or None: every
    passage of a file of up to PROGRESS_LINES passages, evenly spaced ones of a longer one.

    >>> passage_progress("big.md", 3, 40), passage_progress("big.md", 3, 1000)
    ('indexing big.md: passage 3/40', None)
    """
    if total < PROGRESS_MIN_PASSAGES:
        return None
    step = -(-total // PROGRESS_LINES)
    if done % step and done != total:
        return None
    return f"indexing {path}: passage {done}/{total}"


class _Gathering:
    """What one document's passages tell besides their postings (bridge pairs, dictionary
    candidates, the mining profile), gathered passage by passage: between passages only
    pairs and term sets are kept, never tokens, so memory follows the passage and the
    document's vocabulary, not its length."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.glosses: dict[tuple, bridge.Pair] = {}
        self.brackets: dict[tuple, bridge.Pair] = {}
        self.japanese: set[str] = set()
        self.english: set[str] = set()
        self.profile = mining.ProfileBuilder(document.lang, document.translations)
        self.mining_seconds = 0.0
        self.outline: dict = {"passages": [], "headings": []}

    def add(self, record: dict) -> None:
        text = record["body"]
        tokens = analysis.analyze(text)  # cached: the writer has just analyzed this passage
        _keep(self.glosses, bridge.gloss_pairs(tokens))
        if self.document.lang == "ja":
            _keep(self.brackets, bridge.bracket_pairs(text))
        japanese, english = bridge.lookup_candidates(tokens)
        self.japanese |= japanese
        self.english |= english
        began = time.perf_counter()
        self.profile.add(record.get("section_no", 1), tokens)
        self.mining_seconds += time.perf_counter() - began
        section, part, heading = record.get("section_no", 1), record.get("part", 1), record.get("section") or ""
        self.outline["passages"].append([section, part, len(text) + len(heading)])
        if part == 1 and heading:
            self.outline["headings"].append([section, heading])

    def pending(self, state: tuple[int, int] | None) -> _Pending:
        pairs = list(self.glosses.values()) + list(self.brackets.values())
        summary = dataclasses.replace(self.document, sections=())
        return _Pending(summary, pairs, self.profile.build(), state, self.japanese, self.english, self.outline)


def _keep(found: dict[tuple, bridge.Pair], pairs: Iterable[bridge.Pair]) -> None:
    """As ``bridge.unique`` would keep them: the first place of a key, its last pair."""
    for pair in pairs:
        found[(pair.ja_terms, pair.en_terms, pair.source)] = pair


class DocumentRecords:
    """Writes documents through an engine writer; ``finish()`` before committing."""

    def __init__(
        self, writer, dictionary: Path | None, records=passage_records, say: Callable[[str], None] | None = None,
    ) -> None:
        self.writer = writer
        self.dictionary = dictionary
        self.records = records
        self.say = say or (lambda message: None)
        self.pending: list[_Pending] = []
        self.pairs_by_owner: dict[str, list[bridge.Pair]] = {}  # for ``bridgestore`` after the commit
        self.mining_seconds = 0.0  # time spent profiling and mining (the benchmark reports it)
        self.passages = 0  # passages this writer was given

    def add(self, document: Document, state: tuple[int, int] | None = None) -> None:
        """Each passage into the writer, one at a time (a long file says how far it is)."""
        total = len(passages(document))
        gathering = _Gathering(document)
        for done, record in enumerate(self.records(document), start=1):
            self.writer.add(record)
            self.passages += 1
            gathering.add(record)
            message = passage_progress(document.path, done, total)
            if message:
                self.say(message)
        self.mining_seconds += gathering.mining_seconds
        self.pending.append(gathering.pending(state))

    def finish(
        self, indexed: Callable[[], dict[str, mining.Profile]] | None = None, removed: Iterable[str] = (),
        previous: dict | None = None,
    ) -> None:
        """Dictionary look-ups for the whole batch (weighed by what the aligned documents
        say of each pair), the records of each document, then the learned pairs, mined
        over this run's documents and the ``indexed`` profiles of the others (less those
        ``removed``). An incremental run (``previous``: the learned pairs' record) mines
        again only once the documents changed since the last mining reach REMINE_SHARE
        of them: mining reads every profile, which a one-file change must not pay for."""
        removed = list(removed)
        if not self.pending and not removed:
            return
        began = time.perf_counter()
        changes = _changes_since_mining(previous) + len(self.pending) + len(removed)
        remine = previous is None or changes >= REMINE_SHARE * _documents_mined(previous)
        units = agreement = None
        if remine:
            profiles = dict(indexed() if indexed else {})
            for doc_id in removed:
                profiles.pop(doc_id, None)
            profiles.update({p.document.doc_id: p.profile for p in self.pending})
            units = mining.aligned_units(profiles, _stem)
            agreement = mining.Cooccurrence(units)
        self.mining_seconds += time.perf_counter() - began
        japanese = set().union(*(p.japanese for p in self.pending))
        english = set().union(*(p.english for p in self.pending))
        if english and self.dictionary is not None:
            _dictionary_ready(self.dictionary, self.say)
        found = bridge.dictionary_pairs(self.dictionary, japanese, english)
        if agreement is not None:
            found = [_weighed(pair, agreement) for pair in found]
        by_term: dict[str, list[int]] = {}  # looked-up word -> its pairs' places in found
        for place, pair in enumerate(found):
            by_term.setdefault(pair.ja, []).append(place)
            by_term.setdefault(pair.en.lower(), []).append(place)
        for pending in self.pending:
            places = {i for term in pending.japanese | pending.english for i in by_term.get(term, ())}
            mine = [found[i] for i in sorted(places)]
            self.writer.add(document_record(pending.document, pending.state))
            record = pairs_record(pending.document, pending.pairs + mine)
            self.writer.add(record)
            self.pairs_by_owner[pending.document.doc_id] = [bridge.Pair.from_stored(r) for r in record["meta"]["pairs"]]
            self.writer.add(profile_record(pending.document.doc_id, pending.profile))
            self.writer.add(outline_record(pending.document, pending.outline))
        if remine:
            self._mine(profiles, units)
        else:  # the learned pairs stay; count this run towards the next mining
            self.writer.delete_pid(MINED_PID)
            self.writer.add({**previous, "meta": {**(previous.get("meta") or {}), "changes": changes}})
        self.pending = []

    def _mine(self, profiles: dict[str, mining.Profile], units) -> None:
        """Learned pairs over every document's profile: this run's, and the index's for
        documents this run did not touch."""
        began = time.perf_counter()
        learned = [pair for m in mining.mine(profiles, _stem, units) if (pair := learned_pair(m))]
        self.writer.delete_pid(MINED_PID)
        self.writer.add({"pid": MINED_PID, "kind": PAIRS_KIND, "doc_id": MINED_ID,
                         "meta": {"pairs": [p.stored() for p in learned], "documents": len(profiles), "changes": 0}})
        self.pairs_by_owner[MINED_ID] = learned
        self.mining_seconds += time.perf_counter() - began


REMINE_SHARE = 0.05  # share of the documents that must change before an incremental run mines again


def _changes_since_mining(previous: dict | None) -> int:
    return int(((previous or {}).get("meta") or {}).get("changes") or 0)


def _documents_mined(previous: dict) -> int:
    return int((previous.get("meta") or {}).get("documents") or 0)


def indexed_profiles(reader) -> dict[str, mining.Profile]:
    """The profiles committed in an index (read before an incremental run mines)."""
    profiles: dict[str, mining.Profile] = {}
    for fields in reader.records(PROFILE_KIND):
        stored = fields.get("meta") or {}
        profiles[fields["doc_id"]] = mining.Profile(
            stored.get("lang", ""), tuple(stored.get("translations", ())),
            tuple(tuple(section) for section in stored.get("sections", ())),
            tuple(tuple(section) for section in stored.get("shared", ())),
            tuple(stored.get("not_loanwords", ())))
    return profiles


def _dictionary_ready(db: Path, say: Callable[[str], None]) -> None:
    """The dictionary's derived index, built aloud before the look-ups need it: English
    words are looked up through it, and a build inside the look-ups would be 20-25
    silent seconds (``casearch prepare`` builds it ahead; see ``jmdict.prepare``)."""
    from .jmdict.prepare import prepare_index

    try:
        prepared = prepare_index(db, say=say)
    except (OSError, sqlite3.Error, RuntimeError, KeyError) as exc:  # RuntimeError, KeyError: no home folder
        say(f"the dictionary look-up index cannot be built ({exc}): English words are looked up the slow way")
        return
    if prepared.built:
        say(prepared.summary())


def _weighed(pair: bridge.Pair, agreement: mining.Cooccurrence) -> bridge.Pair:
    """A dictionary pair's confidence scaled by how far the aligned documents agree with
    it: x(0.5 + Dice of its two terms over the aligned units), x1 without evidence,
    at most 1 (宣言 and declaration meet in the same sections; 声明 and it do not)."""
    dice = None
    if len(pair.en_terms) == 1:
        dice = agreement.dice(" ".join(pair.ja_terms), pair.en_terms[0])
    factor = 1.0 if dice is None else 0.5 + dice
    return dataclasses.replace(pair, confidence=round(min(1.0, pair.confidence * factor), 3))


def _stem(word: str) -> str:
    stems = bridge.english_terms(word)
    return stems[0] if len(stems) == 1 else word


def learned_pair(mined: mining.Mined) -> bridge.Pair | None:
    """A mined pair as a bridge pair: the Japanese side holds index terms ("構造 体")."""
    ja_terms = tuple(mined.ja.split(" "))
    en_terms = bridge.english_terms(mined.en)
    if not en_terms:
        return None
    return bridge.Pair("".join(ja_terms), mined.en, mined.via, ja_terms, en_terms, mined.confidence)


def profile_record(doc_id: str, profile: mining.Profile) -> dict:
    """A document's content terms per section, read back by later reindex runs to mine."""
    return {
        "pid": f"profile:{doc_id}",
        "kind": PROFILE_KIND,
        "doc_id": doc_id,
        "meta": {"lang": profile.lang, "translations": list(profile.translations),
                 "sections": [list(section) for section in profile.sections],
                 "shared": [list(section) for section in profile.shared],
                 "not_loanwords": list(profile.not_loanwords)},
    }


def outline_record(document: Document, outline: dict) -> dict:
    """Where each passage sits and how long it is (``[section, part, characters]``, its
    heading counted), and the sections' headings: what the document page needs to cut a
    long document into pages without reading its passages."""
    return {"pid": f"outline:{document.doc_id}", "kind": OUTLINE_KIND, "doc_id": document.doc_id, "meta": outline}


def document_record(document: Document, state: tuple[int, int] | None = None) -> dict:
    """Small on purpose: every reindex reads the digests of all documents. ``state`` is
    the file's (size, mtime) when it was read: an unchanged pair means an unchanged file."""
    return {
        "pid": f"doc:{document.doc_id}",
        "kind": DOC_KIND,
        "doc_id": document.doc_id,
        "path": document.path,
        "digest": document.digest,
        "lang": document.lang,
        "meta": {"title": document.title, "translations": list(document.translations),
                 "state": list(state) if state else None},
    }


def pairs_record(document: Document, pairs: list[bridge.Pair]) -> dict:
    """The document's bridge pairs, read when a search loads the bridge."""
    return {
        "pid": f"pairs:{document.doc_id}",
        "kind": PAIRS_KIND,
        "doc_id": document.doc_id,
        "meta": {"pairs": [p.stored() for p in bridge.unique(pairs)]},
    }


def synonyms_record(groups: list[list[str]], digest: str) -> dict:
    """The user's synonym groups (``corpus/_synonyms.tsv``, see ``synonyms``)."""
    return {"pid": SYNONYMS_PID, "kind": SYNONYMS_KIND, "digest": digest, "meta": {"groups": groups}}


def glossary_record(pairs: list[bridge.Pair], digest: str) -> dict:
    return {
        "pid": GLOSSARY_PID, "kind": GLOSSARY_KIND, "digest": digest,
        "meta": {"pairs": [p.stored() for p in pairs]},
    }
