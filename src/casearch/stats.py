"""What is in an index: documents, passages and languages, size on disk, top words.

``casearch stats`` prints this; it reads the serving generation through one reader, of
whichever engine built it.
Top words come from the unstemmed vocabulary (as ``suggest`` uses it), ranked by the
number of passages that hold them, particles and stop words left out.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import analysis
from .engines.base import PASSAGE, Reader
from .index import engine_of, read_current
from .search import Engine
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
    vocabulary: int  # distinct words
    top_terms: list[dict[str, object]] = field(default_factory=list)  # [{"term", "passages"}]

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
        passages = 0
        for stored in reader.records(PASSAGE):
            passages += 1
            lang = stored.get("lang") or "?"
            counts = languages.setdefault(lang, {"documents": 0, "passages": 0})
            counts["passages"] += 1
            documents.setdefault(lang, set()).add(stored["doc_id"])
        for lang, ids in documents.items():
            languages[lang]["documents"] = len(ids)
        vocabulary, top_terms = _vocabulary(reader, VOCABULARY_FIELD, top)
    name = current.get("name")
    return IndexStats(
        index_dir=str(index_dir), generation=name, format=current.get("format"),
        documents=len({doc for ids in documents.values() for doc in ids}), passages=passages,
        languages=dict(sorted(languages.items())), size_bytes=folder_bytes(index_dir),
        serving_bytes=folder_bytes(index_dir / name) if name else 0,
        vocabulary=vocabulary, top_terms=top_terms,
    )


def _vocabulary(reader: Reader, fieldname: str, top: int) -> tuple[int, list[dict[str, object]]]:
    """Number of distinct words, and the ``top`` content words by passages."""
    count = 0
    heap: list[tuple[int, str]] = []
    keep = max(top * CANDIDATES_PER_TOP_TERM, 50)
    for word, docs in reader.vocabulary(fieldname):
        count += 1
        item = (docs, word)
        if len(heap) < keep:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)
    ranked = sorted(heap, key=lambda item: (-item[0], item[1]))
    words = [(word, docs) for docs, word in ranked if _is_content_word(word)][:top]
    return count, [{"term": display_form(reader, fieldname, word), "passages": docs} for word, docs in words]


def _is_content_word(word: str) -> bool:
    """Not a particle, an inflection ending (まし), a one-character suffix (年, 的)."""
    if not is_word(word) or len(word) < 2 or all("\u3041" <= c <= "\u309f" for c in word):
        return False
    tokens = [t for t in analysis.analyze(word) if t.indexed]
    return bool(tokens) and not any(t.stop for t in tokens)
