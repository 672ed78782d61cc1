"""One very large Japanese file: index time, peak memory, silence on stderr, document page.

    python bench/big_file.py [--mb 5] [--small-kb 500] [--sections 60] [--runs 3] [--json]
                             [--keep DIR] [--src PATH ...]

Run it with the project's interpreter (``.venv/bin/python``): the checkout's ``src/`` is
what runs, each measurement in a process of its own. ``--src`` (repeatable) names other
source folders to measure in the same run, interleaved file by file with the others, so
that a before/after comparison shares the machine's load: ``git archive REV | tar -x -C
/tmp/before`` then ``--src /tmp/before/src --src src``.

Steps:

1. ``make_document`` writes a Japanese Markdown document of our own sentences (subjects,
   places, objects and predicates combined by a seeded random generator, so the text is
   the same on every run and has a realistic spread of words): ``--mb`` megabytes of
   UTF-8 in ``--sections`` ``##`` sections. One word, ``MARKER``, appears in one paragraph
   of a section near the end only: the query whose hit the document page must show.
   The same generator writes the reference file of ``--small-kb`` kilobytes.
2. Three corpora, each indexed by ``casearch reindex --full`` in a new process: the
   repository's article (``corpus/``), the reference file, the big file. Measured per
   run: wall time, the child's peak RSS (``os.wait4``: its own, not the largest child's
   so far), the longest stretch without a line on stderr (what a user watching the
   progress sees), and the number of progress lines.
3. The document page, in a new process per index: the app (Flask test client, no
   server) answers ``/search?q=MARKER``; the first hit's section link on that page is
   followed as a browser would (redirects included), ``--runs`` times; the median time and the page's
   size are reported, for the article with one of its own words.

Figures are printed as ratios to the reference file (big / reference: the file is 10x
larger, so 10x is linear time; 1x memory is memory bounded by passage), and to the article.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKER = "ハヤブサ運河"  # appears in one section of the generated document only
ARTICLE_QUERY = "パイプライン"

# --- the generated document -------------------------------------------------------------

_PLACES = ["北の港町", "山あいの村", "川沿いの市場", "古い駅前", "海辺の工場地帯", "高原の研究所",
           "島の漁港", "県境の峠", "大学の図書館", "郊外の住宅地", "城下町の商店街", "湖畔の発電所"]
_PEOPLE = ["市の職員", "若い技術者", "地元の農家", "鉄道会社の担当者", "研究チーム", "商店会の会長",
           "小学校の先生", "港湾局の係員", "ボランティアの学生", "気象台の観測員", "漁業組合", "町の記者"]
_THINGS = ["貨物列車の時刻表", "新しい水道管", "太陽光パネル", "古い倉庫の屋根", "観測データ",
           "ソフトウェアの設定ファイル", "地域の歴史資料", "避難経路の地図", "パイプラインの点検記録",
           "バスの路線図", "風力タービン", "図書の目録", "電力網の計画書", "港のクレーン"]
_ACTIONS = ["を丁寧に見直しました", "を半年かけて調べました", "について住民に説明しました",
            "を更新する計画を立てました", "の改善案をまとめました", "を毎朝確認しています",
            "を他の地域と比べました", "の費用を見積もりました", "を次の会議で報告する予定です",
            "に関する記録を整理しました", "を安全のために交換しました", "の使い方を説明しました"]
_TIMES = ["{n}年の春", "{n}年の秋", "先月", "昨年の冬", "{n}月の終わり", "この{n}日間", "週末"]
_REASONS = ["利用者が増えたため", "古い設備が傷んでいたため", "台風の被害を受けて",
            "国の補助金が決まったので", "住民から要望が寄せられたことから", "費用を抑える必要があったので"]
_ENGLISH = [("送電網", "power grid"), ("貨物輸送", "freight transport"), ("水資源", "water resources"),
            ("防災計画", "disaster planning"), ("地域経済", "regional economy")]
_TOPICS = ["交通", "エネルギー", "水道", "防災", "教育", "産業", "観光", "農業", "記録", "通信"]


def _sentence(rng: random.Random) -> str:
    when = rng.choice(_TIMES).format(n=rng.randint(1, 30))
    parts = [f"{when}、{rng.choice(_PLACES)}で{rng.choice(_PEOPLE)}が{rng.choice(_THINGS)}{rng.choice(_ACTIONS)}。"]
    if rng.random() < 0.4:
        parts.append(f"{rng.choice(_REASONS)}、作業は{rng.randint(2, 900)}件にのぼりました。")
    if rng.random() < 0.1:
        japanese, english = rng.choice(_ENGLISH)
        parts.append(f"担当者は{japanese}({english})の重要性を強調しました。")
    return "".join(parts)


def _paragraph(rng: random.Random) -> str:
    return "".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def make_document(target: Path, size_bytes: int, sections: int, seed: int = 7) -> Path:
    """A Japanese Markdown document of about ``size_bytes`` in ``sections`` sections;
    MARKER in one paragraph of the section three from the end (of the last, if fewer)."""
    rng = random.Random(seed)
    head = f"---\ntitle: 大きな文書 {size_bytes // 1000} KB\nlang: ja\n---\n\n{_paragraph(rng)}\n"
    per_section = max(1, (size_bytes - len(head.encode())) // sections)
    marked = max(1, sections - 3)
    chunks = [head]
    for number in range(1, sections + 1):
        text = [f"\n## 第{number}章 {_TOPICS[number % len(_TOPICS)]}の記録\n"]
        size = len(text[0].encode())
        while size < per_section:
            paragraph = _paragraph(rng)
            text.append(f"\n{paragraph}\n")
            size += len(paragraph.encode()) + 2
        if number == marked:
            text.insert(len(text) // 2, f"\n{MARKER}の水門は、{_paragraph(rng)}\n")
        chunks += text
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(chunks), encoding="utf-8")
    return target


# --- measurements ------------------------------------------------------------------------


@dataclass
class IndexRun:
    seconds: float
    peak_rss_mib: float
    longest_silence_s: float  # longest stretch with no line on stderr
    progress_lines: int
    passages: int


@dataclass
class PageRun:
    median_ms: float
    page_bytes: int
    href: str


def _casearch() -> list[str]:
    return [sys.executable, "-c", "import sys; from casearch.cli import main; sys.exit(main())"]


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    env["CASEARCH_ENGINE"] = env.get("CASEARCH_ENGINE", "whoosh")
    return env


def index_once(corpus: Path, index: Path, src: Path) -> IndexRun:
    """``casearch reindex --full`` in a new process: wall time, the process's own peak
    RSS, and the longest pause between its stderr lines."""
    shutil.rmtree(index, ignore_errors=True)
    began = time.perf_counter()
    child = subprocess.Popen(
        _casearch() + ["reindex", "--full", "--corpus", str(corpus), "--index", str(index)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(src),
    )
    stamps: list[float] = []
    reader = threading.Thread(target=lambda: [stamps.append(time.perf_counter()) for _ in child.stderr])
    reader.start()
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    reader.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"reindex of {corpus} failed (exit {child.returncode}): {out}")
    edges = [began, *stamps, began + seconds]
    silence = max(b - a for a, b in zip(edges, edges[1:]))
    passages = int(out.split(";")[1].split()[0]) if ";" in out else 0
    return IndexRun(round(seconds, 2), round(usage.ru_maxrss / 1024, 1), round(silence, 2), len(stamps), passages)


_PAGE = r"""
import json, re, statistics, sys, time, html
from casearch.web import create_app
index, query, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
client = create_app({"INDEX_DIR": index, "TESTING": True}).test_client()
results = client.get("/search", query_string={"q": query, "ui": "ja"}).get_data(as_text=True)
href = html.unescape(re.search(r'class="hit-section"><a href="(/doc/[^"]+)"', results).group(1))
times, size = [], 0
for _ in range(runs + 1):  # the first opens the index and loads templates: not counted
    began = time.perf_counter()
    page = client.get(href.split("#")[0], follow_redirects=True)
    times.append(time.perf_counter() - began)
    assert page.status_code == 200, page.status_code
    size = len(page.get_data())
