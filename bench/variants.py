"""casearch variants the code has no switch for yet, run as their own process.

    reindex-lean CORPUS INDEX   a full reindex whose schema lacks the extra body fields
                                (body_surface, body_reading, body_ngram): the difference
                                to the real reindex is what those fields cost

The variant patches ``casearch.index`` in this process only (schema and records), so the
repository's code is untouched. It prints the same summary line as ``casearch reindex``.
"""

from __future__ import annotations

import sys
from pathlib import Path

EXTRA_FIELDS = ("body_surface", "body_reading", "body_ngram")


def reindex_lean(corpus: Path, index: Path) -> int:
    from casearch import index as index_mod

    real_schema, real_records = index_mod.build_schema, index_mod.passage_records

    def lean_schema():
        schema = real_schema()
        for name in EXTRA_FIELDS:
            if name in schema.names():
                schema.remove(name)
        return schema

    def lean_records(*args, **kwargs):
        for record in real_records(*args, **kwargs):
            yield {k: v for k, v in record.items() if k not in EXTRA_FIELDS}

    index_mod.build_schema = lean_schema
    index_mod.passage_records = lean_records
    report = index_mod.reindex(corpus, index, full=True)
    print(report.summary())
    return 1 if report.skipped else 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "reindex-lean":
        print(__doc__, file=sys.stderr)
        return 2
    return reindex_lean(Path(argv[1]), Path(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
