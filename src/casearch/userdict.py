"""User dictionary: ``corpus/_userdict.csv`` -> a compiled MeCab user dictionary.

    read_entries   lines of ``surface,reading,part of speech`` (reading in kana; part of
                   speech 名詞, 固有名詞, 人名, 地名 or 組織名; '#' starts a comment)
    compile_to     UniDic feature rows -> mecab-dict-index (run in a child process so its
                   progress output never reaches our stdout) -> ``user.dic``

The compiled file lives in the index generation it was built for; the analyzer loads it
through ``analysis.user_dictionary``. A changed dictionary changes how every text is
split, so the index module rebuilds everything when the file's digest changes.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import CasearchError
from .textnorm import to_katakana

FILE_NAME = "_userdict.csv"
COMPILED_NAME = "user.dic"

_POS = {
    "名詞": ("名詞", "普通名詞", "一般", "*"),
    "普通名詞": ("名詞", "普通名詞", "一般", "*"),
    "固有名詞": ("名詞", "固有名詞", "一般", "*"),
    "組織名": ("名詞", "固有名詞", "一般", "*"),
    "人名": ("名詞", "固有名詞", "人名", "一般"),
    "地名": ("名詞", "固有名詞", "地名", "一般"),
}
_COST = 2000  # low enough to beat splitting the word into known pieces


@dataclass(frozen=True)
class Entry:
    surface: str
    reading: str
    pos: tuple[str, str, str, str]


def read_entries(text: str) -> tuple[list[Entry], list[str]]:
    """Entries and one message per line that could not be used.

    >>> read_entries("シムケント,シムケント,地名\\nbad line\\n")[0][0].pos
    ('名詞', '固有名詞', '地名', '一般')
    """
    entries: list[Entry] = []
    problems: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if len(cells) < 2 or not cells[0]:
            problems.append(f"{FILE_NAME} line {number}: expected 'surface,reading,part of speech'")
            continue
        reading = to_katakana(cells[1]) or cells[0]
        pos_name = cells[2] if len(cells) > 2 and cells[2] else "名詞"
        pos = _POS.get(pos_name.split(",")[-1])
        if pos is None:
            problems.append(f"{FILE_NAME} line {number}: unknown part of speech {pos_name!r}")
            continue
        entries.append(Entry(cells[0], reading, pos))
    return entries, problems


def compile_to(entries: list[Entry], target: Path) -> None:
    """Write ``target`` (a MeCab user dictionary) from ``entries``."""
    import unidic_lite

    dicdir = Path(unidic_lite.DICDIR)
    ids = _context_ids(dicdir / "left-id.def")
    source = target.with_suffix(".csv")
    with open(source, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for entry in entries:
            context = ids.get(",".join(entry.pos) + ",*,*,*,*,*")
            if context is None:
                raise CasearchError(f"{FILE_NAME}: the dictionary has no class for {entry.pos}")
            writer.writerow([entry.surface, context, context, _COST, *_features(entry)])
    command = (
        "import fugashi, sys; fugashi.build_dictionary(sys.argv[1])"
    )
    args = f'mecab-dict-index -d "{dicdir}" -u "{target}" -f utf-8 -t utf-8 "{source}"'
    done = subprocess.run([sys.executable, "-c", command, args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not target.exists():
        raise CasearchError(f"{FILE_NAME} could not be compiled: {done.stderr.strip()[-300:]}")


def _context_ids(path: Path) -> dict[str, int]:
    ids: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        number, _, features = line.partition(" ")
        ids.setdefault(features, int(number))
    return ids


def _features(entry: Entry) -> list[str]:
    """The 26 UniDic features; the surface doubles as lemma and written forms."""
    s, r = entry.surface, entry.reading
    goshu = "固" if entry.pos[1] == "固有名詞" else "*"
    return [*entry.pos, "*", "*", r, s, s, r, s, r, goshu, "*", "*", "*", "*", r, r, r, r, "*", "*", "0", "*", "*"]