print(json.dumps({"median_ms": round(statistics.median(times[1:]) * 1000, 1), "page_bytes": size, "href": href}))
"""


def page_once(index: Path, query: str, runs: int, src: Path) -> PageRun:
    done = subprocess.run(
        [sys.executable, "-c", _PAGE, str(index), query, str(runs)],
        capture_output=True, text=True, env=_env(src), check=True, timeout=1800,
    )
    return PageRun(**json.loads(done.stdout.strip().splitlines()[-1]))


# --- the run -------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def report(rows: dict[tuple[str, str], tuple[int, IndexRun, PageRun]]) -> str:
    lines = [
        "| source | file | bytes | passages | index s | ÷ ref | ÷ article | peak RSS MiB | ÷ ref | longest silence s "
        "| progress lines | page ms | ÷ ref | ÷ article | page bytes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (src, name), (size, run, page) in sorted(rows.items(), key=lambda item: item[0][0]):
        ref, art = rows[(src, "reference")], rows[(src, "article")]
        lines.append(
            f"| {src} | {name} | {size:,} | {run.passages:,} | {run.seconds} | {_ratio(run.seconds, ref[1].seconds)} "
            f"| {_ratio(run.seconds, art[1].seconds)} | {run.peak_rss_mib} | {_ratio(run.peak_rss_mib, ref[1].peak_rss_mib)} "
            f"| {run.longest_silence_s} | {run.progress_lines} | {page.median_ms} | {_ratio(page.median_ms, ref[2].median_ms)} "
            f"| {_ratio(page.median_ms, art[2].median_ms)} | {page.page_bytes:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=5.0, help="size of the big file in MB")
    parser.add_argument("--small-kb", type=int, default=500, help="size of the reference file in KB")
    parser.add_argument("--sections", type=int, default=60, help="sections of the big file")
    parser.add_argument("--runs", type=int, default=3, help="timed document page requests")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--src", type=Path, action="append", help="source folder to measure (repeatable)")
    args = parser.parse_args(argv)
    sources = [path.resolve() for path in args.src or [REPO / "src"]]
    work = args.keep or Path(tempfile.mkdtemp(prefix="casearch-bigfile-"))
    try:
        big_sections = args.sections
        small_sections = max(1, round(args.sections * args.small_kb / (args.mb * 1000)))
        corpora = {
            "article": (REPO / "corpus", ARTICLE_QUERY),
            "reference": (make_document(work / "small" / "bench" / "big.md", args.small_kb * 1000, small_sections).parents[1], MARKER),
            "big": (make_document(work / "big" / "bench" / "big.md", int(args.mb * 1_000_000), big_sections).parents[1], MARKER),
        }
        rows: dict[tuple[str, str], tuple[int, IndexRun, PageRun]] = {}
        for name, (corpus, query) in corpora.items():
            size = sum(p.stat().st_size for p in corpus.rglob("*.md"))
            for src in sources:
                index = work / f"index-{name}"
                run = index_once(corpus, index, src)
                page = page_once(index, query, args.runs, src)
                rows[(str(src), name)] = (size, run, page)
                print(f"{src} {name}: {run} {page}", file=sys.stderr)
        if args.json:
            print(json.dumps([{"src": src, "file": name, "bytes": s, "index": asdict(r), "page": asdict(p)}
                              for (src, name), (s, r, p) in rows.items()], ensure_ascii=False, indent=1))
        else:
            print(report(rows))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
