"""casearch variants the code has no switch for yet, run as their own process.

    reindex-lean CORPUS INDEX [ENGINE]   a full reindex whose schema lacks the extra body
                                         fields (body_surface, body_reading, body_ngram):
                                         the difference to the real reindex is what those
                                         fields cost (ENGINE: whoosh, the default, or tantivy)

The variant drops the fields from the engines' shared field table in this process only
(both engines build their schema and documents from it), so the repository's code is
untouched. It prints the same summary line as ``casearch reindex``.
"""

from __future__ import annotations

import sys
from pathlib import Path

EXTRA_FIELDS = ("body_surface", "body_reading", "body_ngram")


def reindex_lean(corpus: Path, index: Path, engine: str = "whoosh") -> int:
    from casearch import index as index_mod
    from casearch.engines import base, whoosh_engine

    for name in EXTRA_FIELDS:
        base.TEXT_FIELDS.pop(name, None)
    whoosh_engine.EXTRA_BODY_FIELDS = ()  # its writer copies the body into these fields
    report = index_mod.reindex(corpus, index, full=True, engine=engine)
    print(report.summary())
    return 1 if report.skipped else 0


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4) or argv[0] != "reindex-lean":
        print(__doc__, file=sys.stderr)
        return 2
    return reindex_lean(Path(argv[1]), Path(argv[2]), *argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
