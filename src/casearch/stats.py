"""What is in an index: documents, passages and languages, size on disk, top words.

``casearch stats`` prints this; it reads the serving generation through one reader, of
whichever engine built it, and reports what is searchable now:

    live passages (stored records) -> documents and languages; each passage's stored
        offsets -> the words of its surface field -> vocabulary and top words, ranked
        by the passages that hold them, particles and stop words left out
    the engine's lexicon and deleted records -> what an incremental reindex left on disk
        for deleted documents (``deleted_records``, ``stale_words``): segments keep them
        until a merge; reindex --full drops them. Their bytes are not known apart (a
        deleted record is only marked), so no size is claimed for them

An engine's own word counts are not used: they still count deleted documents.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import analysis
from .engines.base import PASSAGE, Reader
from .index import engine_of, read_current
from .search import Engine, stored_offsets
from .suggest import VOCABULARY_FIELD, display_form, is_word

CANDIDATES_PER_TOP_TERM = 8  # most frequent terms looked at per term shown (stop words drop out)


@dataclass
class IndexStats:
    index_dir: str
    generation: str | None
    format: str | None
    documents: int
    passages: int
    languages: dict[str, dict[str, int]]  # lang -> {"documents": n, "passages": m}
    size_bytes: int  # the whole index folder
    serving_bytes: int  # the serving generation alone
    vocabulary: int  # distinct words of live passages
    top_terms: list[dict[str, object]] = field(default_factory=list)  # [{"term", "passages"}]
    deleted_records: int = 0  # records of deleted documents still in the segments
    stale_words: int = 0  # words the engine's lexicon holds only for deleted documents

    def to_json(self) -> dict:
        return asdict(self)


def folder_bytes(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except OSError:  # removed while we walk (a concurrent reindex cleaning up)
                continue
    return total


def index_stats(index_dir: Path, top: int = 20) -> IndexStats:
    index_dir = Path(index_dir)
    current = read_current(index_dir) or {}
    engine = Engine(index_dir, engine_of(current))
    with engine.reader() as reader:
        languages: dict[str, dict[str, int]] = {}
        documents: dict[str, set[str]] = {}
        words: Counter[str] = Counter()
        passages = 0
        for stored in reader.records(PASSAGE):
            passages += 1
            lang = stored.get("lang") or "?"
            counts = languages.setdefault(lang, {"documents": 0, "passages": 0})
            counts["passages"] += 1
            documents.setdefault(lang, set()).add(stored["doc_id"])
            words.update(stored_offsets(stored, "body").surface_forms())
        for lang, ids in documents.items():
            languages[lang]["documents"] = len(ids)
        top_terms = _top_terms(reader, words, top)
        stale = sum(1 for word, _ in reader.vocabulary(VOCABULARY_FIELD) if word not in words)
        deleted = reader.deleted_records()
    name = current.get("name")
    serving_bytes = folder_bytes(index_dir / name) if name else 0
    return IndexStats(
        index_dir=str(index_dir), generation=name, format=current.get("format"),
        documents=len({doc for ids in documents.values() for doc in ids}), passages=passages,
        languages=dict(sorted(languages.items())), size_bytes=folder_bytes(index_dir),
        serving_bytes=serving_bytes, vocabulary=len(words), top_terms=top_terms,
        deleted_records=deleted, stale_words=stale,
    )


def _top_terms(reader: Reader, words: Counter[str], top: int) -> list[dict[str, object]]:
    """The ``top`` content words by live passages, as the corpus writes them."""
    keep = max(top * CANDIDATES_PER_TOP_TERM, 50)
    ranked = sorted(words.items(), key=lambda item: (-item[1], item[0]))[:keep]
    chosen = [(word, docs) for word, docs in ranked if _is_content_word(word)][:top]
    return [{"term": display_form(reader, VOCABULARY_FIELD, word), "passages": docs} for word, docs in chosen]


def _is_content_word(word: str) -> bool:
    """Not a particle, an inflection ending (まし), a one-character suffix (年, 的)."""
    if not is_word(word) or len(word) < 2 or all("\u3041" <= c <= "\u309f" for c in word):
        return False
    tokens = [t for t in analysis.analyze(word) if t.indexed]
    return bool(tokens) and not any(t.stop for t in tokens)
